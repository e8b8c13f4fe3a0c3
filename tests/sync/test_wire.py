"""The wire format: exact round trips (any text, any entry), the cap, batches, the root payload,
strict decoding of whatever a buggy or hostile peer sends, and the line people read."""

from __future__ import annotations

import json
from contextlib import suppress
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cockpit.domain import Kind
from cockpit.plaintext import truncation_marker
from cockpit.sync.entry import SyncEntry, entry_problem
from cockpit.sync.hlc import Hlc, wall_ms
from cockpit.sync.wire import (
    BATCH_CAP_BYTES,
    EVENT_ENTRIES,
    EVENT_ENTRY,
    EVENT_INCIDENT,
    TEXT_CAP_BYTES,
    Truncation,
    WireError,
    decode,
    dumps_line,
    echo_line,
    echo_text,
    encode_batches,
    encode_entry,
    encode_incident,
    loads_line,
    text_digest,
)
from tests.conftest import T0
from tests.sync import FUZZ
from tests.sync.strategies import ANY_CHAR, JSON, TEXTS, entries

GID = "9" * 32
NODE = "a1a1a1a1a1a1a1a1"
SETTINGS = settings(max_examples=int(50 * FUZZ), deadline=None)


def entry(text: str = "rolled back api v142", **changes: object) -> SyncEntry:
    base = SyncEntry(
        uid="1" * 32,
        hlc=Hlc(wall_ms(T0), 0, NODE),
        at=T0,
        written_at=T0,
        kind=Kind.ACTION,
        author="dave",
        text=text,
        node=NODE,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def through_slack(metadata: dict[str, object]) -> object:
    """What a peer reads back: the body httpx builds for chat.postMessage (it raises on a lone
    surrogate), parsed as Slack would."""
    request = httpx.Request("POST", "https://slack.test/api/chat.postMessage",
                            json={"metadata": metadata})  # fmt: skip
    return json.loads(request.content.decode("utf-8"))["metadata"]


def flat(value: object) -> bool:
    """Slack's payload rule: strings, numbers, booleans, flat objects, arrays of flat objects."""
    scalar = (str, int, float, bool)
    if isinstance(value, scalar):
        return True
    if isinstance(value, dict):
        return all(isinstance(v, scalar) for v in value.values())
    return isinstance(value, list) and all(isinstance(item, dict) and flat(item) for item in value)


# ---- round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "line one\nline two\n",
        "a < b && c > d; <!channel> <@U123> &amp;",
        "🔥 rollback 👩‍🚒 done ✅",
        "lone \ud800 high and \udcff low surrogate",
        "\udcff\udcfe bytes a pipe could not decode",
        "\ud83d\ude00 two lone halves, not the emoji 😀",
        "back\\slash \\u0041 \\\\u0041 and \\",
        "\x00nul \x1b[31mred\x1b[0m \r\n crlf \x85 nel \u2028 \ufeff \uffff \ufffe",
        "",
        " ",
        '"quoted" {"json": "inside"}',
    ],
)
def test_text_round_trips_exactly(text):
    sent = entry(text)
    metadata = encode_entry(GID, sent)
    received = decode(through_slack(metadata))
    assert received.entries[0].entry == sent
    assert received.entries[0].entry.text == text
    assert received.entries[0].truncated is None


@SETTINGS
@given(entries())
def test_any_entry_round_trips_through_slack_and_files(sent):
    metadata = encode_entry(GID, sent)
    payload = metadata["event_payload"]
    assert isinstance(payload, dict) and all(flat(value) for value in payload.values())
    back = decode(through_slack(metadata), origin="slack").entries[0]
    assert back.entry == sent and back.entry.origin == "slack"
    from_file = decode(loads_line(dumps_line(metadata)), origin="file").entries[0]
    assert from_file.entry == sent and from_file.entry.origin == "file"


