"""What every delivery target implements, and the outcome vocabulary they share.

A target renders a message into a JSON payload when the update is published (so the preview
is exactly what is sent), and later sends that payload. Every send ends in one `Outcome`:

- `Sent(remote_id)`: the service has it.
- `Retry(reason, after, maybe_landed)`: try again; `after` is the service's own wait
  (Retry-After), otherwise the worker backs off; `maybe_landed` says the service may have
  acted on it (timeout after the request went out, 5xx, `internal_error`).
- `Permanent(error)`: retrying cannot help (bad token, unknown channel); shown with the
  service's own error until someone fixes the configuration and retries.

A target that can tell whether an earlier attempt landed sets `can_check` and implements
`find_previous`; the worker calls it before posting again when an attempt is in doubt.
Targets never touch the store directly: an `Attempt` gives them the remote references they
need, each written durably the moment it is learnt.

Besides published updates, a target may take incident events (declared, severity, status):
`render_event` turns one into deliveries, queued by the store's event hook in the same
transaction as the change (`cockpit.comms.events`). A target that only takes events (a pager)
sets `receives_updates = False`; one whose outcome belongs on the timeline returns a line
from `timeline_text`.
"""

from __future__ import annotations

import math
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from cockpit.comms.scrubber import Scrubber, scrubber
from cockpit.domain import Incident, Status, one_line, parse_utc
from cockpit.secrets import credential_problem, secret_url_parts, url_problem, url_secrets

if TYPE_CHECKING:
    import httpx

    from cockpit.store import IncidentEvent
    from cockpit.sync.entry import SyncEntry


@dataclass(frozen=True)
class Sent:
    remote_id: str | None = None
    note: str | None = None  # something worth showing although it was delivered


@dataclass(frozen=True)
class Retry:
    reason: str
    after: float | None = None
    maybe_landed: bool = False


@dataclass(frozen=True)
class Permanent:
    error: str


Outcome = Sent | Retry | Permanent
Found = str | Outcome | None
"""What `find_previous` learns: the remote id that landed, None if nothing did, or an
Outcome if the check itself failed."""


@dataclass(frozen=True)
class Message:
    """One published update as a target renders it."""

    incident: Incident
    text: str
    status: Status
    phase: str  # acknowledge, update, resolution
    at: datetime
    key: str  # unique per delivery; tags what we post so a retry can find it


@dataclass(frozen=True)
class Preview:
    """What a target will receive, for a person: a heading and the text as shown there."""

    target: str
    heading: str
    text: str


@dataclass(frozen=True)
class Carried:
    """The published update a delivery carries into the incident's Slack thread when team sync
    is on: its entry as every laptop shares it, so the thread shows the update once (the reply)
    and the other laptops import it from that message."""

    gid: str
    entry: SyncEntry


@dataclass(frozen=True)
class Newer:
    """A newer update (by the hybrid clock) published on another laptop for the same target:
    an older update sent after it must not move that target's status back."""

    uid: str
    author: str
    at: datetime


class Attempt(Protocol):
    """One delivery attempt, as a target sees it."""

    @property
    def payload(self) -> Mapping[str, Any]: ...

    @property
    def key(self) -> str: ...

    @property
    def remote_id(self) -> str | None: ...

    def now(self) -> datetime: ...

    def ref(self, name: str) -> str | None:
        """A remote id this incident already has at this target (root `ts`, incident id)."""

    def set_ref(self, name: str, value: str) -> None:
        """Remember a remote id; durable when this returns."""

    def landed(self, remote_id: str) -> None:
        """The post itself is done (durably noted); later steps may still be pending."""

    def carried(self) -> Carried | None:
        """The update's shared entry when team sync is on (None otherwise, or for an event)."""

    def in_thread(self, channel: str, ts: str) -> None:
        """The carried entry is in the incident's thread as message `ts`: team sync does not
        echo it again. Durable when this returns."""

    @property
    def superseded_by(self) -> Newer | None:
        """A newer update from another laptop for this target, if one exists."""


def landed_in(
    attempt: Attempt, ref: str, known: str | None, answer: Mapping[str, Any], service: str
) -> Outcome:
    """Sent into the remote incident `known`, or into the one this post created (its id, from
    the answer, kept as `ref` so later updates add to it). A created answer without an id may
    still have created it: Retry, maybe landed, so the retry looks before creating again."""
    if known is None:
        known = str(answer.get("id") or "")
        if not known:
            return Retry(f"{service}: the answer carried no {ref} id", maybe_landed=True)
        attempt.set_ref(ref, known)
    attempt.landed(known)
    return Sent(known)


class MissingSecret(Exception):
    """This process has no usable secret for a target: the variable its `*_env` key names is
    not set here, or the value cannot be sent. Another cockpit may have it, so deliveries wait
    for one that does; the message names the key, never a value."""

    def __init__(self, message: str, *, env: bool) -> None:
        super().__init__(message)
        self.env = env  # from the environment (True), or the file's literal (False)


