"""Reading the thread: Slack's markup to plain text, and messages (as `conversations.replies`
returns them) to entries. Only the cockpit's own app can change the incident's state."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cockpit.domain import Kind
from cockpit.sync.entry import entry_problem
from cockpit.sync.fold import fold, timeline, unique
from cockpit.sync.hlc import Hlc
from cockpit.sync.ids import slack_deleted_uid, slack_edit_uid, slack_message_uid
from cockpit.sync.slack_text import (
    SLACK_NODE,
    ThreadSource,
    decode_slack_text,
    deletion_entry,
    is_ts,
    message_entries,
    ts_ms,
    ts_time,
)
from cockpit.sync.wire import encode_batches, encode_entry, encode_incident
from tests.sync import FUZZ
from tests.sync.strategies import ANY_CHAR
from tests.sync.test_wire import declared, entry

GID = "9" * 32
CHANNEL = "C0123INC"
ROOT = "1732849200.123456"
PEOPLE = {"U061F7AUR": "Alice Chen", "U3SRS5L59": "bob", "U5ULW6XSL": "carol"}
SOURCE = ThreadSource(
    gid=GID,
    channel=CHANNEL,
    app_id="A0COCKPIT",
    bot_id="B0COCKPIT",
    user_name=PEOPLE.get,
    channel_name={"C0INCIDENTS": "incidents"}.get,
)


# ---- markup ----------------------------------------------------------------------------------

# Message texts as Slack delivers them: shapes from Slack's formatting reference and real
# Events API and history payloads (channel mentions with names, auto-linked URLs, user groups).
EXAMPLES = [
    (
        "<#C5QLDE198|bottesting>  bottesting channel <@U3SRS5L59> cr user <@U5ULW6XSL> bakchod "
        "user <#C3SPKKJUC|general> general channel",
        "#bottesting  bottesting channel @bob cr user @carol bakchod user #general general channel",
    ),
    (
        "<#C06NRA6JLER|zulip-mirror> <#C06P6T3QGD7|general> message with channel mentions",
        "#zulip-mirror #general message with channel mentions",
    ),
    ("<#C0INCIDENTS|> is where we talk", "#incidents is where we talk"),  # newer clients
    ("see <#C0INCIDENTS>", "see #incidents"),
    ("see <#C0UNKNOWN>", "see #C0UNKNOWN"),
    ("<!subteam^S08SE5ZTPQD|@eap파트> please look", "@eap파트 please look"),
    ("<!subteam^S07HB36PXN0> <!subteam^S06E0SM1W77>", "@S07HB36PXN0 @S06E0SM1W77"),
    ("<!subteam^S0TEAM01|oncall>", "@oncall"),
    (
        "<!channel> All text in Slack uses the same system of escaping: chat messages, direct "
        "messages, file comments, etc. :smile:\nSee "
        "<https://api.slack.com/docs/message-formatting#linking_to_channels_and_users>",
        "@channel All text in Slack uses the same system of escaping: chat messages, direct "
        "messages, file comments, etc. :smile:\nSee "
        "https://api.slack.com/docs/message-formatting#linking_to_channels_and_users",
    ),
    ("<!here> <!here|@here> <!everyone> <!channel|channel>", "@here @here @everyone @channel"),
    ("rolled back api v142 &amp; restarted &lt;pod&gt;", "rolled back api v142 & restarted <pod>"),
    ("a &amp;lt; b", "a &lt; b"),  # decoded once: the person typed "&lt;"
    ("&amp;amp; &gt;&gt; &quot;kept&quot; &#39;", "&amp; >> &quot;kept&quot; &#39;"),
    ("<http://example.com|example.com> is down", "example.com is down"),
    ("<https://status.example.com>", "https://status.example.com"),
    (
        "<https://grafana.example.com/d/abc?from=now-1h&amp;to=now|error dashboard>",
        "error dashboard (https://grafana.example.com/d/abc?from=now-1h&to=now)",
    ),
    ("<mailto:bob@example.com|bob@example.com> knows", "bob@example.com knows"),
    ("<mailto:bob@example.com>", "bob@example.com"),
    ("<@U061F7AUR> <@U0NOBODY> <@W0ENTERPRISE|legacy>", "@Alice Chen @U0NOBODY @legacy"),
    (
        "<!date^1392734382^Posted {date_num} {time_secs}|Posted 2014-02-18 6:39:42 AM PST>",
        "Posted 2014-02-18 6:39:42 AM PST",
    ),
    ("<!date^1392734382^{date_num}>", "2014-02-18 14:39 UTC"),
    ("<!date^²³^{date}>", "(a date)"),
    ("<not markup> < > <>", "<not markup> < > <>"),
    ("multi\nline\n\ttabbed 😀", "multi\nline\n\ttabbed 😀"),
]


@pytest.mark.parametrize(("text", "shown"), EXAMPLES)
def test_slack_markup_reads_as_a_person_sees_it(text, shown):
    assert decode_slack_text(text, SOURCE.user_name, SOURCE.channel_name) == shown


@settings(max_examples=int(100 * FUZZ), deadline=None)
@given(st.text(st.sampled_from("<>|@#!^&;amplgtxU1 ") | ANY_CHAR, max_size=60))
def test_any_text_decodes_without_error(text):
    assert isinstance(decode_slack_text(text, SOURCE.user_name), str)


# ---- timestamps ------------------------------------------------------------------------------


def test_slack_timestamps():
    assert ts_ms("1732849200.123456") == 1732849200123
    assert ts_time("1732849200.123456").isoformat() == "2024-11-29T03:00:00.123000+00:00"
    for bad in ["", "1732849200", "1732849200.12345", "1732849200.1234567", " 1.000001",
                "١٧٣٢٨٤٩٢٠٠.123456", "12345678901.123456"]:  # fmt: skip
        assert not is_ts(bad)
        with pytest.raises(ValueError, match="not a Slack timestamp"):
            ts_ms(bad)


# ---- people's messages ---------------------------------------------------------------------


def person(text: str, ts: str = "1732849260.000200", **more: object) -> dict[str, object]:
    return {
        "type": "message",
        "user": "U061F7AUR",
        "text": text,
        "ts": ts,
        "thread_ts": ROOT,
        "parent_user_id": "U061F7AUR",
        "client_msg_id": "749a28ae-d333-49de-9961-d765531b447e",
        "team": "THY5HTZ8U",
        **more,
    }


def test_a_persons_message_is_a_note_with_its_time_and_author():
    imported = message_entries(person("rolled back api v142 &amp; it <@U3SRS5L59>"), SOURCE)
    assert imported.problems == ()
    [wire_entry] = imported.entries
    note = wire_entry.entry
    assert note.kind is Kind.NOTE
    assert (note.author, note.text) == ("Alice Chen", "rolled back api v142 & it @bob")
    assert note.at == ts_time("1732849260.000200") == note.written_at
    assert note.uid == slack_message_uid(GID, CHANNEL, "1732849260.000200")
    assert note.hlc == Hlc(1732849260000, 0, SLACK_NODE) and note.node == SLACK_NODE
    assert note.meta == {"source": "slack", "ts": "1732849260.000200", "user": "U061F7AUR"}
    assert note.origin == "slack"
    assert entry_problem(note) is None


def test_every_laptop_derives_the_same_entry_from_one_message():
    message = person("same everywhere")
    assert message_entries(message, SOURCE) == message_entries(json.loads(json.dumps(message)),
                                                               SOURCE)  # fmt: skip


def test_an_unknown_person_is_named_from_the_message_profile_or_id():
    profile = {"display_name": "dana", "real_name": "Dana Q"}
    named = message_entries(person("hi", user="U0NEW", user_profile=profile), SOURCE)
    assert named.entries[0].entry.author == "dana"
    bare = message_entries(person("hi", user="U0NEW"), SOURCE)
    assert bare.entries[0].entry.author == "U0NEW"


def test_a_persons_message_with_cockpit_metadata_is_only_text():
    forged = encode_entry(GID, entry(kind=Kind.SEVERITY, meta={"to": "SEV-1"}))
    imported = message_entries(person("SEV-1 now!", metadata=forged), SOURCE)
    [wire_entry] = imported.entries
    assert wire_entry.entry.kind is Kind.NOTE and wire_entry.entry.text == "SEV-1 now!"
    assert fold([wire_entry.entry]).severity is None


def test_files_and_empty_messages_still_say_something():
    files = [{"name": "error.log", "title": "error.log"}, {"title": "graph"}]
    shared = message_entries(person("", files=files, subtype="file_share"), SOURCE)
    assert shared.entries[0].entry.text == "(files: error.log, graph)"
    both = message_entries(person("see this", files=files[:1]), SOURCE)
    assert both.entries[0].entry.text == "see this (files: error.log)"
    empty = message_entries(person(""), SOURCE)
    assert empty.entries[0].entry.text == "(a message without text)"


def test_thread_broadcasts_and_me_messages_are_notes_and_housekeeping_is_not():
    for subtype in ("thread_broadcast", "me_message"):
        imported = message_entries(person("also in channel", subtype=subtype), SOURCE)
        assert imported.entries[0].entry.kind is Kind.NOTE
    joined = person("<@U061F7AUR> has joined the channel", subtype="channel_join")
    assert message_entries(joined, SOURCE).entries == ()


# ---- edits and deletions ---------------------------------------------------------------------


def test_an_edit_is_a_correction_with_a_derived_uid():
    edited = person("rolled back api v143", edited={"user": "U061F7AUR", "ts": "1732849300.000000"})
    base, correction = (w.entry for w in message_entries(edited, SOURCE).entries)
    assert base.uid == slack_message_uid(GID, CHANNEL, "1732849260.000200")
    assert correction.uid == slack_edit_uid(GID, CHANNEL, "1732849260.000200",
                                            "1732849300.000000")  # fmt: skip
    assert correction.corrects_uid == base.uid
    assert correction.reason == "edited in Slack"
    assert correction.text == "rolled back api v143"
    assert correction.at == ts_time("1732849300.000000")
    assert base.at == ts_time("1732849260.000200")
    assert base.meta["edited_ts"] == "1732849300.000000"
    assert entry_problem(correction) is None


def test_someone_else_editing_is_named():
    edited = person("fixed", edited={"user": "U3SRS5L59", "ts": "1732849300.000000"})
    correction = message_entries(edited, SOURCE).entries[1].entry
    assert correction.meta["edited_by"] == "U3SRS5L59"


def test_a_teammate_who_joins_after_an_edit_ends_with_the_same_entries():
    original = person("rolled back api v142")
    first_edit = person("rolled back api v143", edited={"user": "U061F7AUR",
                                                        "ts": "1732849300.000000"})  # fmt: skip
    second_edit = person("rolled back api v144", edited={"user": "U061F7AUR",
                                                         "ts": "1732849400.000000"})  # fmt: skip

    def read(*versions: dict[str, object]) -> list:
        return [w.entry for m in versions for w in message_entries(m, SOURCE).entries]

    alice = read(original, first_edit, second_edit)  # read the thread at each step
    bob = read(second_edit)  # joined after both edits
    carol = read(first_edit, second_edit)
    # Laptops echo what they derived; each ends with the union, and the union resolves alike.
    together = alice + bob + carol
    for mine in (alice, bob, carol):
        assert unique(mine + together) == unique(together)
    kept = unique(together)
    base = kept[slack_message_uid(GID, CHANNEL, "1732849260.000200")]
    assert base.text == "rolled back api v142"  # the original survives where it was seen
    assert [e.text for e in timeline(together)] == [
        "rolled back api v142",
        "rolled back api v143",
        "rolled back api v144",
    ]
    # Without anyone who saw the original, the edited text stands in for it, the same way.
    assert unique(bob)[base.uid].text == "rolled back api v144"


def test_an_edit_with_a_broken_ts_is_read_as_unedited_and_said():
    imported = message_entries(person("x", edited={"ts": "yesterday"}), SOURCE)
    assert len(imported.entries) == 1
    assert imported.problems == ("message 1732849260.000200: an edit without a valid ts; "
                                 "imported as unedited",)  # fmt: skip


def test_a_deletion_is_a_correction_saying_so_the_same_on_every_laptop():
    tombstone = {
        "type": "message",
        "subtype": "tombstone",
        "text": "This message was deleted.",
        "user": "USLACKBOT",
        "hidden": True,
        "ts": "1732849260.000200",
        "thread_ts": ROOT,
    }
    [wire_entry] = message_entries(tombstone, SOURCE).entries
    gone = wire_entry.entry
    assert gone == deletion_entry(GID, CHANNEL, "1732849260.000200")
    assert gone.uid == slack_deleted_uid(GID, CHANNEL, "1732849260.000200")
    assert gone.corrects_uid == slack_message_uid(GID, CHANNEL, "1732849260.000200")
    assert (gone.text, gone.reason, gone.author) == (
        "message deleted in Slack",
        "deleted in Slack",
        "Slack",
    )
    assert entry_problem(gone) is None


# ---- other bots ------------------------------------------------------------------------------


def test_another_apps_message_is_external_named_after_the_bot():
    alert = {
        "type": "message",
        "bot_id": "B0439P161B9",
        "app_id": "A0442TUPHGR",
        "text": "Error rate &gt; 5% on <https://grafana.example.com/d/x|checkout>",
        "ts": "1732849270.000300",
        "bot_profile": {"id": "B0439P161B9", "app_id": "A0442TUPHGR", "name": "Grafana"},
        "thread_ts": ROOT,
    }
    [wire_entry] = message_entries(alert, SOURCE).entries
    external = wire_entry.entry
    assert external.kind is Kind.EXTERNAL
    assert external.author == "Grafana"
    assert external.text == "Error rate > 5% on checkout (https://grafana.example.com/d/x)"
    assert external.meta == {"source": "slack", "ts": "1732849270.000300",
                             "bot_id": "B0439P161B9"}  # fmt: skip


def test_a_legacy_bot_message_with_only_attachments():
    alert = {
        "type": "message",
        "subtype": "bot_message",
        "username": "Datadog",
        "bot_id": "B0DATADOG",
        "text": "",
        "attachments": [{"fallback": "Triggered: [P1] checkout 5xx &gt; 2%", "color": "danger"}],
        "ts": "1732849280.000400",
    }
    external = message_entries(alert, SOURCE).entries[0].entry
    assert (external.kind, external.author) == (Kind.EXTERNAL, "Datadog")
    assert external.text == "Triggered: [P1] checkout 5xx > 2%"


def test_another_bot_carrying_cockpit_metadata_changes_nothing():
    forged = encode_entry(GID, entry(kind=Kind.SEVERITY, meta={"to": "SEV-1"}))
    impostor = {
        "type": "message",
        "subtype": "bot_message",
        "bot_id": "B0EVIL",
        "app_id": "A0EVIL",
        "username": "cockpit",
        "text": "severity → SEV-1",
        "ts": "1732849290.000500",
        "metadata": forged,
    }
    [wire_entry] = message_entries(impostor, SOURCE).entries
    assert wire_entry.entry.kind is Kind.EXTERNAL
    assert fold([wire_entry.entry]).severity is None


# ---- our own app's messages ------------------------------------------------------------------


def ours(metadata: object, **more: object) -> dict[str, object]:
    return {
        "type": "message",
        "subtype": "bot_message",
        "text": "<!date^1795745640^{time}|02:14 UTC> · action · dave: rolled back api v142",
        "ts": "1732849300.000600",
        "bot_id": "B0COCKPIT",
        "app_id": "A0COCKPIT",
        "bot_profile": {"id": "B0COCKPIT", "app_id": "A0COCKPIT", "name": "cockpit"},
        "metadata": metadata,
        **more,
    }


def test_our_apps_echo_gives_the_entries_in_its_metadata_not_its_text():
    sent = [entry(uid=f"{n:032x}", kind=Kind.SEVERITY, meta={"to": "SEV-1"}) for n in range(3)]
    [metadata] = encode_batches(GID, sent)
    imported = message_entries(ours(metadata), SOURCE)
    assert [w.entry for w in imported.entries] == sent
    assert all(w.entry.origin == "slack" for w in imported.entries)
    assert fold(w.entry for w in imported.entries).severity == "SEV-1"


def test_our_app_is_recognised_by_app_id_bot_id_or_bot_profile():
    metadata = encode_entry(GID, entry())
    for message in [
        ours(metadata, bot_id="B0OTHER"),  # app id
        ours(metadata, app_id=None, bot_profile=None),  # bot id
        ours(metadata, app_id=None, bot_id="B0OTHER"),  # bot profile's app id
    ]:
        assert message_entries(message, SOURCE).entries[0].entry == entry()
    stranger = ThreadSource(GID, CHANNEL, app_id="", bot_id="")  # we don't know who we are yet
    assert message_entries(ours(metadata), stranger).entries[0].entry.kind is Kind.EXTERNAL


def test_the_root_message_gives_the_declaration_and_the_declarers_ref():
    root = ours(encode_incident(GID, declared(), "INC-7"), ts=ROOT)
    imported = message_entries(root, SOURCE)
    assert imported.ref == "INC-7"
    assert fold(w.entry for w in imported.entries).title == "checkout <errors>"


def test_our_own_renderings_without_entries_give_nothing():
    update_reply = {"event_type": "cockpit_update", "event_payload": {"delivery": "k"}}
    assert message_entries(ours(update_reply), SOURCE) == message_entries(ours(None), SOURCE)
    assert message_entries(ours(None), SOURCE).entries == ()
    assert message_entries(ours(None), SOURCE).problems == ()


def test_our_apps_broken_or_foreign_metadata_is_reported_not_imported():
    broken = {"event_type": "cockpit_entry", "event_payload": {"v": 1, "gid": GID}}
    imported = message_entries(ours(broken), SOURCE)
    assert imported.entries == () and "uid is missing" in imported.problems[0]
    other = message_entries(ours(encode_entry("8" * 32, entry())), SOURCE)
    assert other.entries == ()
    assert other.problems == ("cockpit_entry: entries of another incident",)
    newer = {"event_type": "cockpit_entry", "event_payload": {"v": 2, "gid": GID}}
    assert "format version 2" in message_entries(ours(newer), SOURCE).problems[0]


def test_an_edit_of_our_own_message_is_not_a_correction():
    edited = ours(encode_entry(GID, entry()), edited={"user": "B0COCKPIT", "ts": "1.000001"})
    assert [w.entry for w in message_entries(edited, SOURCE).entries] == [entry()]


# ---- anything at all -----------------------------------------------------------------------

VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(ANY_CHAR, max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)
MESSAGES = st.dictionaries(
    st.sampled_from(["type", "subtype", "user", "bot_id", "app_id", "bot_profile", "text", "ts",
                     "edited", "metadata", "attachments", "files", "user_profile", "username"]),
    VALUES | st.sampled_from(["1732849260.000200", "B0COCKPIT", "A0COCKPIT", "tombstone",
                              "bot_message"]),
)  # fmt: skip


@settings(max_examples=int(100 * FUZZ), deadline=None)
@given(MESSAGES | VALUES)
def test_any_message_gives_well_formed_entries_or_a_problem_never_an_error(message):
    imported = message_entries(message, SOURCE)
    for wire_entry in imported.entries:
        assert entry_problem(wire_entry.entry) is None
    assert all("\n" not in problem for problem in imported.problems)