@SETTINGS
@given(st.text(ANY_CHAR, max_size=200))
def test_any_text_round_trips_exactly(text):
    assert decode(through_slack(encode_entry(GID, entry(text)))).entries[0].entry.text == text


def test_plain_text_travels_as_itself():
    payload = encode_entry(GID, entry("a < b & ünïcode 😀\nnext"))["event_payload"]
    assert isinstance(payload, dict)
    assert payload["text"] == "a < b & ünïcode 😀\nnext"
    assert "x" not in payload


def test_awkward_text_travels_escaped_and_says_so():
    payload = encode_entry(GID, entry("a\\b\ud800", author="d\x00ve"))["event_payload"]
    assert isinstance(payload, dict)
    assert payload["text"] == "a\\\\b\\ud800"
    assert payload["author"] == "d\\u0000ve"
    assert payload["x"] == "author,text"


def test_meta_travels_as_a_json_string_and_round_trips_nested_values():
    meta = {
        "targets": ["slack", "statuspage"],
        "nested": {"a": [1, 2.5, None, True]},
        "s": "\ud800",
    }
    sent = entry(kind=Kind.UPDATE, meta=meta)
    payload = encode_entry(GID, sent)["event_payload"]
    assert isinstance(payload, dict) and isinstance(payload["meta"], str)
    assert decode(through_slack(encode_entry(GID, sent))).entries[0].entry.meta == meta


@SETTINGS
@given(st.dictionaries(TEXTS, JSON, max_size=4))
def test_any_json_meta_round_trips(meta):
    sent = entry(meta=meta)
    assert decode(through_slack(encode_entry(GID, sent))).entries[0].entry.meta == meta


def test_meta_that_is_not_json_cannot_be_sent():
    for meta in [{"when": T0}, {"x": float("nan")}, {"x": float("inf")}]:
        with pytest.raises(ValueError, match="meta is not JSON"):
            encode_entry(GID, entry(meta=meta))


def test_an_ill_formed_entry_cannot_be_sent():
    for bad in [
        entry(uid="nope"),
        entry(at=T0 + timedelta(microseconds=5)),
        entry(kind=Kind.SEVERITY, meta={"to": 1}),
        entry(hlc=Hlc(1, 0, "b2b2b2b2b2b2b2b2")),
    ]:
        with pytest.raises(ValueError, match="cannot be sent"):
            encode_entry(GID, bad)
    with pytest.raises(ValueError, match="gid"):
        encode_entry("INC-7", entry())


# ---- the text cap --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "x" * 20_000,
        "😀" * 5000,
        "\ud800" * 3000,
        "\\" * 9000,
        ("line\n" * 3000) + "end",
        "é" * 4000 + "\ud800",  # one awkward character makes the whole text escaped
    ],
    ids=["ascii", "emoji", "surrogates", "backslashes", "lines", "accents-and-a-surrogate"],
)
def test_long_text_is_cut_within_the_cap_and_says_how_long_it_was(text):
    payload = encode_entry(GID, entry(text))["event_payload"]
    assert isinstance(payload, dict)
    assert len(str(payload["text"]).encode()) <= TEXT_CAP_BYTES
    wire_entry = decode(through_slack(encode_entry(GID, entry(text)))).entries[0]
    got = wire_entry.entry.text
    kept = got.rsplit("\n", 1)[0]
    assert text.startswith(kept)
    assert got.endswith(truncation_marker(len(text) - len(kept)))
    assert wire_entry.truncated == Truncation(len(text), text_digest(text))
    assert len(kept) > len(text) // 4  # the cut is not wastefully short


def test_text_at_the_cap_is_not_cut():
    text = "x" * TEXT_CAP_BYTES
    assert decode(through_slack(encode_entry(GID, entry(text)))).entries[0].truncated is None
    cut = decode(through_slack(encode_entry(GID, entry(text + "y")))).entries[0]
    assert cut.truncated == Truncation(len(text) + 1, text_digest(text + "y"))