@dataclass(frozen=True)
class Credential:
    """Where one secret of a target comes from: the variable `env_name` names (the file's
    `<key>_env`), else the literal `<key>` from the file. `header`: sent in an HTTP header
    (visible ASCII only); `url`: the secret is a whole URL (a Slack incoming webhook)."""

    key: str  # "slack.token": the file's key; its variable is named by "slack.token_env"
    literal: str = field(repr=False)  # never in a repr: a traceback or a log would show it
    env_name: str = field(repr=False)
    header: bool = False
    url: bool = False

    def lookup(self, env: Mapping[str, str] | None = None) -> str | None:
        """The value as configured, checked for nothing; None when it is not set here."""
        env = os.environ if env is None else env
        if self.env_name:
            return env.get(self.env_name, "").strip() or None
        return self.literal or None

    def value(self, env: Mapping[str, str] | None = None) -> str:
        """The secret, ready to send; MissingSecret (naming the key) when there is none."""
        where = f"{self.key}_env" if self.env_name else self.key
        what = f"{where}: the environment variable it names" if self.env_name else where
        found = self.lookup(env)
        if found is None:
            raise MissingSecret(f"{what} is not set", env=bool(self.env_name))
        problem = url_problem(found) if self.url else credential_problem(found, header=self.header)
        if problem:
            raise MissingSecret(f"{what} {problem}", env=bool(self.env_name))
        return found


class Target(ABC):
    """A service that receives status updates. Subclasses are small: render, describe, send."""

    name: ClassVar[str]
    can_check: ClassVar[bool] = False
    at_least_once: ClassVar[bool] = False  # cannot check: a retry after a timeout may repeat
    receives_updates: ClassVar[bool] = True  # False: incident events only (a pager)
    shared_refs: ClassVar[frozenset[str]] = frozenset()
    """Remote ids every laptop must use (the status-page incident): shared through the thread
    when team sync is on, so a teammate's update goes to the same one."""
    follows_status: ClassVar[bool] = False
    """A status page: it shows the latest update's status, so an update older than one another
    laptop published is not sent there (it would move the status back)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout

    @abstractmethod
    def render(self, message: Message) -> dict[str, Any]:
        """The JSON payload stored in the outbox (no secrets in it)."""

    @abstractmethod
    def describe(self, payload: Mapping[str, Any], *, continuing: bool) -> Preview:
        """A person's view of `payload`; `continuing` if this incident was sent here before."""

    def continuing_ref(self) -> str | None:
        """The remote id (a `remote_ref` key) whose presence means the incident already exists
        at the service, sent there by this laptop or, with team sync, by a teammate: the next
        update continues it (None: nothing to continue, each message stands alone)."""
        return min(self.shared_refs, default=None)

    @abstractmethod
    async def post(self, http: httpx.AsyncClient, attempt: Attempt) -> Outcome:
        """Deliver the payload, all steps, from whatever the attempt says is already done."""

    async def find_previous(self, http: httpx.AsyncClient, attempt: Attempt) -> Found:
        """Did an earlier attempt land? Its remote id, None if not, or an Outcome if the
        check itself failed. Only called when `can_check`."""
        raise NotImplementedError

    async def finish(self, http: httpx.AsyncClient, attempt: Attempt, remote_id: str) -> Outcome:
        """Steps after the post itself landed (Slack: refresh the root message)."""
        return Sent(remote_id)

    async def probe(self, http: httpx.AsyncClient) -> Outcome | None:
        """A harmless authenticated call for `cockpit doctor`: `Sent(note=what was checked)`
        if the service accepts our credentials, `Permanent(error)` if not, `Retry(reason)` if
        it cannot be reached; None when the service offers no such call."""
        return None

    def render_event(self, event: IncidentEvent) -> list[tuple[str, dict[str, Any]]]:
        """The (action, payload) deliveries an incident event queues here; pure, no I/O."""
        return []

    def timeline_text(
        self, action: str, payload: Mapping[str, Any], outcome: Outcome
    ) -> str | None:
        """A timeline line for a delivery that was sent or failed for good; None for none."""
        return None

    def credentials(self) -> list[Credential]:
        """Every secret this target sends, as configured."""
        return []

    def urls(self) -> list[str]:
        """The configured endpoints it calls (they may carry a user, password or query)."""
        return []

    def missing(self) -> MissingSecret | None:
        """Why this process cannot send here (a secret it lacks), or None if it can."""
        for credential in self.credentials():
            try:
                credential.value()
            except MissingSecret as exc:
                return exc
        return None

    def secrets(self) -> list[str]:
        """The credentials set here, and those inside its URLs: masked, whole or in pieces,
        in anything kept or shown (see `Scrubber`)."""
        found: list[str] = []
        for credential in self.credentials():
            value = credential.lookup()  # masked even if unfit to send: it may be echoed
            if value is not None:
                found += secret_url_parts(value)[0] if credential.url else [value]
        for url in self.urls():
            found += url_secrets(url)
        return found

    def whole_secrets(self) -> list[str]:
        """Texts secret only as a whole: a URL that is a credential, and its path."""
        found: list[str] = []
        for credential in self.credentials():
            value = credential.lookup() if credential.url else None
            if value is not None:
                found += secret_url_parts(value)[1]
        return found

    def timeouts(self) -> httpx.Timeout:
        import httpx

        return httpx.Timeout(self.timeout, connect=min(5.0, self.timeout))

    def redact(self, text: str) -> str:
        """`text` without any of this target's secrets, in any encoding."""
        return scrubber_for([self]).scrub(text)


