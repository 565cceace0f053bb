"""manage.py verify_audit_log and manage.py audit_checkpoint, on intact and on tampered logs."""

import base64
import json
from io import StringIO

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command

from audit.canonical import canonical_json, chain_hash
from audit.keys import load_signing_key, public_key_pem
from audit.models import AuditCheckpoint, AuditEvent
from audit.services import audit_event_append
from tests.audit.helpers import broken_at, json_param, make_events, rewrite_consistently, tamper

pytestmark = pytest.mark.django_db


def run(command: str, *args) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command(command, *args, stdout=out, stderr=err, no_color=True)
    except SystemExit as exit_:
        code = exit_.code
    else:
        code = 0
    return code, out.getvalue(), err.getvalue()


def verify(*args) -> tuple[int, str, str]:
    return run("verify_audit_log", *args)


def assert_broken_at(sequence: int, *reason_fragments: str) -> str:
    code, out, err = verify()
    assert code == 1, (out, err)
    assert out == ""
    assert broken_at(err) == sequence, err
    assert f"AUDIT LOG BROKEN at event #{sequence}\n" in err
    for fragment in reason_fragments:
        assert fragment in err
    return err


@pytest.fixture
def signed_log() -> list[AuditEvent]:
    """Ten events, the tenth covered by a signed checkpoint; intact."""
    events = make_events(10)
    code, _, _ = run("audit_checkpoint")
    assert code == 0
    assert verify()[0] == 0
    return events


# --- intact logs ---------------------------------------------------------------------------------


def test_intact_log_with_a_checkpoint_verifies_and_reports_what_was_checked():
    events = make_events(5)
    code, out, _ = run("audit_checkpoint")
    assert code == 0
    assert out == f"Checkpoint signed at event #5 ({events[-1].hash}).\n"

    code, out, err = verify()

    assert code == 0, err
    assert err == ""
    assert out.splitlines() == [
        "Audit log verified.",
        "Events checked: 5",
        f"Head: #5 {events[-1].hash}",
        "Checkpoints verified: 1 (latest covers #5)",
    ]


def test_events_after_the_latest_checkpoint_verify_and_are_reported_as_not_yet_signed():
    make_events(3)
    run("audit_checkpoint")
    more = make_events(2)

    code, out, err = verify()

    assert code == 0, err
    assert "Events checked: 5" in out
    assert f"Head: #5 {more[-1].hash}" in out
    assert "Checkpoints verified: 1 (latest covers #3)" in out
    assert "2 event(s) after the latest checkpoint (#3) are linked but not yet covered by a signature." in out


def test_every_checkpoint_is_verified():
    make_events(2)
    run("audit_checkpoint")
    make_events(2)
    run("audit_checkpoint")

    code, out, err = verify()

    assert code == 0, err
    assert "Checkpoints verified: 2 (latest covers #4)" in out


def test_empty_log_verifies():
    code, out, err = verify()

    assert code == 0, err
    assert out.splitlines() == [
        "Audit log verified.",
        "Events checked: 0",
        f"Head: #0 {'0' * 64}",
        "Checkpoints verified: 0",
    ]


def test_log_without_checkpoint_verifies_and_says_so():
    make_events(2)
    code, out, err = verify()
    assert code == 0, err
    assert "Events checked: 2" in out
    assert "No signed checkpoint yet" in out


@pytest.mark.parametrize(
    "value",
    [
        1.5,
        0.1,
        1e-7,
        "١٢٣",
        1e16,
        1e20,
        -0.0,
    ],
)
def test_untampered_event_with_any_json_payload_verifies(value):
    audit_event_append(action="test.number", payload={"value": value, "list": [value]})
    code, out, err = verify()
    assert code == 0, err
    assert "Events checked: 1" in out


def test_verify_with_the_right_public_key_file(signed_log, tmp_path):
    pem = tmp_path / "audit-public.pem"
    pem.write_text(public_key_pem(load_signing_key().public_key()))
    code, out, err = verify("--public-key", str(pem))
    assert code == 0, err
    assert "Checkpoints verified: 1 (latest covers #10)" in out


# --- altered events ------------------------------------------------------------------------------