def test_a_cut_text_needs_both_its_length_and_hash():
    payload = dict(encode_entry(GID, entry("x" * 9000))["event_payload"])  # type: ignore[arg-type]
    for broken in [
        {k: v for k, v in payload.items() if k != "text_sha256"},
        {**payload, "text_len": "9000"},
        {**payload, "text_len": 0},
        {**payload, "text_sha256": "abc"},
    ]:
        with pytest.raises(WireError, match=r"text_len|text_sha256"):
            decode({"event_type": EVENT_ENTRY, "event_payload": broken})


# ---- batches and the root -------------------------------------------------------------------


def test_a_backlog_goes_in_batches_within_the_budget_in_order():
    sent = [
        entry(f"entry {n} " + "y" * (n * 97 % 3000), uid=f"{n:032x}", hlc=Hlc(n, 0, NODE))
        for n in range(130)
    ]
    batches = encode_batches(GID, sent)
    assert len(batches) > 2
    got: list[SyncEntry] = []
    for metadata in batches:
        size = len(json.dumps(metadata["event_payload"], ensure_ascii=False).encode())
        assert size <= BATCH_CAP_BYTES
        received = decode(through_slack(metadata))
        assert received.gid == GID and received.rejected == ()
        assert metadata["event_type"] in (EVENT_ENTRY, EVENT_ENTRIES)
        got.extend(w.entry for w in received.entries)
    assert got == sent


def test_one_entry_alone_goes_as_cockpit_entry_and_a_huge_one_goes_alone():
    assert [m["event_type"] for m in encode_batches(GID, [entry()])] == [EVENT_ENTRY]
    small = [entry(uid=f"{n:032x}") for n in range(3)]
    big = entry("z" * 7000, uid="f" * 32)
    kinds = [m["event_type"] for m in encode_batches(GID, [*small, big, *small], budget=4000)]
    assert kinds == [EVENT_ENTRIES, EVENT_ENTRY, EVENT_ENTRIES]
    assert len(encode_batches(GID, [entry(uid=f"{n:032x}") for n in range(120)])) == 3
    assert encode_batches(GID, []) == []


def test_one_bad_entry_in_a_batch_is_rejected_alone():
    metadata = encode_batches(GID, [entry(uid=f"{n:032x}") for n in range(3)])[0]
    payload = metadata["event_payload"]
    assert isinstance(payload, dict)
    items = payload["entries"]
    assert isinstance(items, list)
    items[1] = {**items[1], "kind": "severity", "meta": '{"to": 1}'}
    received = decode(metadata)
    assert [w.entry.uid for w in received.entries] == [f"{0:032x}", f"{2:032x}"]
    assert received.rejected == ("cockpit_entries[1]: meta.to must be a non-empty string",)


def declared(**meta: object) -> SyncEntry:
    return entry(
        "declared SEV-1: checkout <errors> & timeouts",
        kind=Kind.SYSTEM,
        meta={"event": "declared", "severity": "SEV-1", "title": "checkout <errors>", **meta},
    )


def test_the_root_carries_the_declared_entry_and_the_declarers_ref():
    root = declared(service="api \ud800")
    metadata = encode_incident(GID, root, "INC-7")
    assert metadata["event_type"] == EVENT_INCIDENT
    payload = metadata["event_payload"]
    assert isinstance(payload, dict)
    assert (payload["title"], payload["severity"], payload["ref"]) == (
        "checkout <errors>",
        "SEV-1",
        "INC-7",
    )
    received = decode(through_slack(metadata))
    assert received.ref == "INC-7" and received.gid == GID
    assert received.entries[0].entry == root