class KeyedTarget(Target):
    """A target that sends one configured secret to one configured API (every status page,
    the pager, Slack's bot): the secret and the address are what `cockpit doctor`, the scrubber
    and a process without the secret look at."""

    def __init__(self, timeout: float, key: Credential, api_url: str) -> None:
        super().__init__(timeout)
        self.key = key
        self.api_url = api_url

    def secret(self) -> str:
        """The secret's value (MissingSecret when this process lacks it)."""
        return self.key.value()

    def credentials(self) -> list[Credential]:
        return [self.key]

    def urls(self) -> list[str]:
        return [self.api_url]


def scrubber_for(targets: Iterable[Target]) -> Scrubber:
    """One scrubber for every secret of these targets (all configured ones, usually): the
    text one target keeps may echo another's secret (a bug report, a shared proxy)."""
    credentials: set[str] = set()
    wholes: set[str] = set()
    for target in targets:
        credentials.update(target.secrets())
        wholes.update(target.whole_secrets())
    return scrubber(frozenset(credentials), frozenset(wholes))


# ---- shared HTTP classification --------------------------------------------------------------


def retry_after(response: httpx.Response, now: datetime | None) -> float | None:
    """Seconds the service asked us to wait (delta-seconds or an HTTP date), if it said.
    Without `now` (a probe, which never waits) only delta-seconds are understood."""
    raw = response.headers.get("retry-after", "").strip()
    if not raw:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        pass
    else:  # "nan" and "1e400" parse as floats but are not a wait
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None or now is None:
        return None
    return max((when - now).total_seconds(), 0.0)


def error_object(response: httpx.Response) -> dict[str, Any] | None:
    """The JSON object a failed response carries, or None (then `service_error` says what came)."""
    try:
        data = response.json()
    except (ValueError, RecursionError):  # RecursionError: absurdly nested JSON
        return None
    return data if isinstance(data, dict) else None


def service_error(response: httpx.Response, limit: int = 200) -> str:
    """The service's own words for a failed response, as one short safe line."""
    kind = response.headers.get("content-type", "")
    if "html" in kind:
        return f"HTTP {response.status_code} (an HTML error page)"
    text = one_line(response.text).strip()
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"HTTP {response.status_code} {text}".rstrip()


def transport_outcome(exc: Exception, timeout: float) -> Retry:
    """Retry for a network failure; `maybe_landed` unless the request never left."""
    import httpx

    from cockpit.comms.transport import AnswerRefused

    if isinstance(exc, AnswerRefused):  # too large, too slow, corrupt: it may have acted
        return Retry(f"{one_line(str(exc))} (may have been received)", maybe_landed=True)
    if isinstance(exc, httpx.ConnectTimeout):
        return Retry(f"could not connect within {min(5.0, timeout):g} s")
    if isinstance(exc, httpx.ConnectError):
        detail = one_line(str(exc)) or "connection failed"
        return Retry(f"could not connect: {detail}")
    if isinstance(exc, httpx.PoolTimeout):
        return Retry("no free connection (pool timeout)")
    if isinstance(exc, httpx.ReadTimeout):
        return Retry(f"no answer within {timeout:g} s (may have been received)", maybe_landed=True)
    if isinstance(exc, httpx.WriteTimeout):
        return Retry(f"sending timed out after {timeout:g} s", maybe_landed=True)
    detail = one_line(str(exc)) or type(exc).__name__
    return Retry(f"connection lost: {detail}", maybe_landed=True)


def http_outcome(
    response: httpx.Response,
    now: datetime,
    service: str,
    *,
    write: bool,
    error: Callable[[httpx.Response], str] = service_error,
) -> Outcome | None:
    """None for a 2xx answer, else what it means: 429 waits for Retry-After, 408 and 5xx
    retry (a write may have landed), anything else is permanent, in the service's words."""
    status = response.status_code
    if 200 <= status < 300:
        return None
    if status == 429:
        return Retry(f"rate limited by {service} (HTTP 429)", retry_after(response, now))
    if status == 408 or status >= 500:
        return Retry(f"{service}: {error(response)}", maybe_landed=write)
    return Permanent(f"{service}: {error(response)}")


def json_answer(response: httpx.Response, service: str, *, write: bool) -> Any | Retry:
    """The decoded JSON of a 2xx answer, or Retry if it is not JSON (it may have landed)."""
    try:
        return response.json()
    except (ValueError, RecursionError):  # RecursionError: absurdly nested JSON
        return Retry(f"{service}: not a JSON answer", maybe_landed=write)


def same_moment(ours: str, theirs: object) -> bool:
    """Whether a service's timestamp is the one we sent, to the second (services round)."""
    if not isinstance(theirs, str) or not theirs:
        return False
    try:
        a, b = parse_utc(ours), parse_utc(theirs)
    except ValueError:
        return False
    return a.replace(microsecond=0) == b.replace(microsecond=0)
