"""Hypothesis strategies for sync entries: any text (lone surrogates and controls included), any
kind with the meta its convention requires, times in whole milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from cockpit.domain import Kind, Status, format_utc, is_file_stem
from cockpit.sync.entry import SyncEntry
from cockpit.sync.hlc import MAX_COUNTER, MAX_WALL_MS, Hlc

# Every code point, lone surrogates (category Cs) included, which hypothesis leaves out by default.
ANY_CHAR = st.characters(codec=None, exclude_categories=())
AWKWARD = st.sampled_from(
    ["\n", "\r\n", "\t", "<", ">", "&", "&amp;", "\\", "\\u0041", "😀", "\ud800", "\udcff",
     "\ud83d", "\ude00", "\x00", "\x1b[31m", "\x85", "\u2028", "\ufeff", "\uffff", '"',
     "<!channel>"]
)  # fmt: skip
TEXTS = st.lists(st.one_of(st.text(ANY_CHAR, max_size=6), AWKWARD), max_size=12).map("".join)
NAMES = st.text(ANY_CHAR, min_size=1, max_size=12)
RUNBOOK_NAMES = NAMES.filter(is_file_stem)
"""What a runbook link may name: a file in a runbook folder, never a path."""
IDS = st.binary(min_size=16, max_size=16).map(bytes.hex)
NODES = st.binary(min_size=4, max_size=16).map(bytes.hex)
MOMENTS = st.integers(0, 7_258_118_399_999).map(
    lambda ms: datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)
)

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**30), 10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXTS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXTS, inner, max_size=3),
    max_leaves=4,
)
FREE_META = st.dictionaries(TEXTS, JSON, max_size=2)


def _with(fixed: st.SearchStrategy[dict[str, object]]) -> st.SearchStrategy[dict[str, object]]:
    """The meta a convention requires, plus any other keys."""
    return st.tuples(FREE_META, fixed).map(lambda pair: {**pair[0], **pair[1]})


STATUSES = st.sampled_from([s.value for s in Status])
META_FOR_KIND: dict[Kind, st.SearchStrategy[dict[str, object]]] = {
    Kind.SEVERITY: _with(st.fixed_dictionaries({"to": st.sampled_from(["SEV-1", "SEV-2"])})),
    Kind.STATUS: _with(st.fixed_dictionaries({"to": STATUSES})),
    Kind.ROLE: _with(st.fixed_dictionaries({"role": st.just("commander"), "to": NAMES})),
    Kind.STEP: _with(
        st.fixed_dictionaries(
            {"runbook": st.just("api"), "step": st.integers(1, 10**6), "done": st.booleans()}
        )
    ),
    Kind.UPDATE: _with(
        st.fixed_dictionaries(
            {"targets": st.lists(TEXTS, max_size=3)}, optional={"status": STATUSES}
        )
    ),
    Kind.ESCALATION: _with(st.fixed_dictionaries({"runbook": RUNBOOK_NAMES})),
    Kind.SYSTEM: st.one_of(
        _with(
            st.fixed_dictionaries(
                {"event": st.just("declared"), "severity": st.just("SEV-2"), "title": TEXTS},
                optional={
                    "service": TEXTS,
                    "impact_started_at": MOMENTS.map(format_utc),
                    "runbook": st.none() | RUNBOOK_NAMES,
                },
            )
        ),
        _with(
            st.fixed_dictionaries({"event": st.just("runbook"), "to": st.none() | RUNBOOK_NAMES})
        ),
        st.just({"event": "hook"}),
    ),
}


@st.composite
def entries(draw: st.DrawFn, text: st.SearchStrategy[str] = TEXTS) -> SyncEntry:
    """A well-formed entry of any kind."""
    kind = draw(st.sampled_from(list(Kind)))
    node = draw(NODES)
    meta = draw(META_FOR_KIND.get(kind, FREE_META))
    return SyncEntry(
        uid=draw(IDS),
        hlc=Hlc(draw(st.integers(0, MAX_WALL_MS)), draw(st.integers(0, MAX_COUNTER)), node),
        at=draw(MOMENTS),
        written_at=draw(MOMENTS),
        kind=kind,
        author=draw(TEXTS),
        text=draw(text),
        meta=meta,
        reason=draw(st.none() | TEXTS),
        corrects_uid=draw(st.none() | IDS),
        supersedes=draw(st.none() | IDS),
        node=node,
        origin=draw(st.sampled_from(["local", "slack", "file"])),
    )