def test_a_root_must_be_a_declaration_whose_copies_agree():
    with pytest.raises(ValueError, match="declared"):
        encode_incident(GID, entry(), "INC-7")
    payload = dict(encode_incident(GID, declared(), "INC-7")["event_payload"])  # type: ignore[arg-type]
    with pytest.raises(WireError, match="title disagrees"):
        decode({"event_type": EVENT_INCIDENT, "event_payload": {**payload, "title": "other"}})
    with pytest.raises(WireError, match="ref"):
        decode({"event_type": EVENT_INCIDENT, "event_payload": {**payload, "ref": 7}})
    note = dict(encode_entry(GID, entry())["event_payload"])  # type: ignore[arg-type]
    with pytest.raises(WireError, match="declared entry"):
        decode({"event_type": EVENT_INCIDENT, "event_payload": {**note, "ref": "INC-1"}})


# ---- strict decoding ------------------------------------------------------------------------


def _payload() -> dict[str, object]:
    payload = encode_entry(GID, entry(kind=Kind.SEVERITY, meta={"from": "SEV-2", "to": "SEV-1"}))
    return dict(payload["event_payload"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"v": 2}, "format version 2; this cockpit reads 1"),
        ({"v": "1"}, "no format version"),
        ({"v": True}, "no format version"),
        ({"gid": "INC-7"}, "gid"),
        ({"uid": "x"}, "uid"),
        ({"uid": None}, "uid is missing"),
        ({"hlc": "soon"}, "clock value"),
        ({"hlc": "1795745640000-0000-b2b2b2b2b2b2b2b2"}, "not stamped by the entry's node"),
        ({"at": "2026-11-27T02:14:00Z"}, "UTC times"),
        ({"at": "2026-13-27T02:14:00.000Z"}, "UTC times"),
        ({"at": 1795745640000}, "at is a number, not a string"),
        ({"kind": "ddos"}, "ddos"),
        ({"meta": '{"to": 5}'}, "meta.to must be a non-empty string"),
        ({"meta": '{"to": ""}'}, "meta.to must be a non-empty string"),
        ({"meta": "[1]"}, "not a JSON object"),
        ({"meta": "{"}, "not JSON"),
        ({"meta": '{"to": NaN}'}, "not JSON"),
        ({"meta": "[" * 100_000}, "not JSON"),
        ({"meta": '{"to": ' + "9" * 5000 + "}"}, "not JSON"),
        ({"meta": {"to": "SEV-1"}}, "meta is an object, not a string"),
        ({"x": "kind"}, "never escaped"),
        ({"x": "text", "text": "bad \\q escape"}, "backslash"),
        ({"x": "text", "text": "ends in \\"}, "backslash"),
        ({"supersedes": "me"}, "supersedes"),
        ({"corrects_uid": 5}, "corrects_uid is a number"),
        ({"node": "NODE"}, "node"),
        ({"text": ["list"]}, "text is an array"),
    ],
)
def test_malformed_entries_are_refused_with_a_reason(change, reason):
    metadata = {"event_type": EVENT_ENTRY, "event_payload": {**_payload(), **change}}
    with pytest.raises(WireError) as caught:
        decode(metadata)
    assert reason in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "metadata",
    [
        None,
        [],
        "cockpit_entry",
        {},
        {"event_type": "cockpit_update", "event_payload": {}},
        {"event_type": ["cockpit_entry"], "event_payload": {}},
        {"event_type": EVENT_ENTRY},
        {"event_type": EVENT_ENTRY, "event_payload": []},
        {"event_type": EVENT_ENTRIES, "event_payload": {"v": 1, "gid": GID, "entries": []}},
        {"event_type": EVENT_ENTRIES, "event_payload": {"v": 1, "gid": GID, "entries": {}}},
    ],
)
def test_malformed_messages_are_refused(metadata):
    with pytest.raises(WireError):
        decode(metadata)


def test_unknown_fields_are_ignored_so_an_update_reply_can_carry_its_delivery_key():
    payload = {**_payload(), "delivery": "k-123", "part": "reply", "future": {"a": 1}}
    received = decode({"event_type": EVENT_ENTRY, "event_payload": payload})
    assert received.entries[0].entry.meta == {"from": "SEV-2", "to": "SEV-1"}


