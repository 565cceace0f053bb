"""Proof bundles: everything needed to prove, offline, that a contract's trail is what the audit log recorded.

A bundle is one JSON document:

- ``events``: every event from the contract's first trail event to the nearest signed checkpoint at or after
  its last one — each with its canonical text, previous hash and hash — those of the trail flagged. The
  events in between are included whole because the chain's links (``hash = SHA-256(prev_hash + canonical)``)
  cannot be recomputed without them.
- ``checkpoint``: the signed statement covering the last event, its Ed25519 signature and the signing key.
- ``documents``: the contract's signed PDFs (and its amendments'), each with its SHA-256, which the trail's
  signing events name.

``verify_bundle`` checks it with nothing but the bundle (and, better, the published public key): every link,
the checkpoint's signature, that the trail is complete for the contract within the range, and every document
against its hash and against the log. Changing any byte of any event breaks it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db.models import Max, Min

from audit.canonical import chain_hash
from audit.keys import key_id, load_public_key_pem, load_signing_key, public_key_pem
from audit.models import AuditCheckpoint, AuditEvent
from audit.services import audit_checkpoint_create
from audit.trail import core_filter as trail_filter

FORMAT = "ppp-audit-proof/1"


def _documents(contract) -> list[dict]:
    documents = []
    for version in contract.versions.order_by("number").prefetch_related("signatures"):
        last = max(version.signatures.all(), key=lambda s: (s.signed_at, s.pk), default=None)
        field_file = last.pdf if last else version.pdf
        if not field_file:
            continue
        with field_file.open("rb") as handle:
            content = handle.read()
        kind = f"amendment {version.amendment.number}" if version.amendment_id else "contract"
        documents.append(
            {
                "name": f"{contract.reference}-v{version.number}{'-signed' if last else ''}.pdf",
                "describes": f"{kind}, version {version.number}" + (", signed" if last else ", unsigned"),
                "sha256": hashlib.sha256(content).hexdigest(),
                "content_base64": base64.b64encode(content).decode("ascii"),
            }
        )
    return documents


def build_bundle(contract) -> dict:
    """The proof bundle of ``contract`` (signing a new checkpoint first when none covers its last event)."""
    bounds = AuditEvent.objects.filter(trail_filter(contract)).aggregate(first=Min("sequence"), last=Max("sequence"))
    if bounds["first"] is None:
        raise ValueError("The contract has no event in the audit log.")
    checkpoint = (
        AuditCheckpoint.objects.filter(sequence__gte=bounds["last"]).order_by("sequence", "id").first()
        or audit_checkpoint_create()
    )
    events = _events_between(contract, bounds["first"], checkpoint.sequence)
    return {
        "format": FORMAT,
        "contract": {
            "id": contract.pk,
            "number": str(contract.number),
            "reference": contract.reference,
            "tender_id": contract.tender_id,
        },
        "events": events,
        "checkpoint": _checkpoint_section(checkpoint),
        "documents": _documents(contract),
    }


@dataclass
class BundleReport:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    events: int = 0
    trail_events: int = 0
    documents: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _check_events(bundle: dict, report: BundleReport) -> None:
    contract = bundle.get("contract") or {}
    events = bundle.get("events")
    if not isinstance(events, list) or not events:
        report.problems.append("The bundle has no events.")
        return
    previous = None
    for index, event in enumerate(events):
        try:
            sequence, canonical = int(event["sequence"]), str(event["canonical"])
            prev_hash, stated = str(event["prev_hash"]), str(event["hash"])
            record = json.loads(canonical)
        except (KeyError, TypeError, ValueError):
            report.problems.append(f"Event {index + 1} of the bundle is malformed.")
            return
        if not isinstance(record, dict) or record.get("sequence") != sequence:
            report.problems.append(f"Event #{sequence}: its canonical record names another sequence number.")
        if chain_hash(prev_hash, canonical) != stated:
            report.problems.append(f"Event #{sequence}: its hash does not match its content (it was altered).")
        if previous is not None:
            if sequence != previous["sequence"] + 1:
                report.problems.append(f"Event #{previous['sequence'] + 1} is missing before event #{sequence}.")
            elif prev_hash != previous["hash"]:
                report.problems.append(f"Event #{sequence} does not link to event #{previous['sequence']}.")
        of_contract = isinstance(record, dict) and (
            record.get("contract_id") == contract.get("id") or record.get("tender_id") == contract.get("tender_id")
        )
        if of_contract and not event.get("trail"):
            report.problems.append(f"Event #{sequence} belongs to the contract's trail but is not marked as such.")
        if event.get("trail") and not of_contract:
            report.problems.append(f"Event #{sequence} is marked as the contract's but names another contract.")
        report.trail_events += bool(event.get("trail")) and of_contract
        report.events += 1
        previous = {"sequence": sequence, "hash": stated}
    if not report.trail_events:
        report.problems.append("No event of the contract is in the bundle.")


def _check_checkpoint(bundle: dict, report: BundleReport, trusted: list[Ed25519PublicKey] | None) -> None:
    checkpoint = bundle.get("checkpoint") or {}
    events = bundle.get("events") or []
    try:
        public_key = load_public_key_pem(checkpoint["public_key_pem"])
        statement = json.loads(checkpoint["signed_text"])
        signature = base64.b64decode(checkpoint["signature"], validate=True)
    except (KeyError, TypeError, ValueError, binascii.Error):
        report.problems.append("The checkpoint is malformed (statement, signature or public key).")
        return
    if key_id(public_key) != checkpoint.get("key_id"):
        report.problems.append("The checkpoint's key id does not match its public key.")
    try:
        public_key.verify(signature, checkpoint["signed_text"].encode("utf-8"))
    except InvalidSignature:
        report.problems.append("The checkpoint's signature is not valid: its statement was altered or forged.")
    if trusted is None:
        report.notes.append(
            f"Trusting the key in the bundle ({key_id(public_key)[:16]}…): compare it with the published key, "
            "or pass --key."
        )
    elif key_id(public_key) not in {key_id(key) for key in trusted}:
        report.problems.append("The checkpoint is signed by a key you did not give as trusted.")
    last = events[-1] if events and isinstance(events[-1], dict) else {}
    if statement.get("sequence") != last.get("sequence") or statement.get("head_hash") != last.get("hash"):
        report.problems.append("The signed checkpoint does not cover the bundle's last event.")


def _check_documents(bundle: dict, report: BundleReport) -> None:
    trail_text = "\n".join(
        str(e.get("canonical", "")) for e in bundle.get("events") or [] if isinstance(e, dict) and e.get("trail")
    )
    for document in bundle.get("documents") or []:
        try:
            content = base64.b64decode(document["content_base64"], validate=True)
            stated = str(document["sha256"])
        except (KeyError, TypeError, ValueError, binascii.Error):
            report.problems.append("A document of the bundle is malformed.")
            continue
        name = document.get("name", "?")
        if hashlib.sha256(content).hexdigest() != stated:
            report.problems.append(f"Document {name}: its content does not match its SHA-256.")
        elif stated not in trail_text:
            report.problems.append(f"Document {name}: its SHA-256 appears in no event of the contract's trail.")
        report.documents += 1


def verify_bundle(bundle, *, trusted: list[Ed25519PublicKey] | None = None) -> BundleReport:
    report = BundleReport()
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        report.problems.append(f"This is not a proof bundle ({FORMAT}).")
        return report
    _check_events(bundle, report)
    _check_checkpoint(bundle, report, trusted)
    _check_documents(bundle, report)
    return report


def _events_between(contract, first: int, last: int) -> list[dict]:
    """Every event from ``first`` to ``last`` (the chain cannot be checked with gaps), those of the contract's
    trail flagged."""
    trail = set(
        AuditEvent.objects.filter(trail_filter(contract), sequence__gte=first, sequence__lte=last).values_list(
            "sequence", flat=True
        )
    )
    return [
        {**row, "trail": row["sequence"] in trail}
        for row in AuditEvent.objects.filter(sequence__gte=first, sequence__lte=last)
        .order_by("sequence")
        .values("sequence", "canonical", "prev_hash", "hash")
        .iterator(chunk_size=2000)
    ]


def _checkpoint_section(checkpoint: AuditCheckpoint) -> dict:
    return {
        "sequence": checkpoint.sequence,
        "head_hash": checkpoint.head_hash,
        "signed_text": checkpoint.signed_text,
        "signature": checkpoint.signature,
        "key_id": checkpoint.key_id,
        "public_key_pem": public_key_pem(load_signing_key().public_key()),
    }


def trail_integrity(contract) -> dict:
    """Whether the contract's trail verifies up to the nearest signed checkpoint: every link from its first
    event to that checkpoint, and the checkpoint's signature with the system's key (no new checkpoint is
    signed here; events after the latest checkpoint are reported as not yet covered)."""
    bounds = AuditEvent.objects.filter(trail_filter(contract)).aggregate(first=Min("sequence"), last=Max("sequence"))
    if bounds["first"] is None:
        return {"ok": True, "checkpoint": None, "uncovered": 0, "problems": []}
    checkpoint = AuditCheckpoint.objects.filter(sequence__gte=bounds["first"]).order_by("-sequence", "-id").first()
    if checkpoint is None:
        return {
            "ok": True,
            "checkpoint": None,
            "uncovered": AuditEvent.objects.filter(trail_filter(contract)).count(),
            "problems": [],
        }
    checked = {
        "contract": {"id": contract.pk, "tender_id": contract.tender_id},
        "events": _events_between(contract, bounds["first"], checkpoint.sequence),
        "checkpoint": _checkpoint_section(checkpoint),
    }
    report = BundleReport()
    _check_events(checked, report)
    _check_checkpoint(checked, report, [load_signing_key().public_key()])
    uncovered = AuditEvent.objects.filter(trail_filter(contract), sequence__gt=checkpoint.sequence).count()
    return {"ok": report.ok, "checkpoint": checkpoint, "uncovered": uncovered, "problems": report.problems}
