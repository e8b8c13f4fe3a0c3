"""What a configuration key may hold, declared beside it in the table dataclasses: number
ranges, text limits, file names and secrets; and `ConfigError`, the one-line error."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cockpit.domain import MAX_CADENCE_MINUTES, TextLimit


class ConfigError(Exception):
    """A configuration problem, as one line a person can act on."""


@dataclass(frozen=True)
class Bounds:
    """The values a number may take, and what it counts (for the message)."""

    low: float
    high: float
    unit: str

    def check(self, value: float, key: str, where: str) -> None:
        if not self.low <= value <= self.high:  # also refuses nan
            raise ConfigError(
                f"{where}: {key}: expected {self.unit} from {self.low:,} to {self.high:,}, "
                f"got {value!r}"
            )


def within(low: float, high: float, unit: str) -> dict[str, Any]:
    """Field metadata: every number the key holds must be in [low, high]."""
    return {"bounds": Bounds(low, high, unit)}


def text_limit(limit: TextLimit) -> dict[str, Any]:
    """Field metadata: the string (or each string of the list) fits `limit`."""
    return {"text": limit}


def file_name() -> dict[str, Any]:
    """Field metadata: a file or folder name (`~` expanded); checked when loading."""
    return {"path": True}


TIMEOUT = within(0.1, 300, "seconds")
CADENCE = within(1, MAX_CADENCE_MINUTES, "minutes")


SECRET = "secret"
"""Field metadata: how the field may hold a secret. `header`/`text`: the credential itself
(sent in an HTTP header / in a body or a signature); `url`: a URL that is a credential;
`endpoint`: a URL that may carry a user, password or query; `env`: the name of the variable
holding one (a secret is pasted there by mistake). None of them is ever in a `repr`."""


def secret_field(kind: str, default: str = "") -> Any:
    """A field that may hold a secret: left out of `repr` (tracebacks, logs, debuggers)."""
    return field(default=default, repr=False, metadata={SECRET: kind})