def test_altered_payload_column_is_caught(signed_log):
    tamper(f"UPDATE audit_auditevent SET payload = {json_param()} WHERE sequence = %s", ['{"n": 999}', 4])
    assert_broken_at(4, "event #4: its payload column differs from the hashed record")


def test_payload_column_with_the_same_values_in_another_key_order_is_not_an_alteration(signed_log):
    # Guards against false alarms: the payload column is compared by meaning, not by stored bytes.
    tamper(
        f"UPDATE audit_auditevent SET payload = {json_param()} WHERE sequence = %s",
        ['{ "n" : 4 }', 4],
    )
    code, out, err = verify()
    assert code == 0, err


def test_altered_action_column_is_caught(signed_log):
    tamper("UPDATE audit_auditevent SET action = %s WHERE sequence = %s", ["test.innocent", 6])
    assert_broken_at(6, "event #6: its action column differs from the hashed record")


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("actor_label", "someone.else@example.gov"),
        ("object_label", "Something else"),
        ("programme_id", 12345),
    ],
)
def test_any_altered_column_is_caught(signed_log, column, value):
    tamper(f"UPDATE audit_auditevent SET {column} = %s WHERE sequence = %s", [value, 3])
    assert_broken_at(3, f"event #3: its {column} column differs from the hashed record")


def test_altered_canonical_text_is_caught(signed_log):
    event = AuditEvent.objects.get(sequence=7)
    forged = event.canonical.replace('"payload":{"n":7}', '"payload":{"n":700}')
    assert forged != event.canonical
    tamper("UPDATE audit_auditevent SET canonical = %s WHERE sequence = %s", [forged, 7])
    assert_broken_at(7, "event #7")


def test_altered_canonical_text_and_columns_without_a_new_hash_is_caught_by_the_hash(signed_log):
    event = AuditEvent.objects.get(sequence=7)
    record = json.loads(event.canonical)
    record["payload"] = {"n": 700}
    tamper(
        f"UPDATE audit_auditevent SET canonical = %s, payload = {json_param()} WHERE sequence = %s",
        [canonical_json(record), '{"n": 700}', 7],
    )
    assert_broken_at(7, "event #7: its hash does not match its content")


@pytest.mark.parametrize("sequence", [1, 2, 5, 9, 10])
def test_consistent_rewrite_of_one_event_with_a_recomputed_hash_is_caught_and_named(signed_log, sequence):
    text, new_hash = rewrite_consistently(sequence, n=1000 + sequence)
    rewritten = AuditEvent.objects.get(sequence=sequence)
    # The event is consistent in itself: only what follows it (or the checkpoint) can give it away.
    assert (rewritten.canonical, rewritten.hash, rewritten.payload) == (text, new_hash, {"n": 1000 + sequence})
    assert chain_hash(rewritten.prev_hash, rewritten.canonical) == rewritten.hash

    assert_broken_at(sequence)


def test_consistent_rewrite_in_a_log_without_checkpoint_is_named_by_the_next_events_link():
    make_events(6)
    rewrite_consistently(3, n=333)
    assert_broken_at(3, "does not link")


def test_rewriting_from_an_event_to_the_head_is_caught_by_the_checkpoint(signed_log):
    # Re-chain every event from #6 on: each link holds, only the signed head hash gives it away.
    prev_hash = AuditEvent.objects.get(sequence=5).hash
    for sequence in range(6, 11):
        event = AuditEvent.objects.get(sequence=sequence)
        record = json.loads(event.canonical)
        record["payload"] = {"n": -sequence}
        text = canonical_json(record)
        new_hash = chain_hash(prev_hash, text)
        tamper(
            f"UPDATE audit_auditevent SET canonical = %s, payload = {json_param()}, prev_hash = %s, hash = %s "
            "WHERE sequence = %s",
            [text, canonical_json(record["payload"]), prev_hash, new_hash, sequence],
        )
        prev_hash = new_hash

    assert_broken_at(10, "differs from the signed checkpoint")


# --- removed, reordered and cut events -----------------------------------------------------------


def test_deleted_event_in_the_middle_is_named_as_missing(signed_log):
    tamper("DELETE FROM audit_auditevent WHERE sequence = %s", [7])
    assert_broken_at(7, "event #7 is missing: the log goes from #6 to #8")


