"""Walks the whole audit log in sequence, in constant memory, and checks every link and checkpoint."""

from __future__ import annotations

import base64
import datetime
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.canonical import chain_hash
from audit.keys import key_id
from audit.models import GENESIS_HASH, AuditCheckpoint, AuditEvent

BATCH_SIZE = 2000
_COLUMNS = (
    "sequence",
    "occurred_at",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "object_label",
    "agency_id",
    "programme_id",
    "tender_id",
    "contract_id",
    "payload",
    "canonical",
    "prev_hash",
    "hash",
)
# Canonical key -> column name, where they differ.
_CANONICAL_TO_COLUMN = {"actor": "actor_label"}


@dataclass
class Problem:
    sequence: int
    reason: str


@dataclass
class VerificationResult:
    events_checked: int = 0
    head_sequence: int = 0
    head_hash: str = GENESIS_HASH
    checkpoints_verified: int = 0
    latest_checkpoint: int | None = None
    problem: Problem | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problem is None


def _events() -> Iterator[dict]:
    last = 0
    while True:
        rows = list(AuditEvent.objects.filter(sequence__gt=last).order_by("sequence").values(*_COLUMNS)[:BATCH_SIZE])
        if not rows:
            return
        yield from rows
        last = rows[-1]["sequence"]


def _checkpoints() -> Iterator[AuditCheckpoint]:
    last_id = 0
    while True:
        rows = list(AuditCheckpoint.objects.filter(id__gt=last_id).order_by("id")[:BATCH_SIZE])
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id


def _same_json(stored, hashed) -> bool:
    """Whether the payload column holds the same JSON value as the hashed text.

    Key order and number spelling may differ (PostgreSQL's jsonb stores 1e16 as 10000000000000000
    and -0.0 as 0), so numbers are compared by value and never as float; types must otherwise match.
    """
    if isinstance(stored, bool) or isinstance(hashed, bool):
        return type(stored) is type(hashed) and stored == hashed
    if isinstance(stored, int | float | Decimal) and isinstance(hashed, int | float | Decimal):
        return Decimal(str(stored)) == Decimal(str(hashed))
    if isinstance(stored, dict) and isinstance(hashed, dict):
        return stored.keys() == hashed.keys() and all(_same_json(stored[k], hashed[k]) for k in stored)
    if isinstance(stored, list) and isinstance(hashed, list):
        return len(stored) == len(hashed) and all(_same_json(a, b) for a, b in zip(stored, hashed, strict=True))
    return type(stored) is type(hashed) and stored == hashed


def _column_mismatch(row: dict) -> str | None:
    """Name the first column that disagrees with the canonical text that was hashed."""
    try:
        record = json.loads(row["canonical"])
    except (TypeError, ValueError):
        return "its canonical record is not valid JSON"
    expected_keys = {
        "sequence",
        "occurred_at",
        "actor_id",
        "actor",
        "action",
        "object_type",
        "object_id",
        "object_label",
        "agency_id",
        "programme_id",
        "tender_id",
        "contract_id",
        "payload",
    }
    if set(record) != expected_keys:
        return "its canonical record has missing or extra fields"
    for key in sorted(expected_keys):
        column = _CANONICAL_TO_COLUMN.get(key, key)
        value = row[column]
        if key == "occurred_at":
            stored = value.astimezone(datetime.UTC).isoformat() if value else None
            if stored != record[key]:
                return "its time column differs from the hashed record"
            continue
        if key == "payload":
            if not _same_json(value, json.loads(row["canonical"], parse_float=Decimal)["payload"]):
                return "its payload column differs from the hashed record"
            continue
        if value != record[key]:
            return f"its {column} column differs from the hashed record"
    return None


