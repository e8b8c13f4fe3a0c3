"""Identities: random for local writes, derived for events several laptops record."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cockpit.sync.ids import (
    derived_uid,
    escalation_uid,
    is_id,
    is_node,
    new_gid,
    new_node,
    new_uid,
    slack_deleted_uid,
    slack_edit_uid,
    slack_message_uid,
)
from tests.sync.strategies import ANY_CHAR

GID = "9" * 32


def test_new_ids_are_random_hex_of_the_documented_width():
    made = {new_uid() for _ in range(200)} | {new_gid() for _ in range(200)}
    assert len(made) == 400
    assert all(is_id(value) for value in made)
    node = new_node()
    assert is_node(node) and len(node) == 16 and node != new_node()


def test_derived_uids_are_the_same_on_every_laptop_and_differ_per_event():
    assert escalation_uid(GID, "api") == derived_uid(GID, "escalation:api")
    # Pinned: laptops running different versions must derive the same uid for one event.
    assert escalation_uid(GID, "api") == "1bceb00d3d6cb495ee92d77a7207fe8a"
    assert slack_message_uid(GID, "C0123INC", "1732849200.123456") == (
        "83358fc49059fb8865ea95a9ed933d5f"
    )
    names = {
        escalation_uid(GID, "api"),
        escalation_uid(GID, "db"),
        escalation_uid("8" * 32, "api"),
        slack_message_uid(GID, "C01", "1732849200.123456"),
        slack_message_uid(GID, "C02", "1732849200.123456"),
        slack_edit_uid(GID, "C01", "1732849200.123456", "1732849260.000100"),
        slack_edit_uid(GID, "C01", "1732849200.123456", "1732849261.000100"),
        slack_deleted_uid(GID, "C01", "1732849200.123456"),
    }
    assert len(names) == 8
    assert all(is_id(name) for name in names)
    assert slack_message_uid(GID, "C01", "1.000001") == derived_uid(GID, "slack:C01:1.000001")
    assert slack_edit_uid(GID, "C01", "1.000001", "2.000002") == derived_uid(
        GID, "slack:C01:1.000001:edit:2.000002"
    )
    assert slack_deleted_uid(GID, "C01", "1.000001") == derived_uid(
        GID, "slack:C01:1.000001:deleted"
    )


@given(st.text(ANY_CHAR))
def test_any_name_derives_a_uid_even_with_lone_surrogates(name):
    assert is_id(derived_uid(GID, name))
    assert derived_uid(GID, name) == derived_uid(GID, name)


def test_validators_refuse_what_is_not_an_id():
    for bad in ["", "A" * 32, "g" * 32, "a" * 31, "a" * 33, 5, None, "a" * 31 + "\n"]:
        assert not is_id(bad)
    for bad in ["", "a" * 7, "a" * 33, "0D0D0D0D", None, "abcdefg1"]:
        assert not is_node(bad)
