"""Local fake services that speak real HTTP on 127.0.0.1 (ephemeral ports), built to the
failure behaviour in shared/reference/external-apis.md §7. Run `python -m tests.fakes` to
start them by hand (the manual trial in the README of this package)."""

from tests.fakes.server import Drop, FakeServer, Hang, Pass, Reply, refused_url
from tests.fakes.slack import FakeSlack
from tests.fakes.statuspage import FakeStatuspage

__all__ = [
    "Drop",
    "FakeServer",
    "FakeSlack",
    "FakeStatuspage",
    "Hang",
    "Pass",
    "Reply",
    "refused_url",
]