GARBAGE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(ANY_CHAR, max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=20,
)
FIELDS = st.sampled_from(
    ["v", "gid", "uid", "node", "hlc", "at", "written_at", "kind", "author", "text", "meta",
     "reason", "corrects_uid", "supersedes", "text_len", "text_sha256", "x", "entries", "ref",
     "title"]
)  # fmt: skip


@settings(max_examples=int(100 * FUZZ), deadline=None)
@given(GARBAGE)
def test_garbage_raises_only_the_wire_error(value):
    for metadata in [value, {"event_type": EVENT_ENTRY, "event_payload": value}]:
        with suppress(WireError):
            decode(metadata)


@settings(max_examples=int(150 * FUZZ), deadline=None)
@given(
    st.sampled_from([EVENT_ENTRY, EVENT_ENTRIES, EVENT_INCIDENT]),
    st.lists(st.tuples(FIELDS, GARBAGE | st.text(ANY_CHAR, max_size=40)), max_size=4),
    st.lists(FIELDS, max_size=3),
)
def test_a_damaged_payload_is_refused_or_still_well_formed(event_type, damage, dropped):
    good = {
        EVENT_ENTRY: encode_entry(GID, entry(kind=Kind.STATUS, meta={"to": "resolved"})),
        EVENT_ENTRIES: encode_batches(GID, [entry(uid=f"{n:032x}") for n in range(2)])[0],
        EVENT_INCIDENT: encode_incident(GID, declared(), "INC-3"),
    }[event_type]
    payload = dict(good["event_payload"])  # type: ignore[arg-type]
    for name in dropped:
        payload.pop(name, None)
    payload.update(damage)
    try:
        received = decode({"event_type": event_type, "event_payload": payload})
    except WireError as exc:
        assert "\n" not in str(exc)
        return
    for wire_entry in received.entries:
        assert entry_problem(wire_entry.entry) is None


def test_sync_file_lines_refuse_what_is_not_json():
    for line in ["", "{", "NaN", "[" * 50_000, '{"a": Infinity}']:
        with pytest.raises(WireError, match="not a JSON line"):
            loads_line(line)
    line = dumps_line(encode_entry(GID, entry("😀 \ud800")))
    assert "\n" not in line
    line.encode("utf-8")  # a file line holds no lone surrogate: it was escaped


# ---- the line people read ---------------------------------------------------------------


def test_the_echo_line_people_read():
    assert echo_line(entry()) == (
        "<!date^1795745640^{time}|02:14 UTC> · action · dave: rolled back api v142"
    )


def test_the_echo_line_escapes_user_text_and_stays_one_line():
    line = echo_line(
        entry("<!channel> a & b <https://evil|x>\nsecond line\x1b[31m", author="<@U1> & co")
    )
    assert line.endswith(
        "· action · &lt;@U1&gt; &amp; co: &lt;!channel&gt; a &amp; b &lt;https://evil|x&gt; "
        "second line"
    )
    assert "\n" not in line and "\x1b" not in line


def test_the_echo_line_of_a_correction_and_of_long_or_broken_text():
    correction = echo_line(entry("typo fixed", corrects_uid="2" * 32, kind=Kind.NOTE))
    assert "· note (correction) · dave: typo fixed" in correction
    long_line = echo_line(entry("word " * 500))
    assert long_line.endswith("…") and len(long_line) < 400
    surrogate = echo_line(entry("bad \udcff byte"))
    surrogate.encode("utf-8")  # Slack's text must be valid UTF-8
    assert "bad \ufffd byte" in surrogate


def test_an_echo_message_is_a_line_per_entry():
    text = echo_text([entry("one"), entry("two", author="erin")])
    assert text.splitlines()[1].endswith("· action · erin: two")
    assert len(text.splitlines()) == 2