def _verify_checkpoint_signature(checkpoint: AuditCheckpoint, public_keys: dict[str, Ed25519PublicKey]) -> str | None:
    key = public_keys.get(checkpoint.key_id)
    if key is None:
        return f"checkpoint at event #{checkpoint.sequence} is signed by an unknown key {checkpoint.key_id[:16]}…"
    try:
        key.verify(base64.b64decode(checkpoint.signature), checkpoint.signed_text.encode("utf-8"))
    except (InvalidSignature, ValueError):
        return f"checkpoint at event #{checkpoint.sequence} has an invalid signature"
    try:
        statement = json.loads(checkpoint.signed_text)
    except ValueError:
        return f"checkpoint at event #{checkpoint.sequence} has an unreadable statement"
    if statement.get("sequence") != checkpoint.sequence or statement.get("head_hash") != checkpoint.head_hash:
        return f"checkpoint at event #{checkpoint.sequence} differs from the statement that was signed"
    return None


def verify_audit_log(public_keys: list[Ed25519PublicKey]) -> VerificationResult:
    """Check the chain from the first event to the last, and every checkpoint against it.

    Checkpoints are matched by the sequence their *signed* statement names, so a checkpoint row whose
    columns were edited cannot vouch for a rewritten log.
    """
    result = VerificationResult()
    keys = {key_id(k): k for k in public_keys}

    # Checkpoints are few compared to events (one per hour or day); keep only sequence -> hash.
    covered: dict[int, list[str]] = {}
    for checkpoint in _checkpoints():
        error = _verify_checkpoint_signature(checkpoint, keys)
        if error:
            result.problem = Problem(checkpoint.sequence, error)
            return result
        covered.setdefault(checkpoint.sequence, []).append(checkpoint.head_hash)
    highest_checkpoint = max(covered, default=None)
    result.latest_checkpoint = highest_checkpoint

    expected = 1
    prev_hash = GENESIS_HASH
    suspect: dict | None = None  # a link break waiting for the next event to tell who was altered

    for row in _events():
        sequence = row["sequence"]
        if suspect is not None:
            # The previous event did not link to the one before it. If this event links to it, the
            # previous event is consistent with what followed and the one before was rewritten.
            culprit = suspect["sequence"] - 1 if row["prev_hash"] == suspect["hash"] else suspect["sequence"]
            result.problem = Problem(culprit, suspect["reason"])
            return result
        if sequence != expected:
            result.problem = Problem(
                expected,
                f"event #{expected} is missing: the log goes from #{expected - 1} to #{sequence}",
            )
            return result
        mismatch = _column_mismatch(row)
        if mismatch:
            result.problem = Problem(sequence, f"event #{sequence}: {mismatch}")
            return result
        if chain_hash(row["prev_hash"], row["canonical"]) != row["hash"]:
            result.problem = Problem(sequence, f"event #{sequence}: its hash does not match its content")
            return result
        if row["prev_hash"] != prev_hash:
            suspect = {
                "sequence": sequence,
                "hash": row["hash"],
                "reason": (
                    f"event #{sequence} does not link to event #{sequence - 1} "
                    f"(its previous hash differs): one of them was rewritten"
                ),
            }
        for signed_hash in covered.get(sequence, []):
            if signed_hash != row["hash"]:
                result.problem = Problem(
                    sequence, f"event #{sequence} differs from the signed checkpoint at #{sequence}"
                )
                return result
        if sequence in covered:
            result.checkpoints_verified += len(covered[sequence])
        result.events_checked += 1
        result.head_sequence = sequence
        result.head_hash = row["hash"]
        prev_hash = row["hash"]
        expected = sequence + 1

    if suspect is not None:
        result.problem = Problem(suspect["sequence"] - 1, suspect["reason"])
        return result
    if highest_checkpoint is not None and highest_checkpoint > result.head_sequence:
        result.problem = Problem(
            result.head_sequence + 1,
            f"events #{result.head_sequence + 1} to #{highest_checkpoint} are missing: the log ends at "
            f"#{result.head_sequence} but a signed checkpoint covers #{highest_checkpoint}",
        )
        return result
    if highest_checkpoint is not None and result.head_sequence > highest_checkpoint:
        result.notes.append(
            f"{result.head_sequence - highest_checkpoint} event(s) after the latest checkpoint "
            f"(#{highest_checkpoint}) are linked but not yet covered by a signature."
        )
    elif highest_checkpoint is None and result.events_checked:
        result.notes.append("No signed checkpoint yet: run `manage.py audit_checkpoint`.")
    return result