def test_deleted_first_event_is_named_as_missing(signed_log):
    tamper("DELETE FROM audit_auditevent WHERE sequence = %s", [1])
    assert_broken_at(1, "event #1 is missing")


@pytest.mark.parametrize(("low", "high"), [(3, 6), (4, 5), (1, 10)])
def test_swapped_events_are_caught_at_the_lower_number(signed_log, low, high):
    tamper("UPDATE audit_auditevent SET sequence = -1 WHERE sequence = %s", [low])
    tamper("UPDATE audit_auditevent SET sequence = %s WHERE sequence = %s", [low, high])
    tamper("UPDATE audit_auditevent SET sequence = %s WHERE sequence = -1", [high])
    assert AuditEvent.objects.get(sequence=low).payload == {"n": high}

    assert_broken_at(low)


def test_tail_cut_after_a_checkpoint_is_caught_at_the_first_missing_event(signed_log):
    tamper("DELETE FROM audit_auditevent WHERE sequence >= %s", [8])
    assert AuditEvent.objects.count() == 7

    assert_broken_at(8, "events #8 to #10 are missing")


def test_whole_log_removed_under_a_checkpoint_is_caught(signed_log):
    tamper("DELETE FROM audit_auditevent")
    assert_broken_at(1, "missing")


# --- checkpoints ---------------------------------------------------------------------------------


def test_checkpoint_with_an_altered_signature_is_caught(signed_log):
    checkpoint = AuditCheckpoint.objects.get()
    signature = bytearray(base64.b64decode(checkpoint.signature))
    signature[0] ^= 0x01
    tamper(
        "UPDATE audit_auditcheckpoint SET signature = %s WHERE id = %s",
        [base64.b64encode(bytes(signature)).decode("ascii"), checkpoint.pk],
    )
    assert_broken_at(10, "checkpoint at event #10 has an invalid signature")


def test_checkpoint_whose_columns_no_longer_match_its_signed_statement_is_caught(signed_log):
    checkpoint = AuditCheckpoint.objects.get()
    forged_head = AuditEvent.objects.get(sequence=7).hash
    tamper(
        "UPDATE audit_auditcheckpoint SET sequence = %s, head_hash = %s WHERE id = %s",
        [7, forged_head, checkpoint.pk],
    )
    assert_broken_at(7, "differs from the statement that was signed")


def test_checkpoint_checked_against_a_wrong_public_key_is_refused(signed_log, tmp_path):
    stranger = tmp_path / "stranger.pem"
    stranger.write_text(public_key_pem(Ed25519PrivateKey.generate().public_key()))

    code, out, err = verify("--public-key", str(stranger))

    assert code == 1
    assert out == ""
    assert broken_at(err) == 10
    assert "signed by an unknown key" in err


def test_checkpoint_forged_with_another_key_is_refused(signed_log):
    # Someone with database access but without the signing key signs a statement of their own.
    stranger = Ed25519PrivateKey.generate()
    checkpoint = AuditCheckpoint.objects.get()
    signature = base64.b64encode(stranger.sign(checkpoint.signed_text.encode("utf-8"))).decode("ascii")
    tamper("UPDATE audit_auditcheckpoint SET signature = %s WHERE id = %s", [signature, checkpoint.pk])
    assert_broken_at(10, "invalid signature")


def test_audit_checkpoint_on_an_empty_log_has_nothing_to_sign():
    code, out, err = run("audit_checkpoint")
    assert code == 0, err
    assert "nothing to sign" in out
    assert not AuditCheckpoint.objects.exists()


def test_audit_checkpoint_twice_without_new_events_signs_once():
    events = make_events(3)
    run("audit_checkpoint")
    code, out, err = run("audit_checkpoint")

    assert code == 0, err
    assert "#3" in out
    checkpoint = AuditCheckpoint.objects.get()
    assert (checkpoint.sequence, checkpoint.head_hash) == (3, events[-1].hash)
    statement = json.loads(checkpoint.signed_text)
    assert statement["type"] == "audit-checkpoint"
    assert (statement["sequence"], statement["head_hash"]) == (3, events[-1].hash)

    make_events(1)
    run("audit_checkpoint")
    assert list(AuditCheckpoint.objects.order_by("id").values_list("sequence", flat=True)) == [3, 4]
