"""Writing to the audit log. ``audit_event_append`` is the only way an event is written."""

from __future__ import annotations

import base64
import datetime
import json
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from audit.canonical import canonical_json, chain_hash
from audit.keys import key_id, load_signing_key
from audit.models import GENESIS_HASH, AuditCheckpoint, AuditEvent

SYSTEM_ACTOR = "system"
# Any fixed 64-bit number: the PostgreSQL advisory lock that stands for the head of the chain.
_CHAIN_HEAD_LOCK = 0x41554449545F4C47

SCOPE_KEYS = ("agency_id", "programme_id", "tender_id", "contract_id")


def _lock_chain_head() -> None:
    """Serialise appends so that two writers never link to the same previous event.

    PostgreSQL: a transaction-scoped advisory lock on the chain head, held until commit.
    SQLite: every transaction is BEGIN IMMEDIATE (see settings), which already holds the
    database's single write lock from its first statement.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_HEAD_LOCK])


def client_address(request) -> str:
    """The address a request came from, as the audit log records it (and the sign-in throttle counts it)."""
    return request.META.get("REMOTE_ADDR", "") if request is not None else ""


def client_details(request) -> dict:
    """Where an action came from, for the audit payload of sign-ins and password changes."""
    if request is None:
        return {}
    return {"ip": client_address(request), "user_agent": request.META.get("HTTP_USER_AGENT", "")[:200]}


def object_type_of(obj: models.Model) -> str:
    return obj._meta.label_lower


def audit_event_append(
    *,
    action: str,
    actor=None,
    obj: models.Model | None = None,
    payload: dict[str, Any] | None = None,
    object_type: str = "",
    object_id: str | int = "",
    object_label: str = "",
    scope: dict[str, int | None] | None = None,
    actor_label: str = "",
) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction (or a new one)."""
    if obj is not None:
        object_type = object_type or object_type_of(obj)
        object_id = object_id or obj.pk
        object_label = object_label or str(obj)[:255]
        if scope is None and hasattr(obj, "audit_scope"):
            scope = obj.audit_scope()
    scope = {key: (scope or {}).get(key) for key in SCOPE_KEYS}
    if actor is not None and not actor.is_authenticated:
        actor = None
    actor_id = actor.pk if actor is not None else None
    label = actor_label or (actor.email if actor is not None else SYSTEM_ACTOR)

    with transaction.atomic():
        _lock_chain_head()
        head = AuditEvent.objects.order_by("-sequence").values_list("sequence", "hash").first()
        sequence, prev_hash = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
        occurred_at = timezone.now()
        record = {
            "sequence": sequence,
            "occurred_at": occurred_at.astimezone(datetime.UTC).isoformat(),
            "actor_id": actor_id,
            "actor": label,
            "action": action,
            "object_type": object_type,
            "object_id": str(object_id) if object_id != "" else "",
            "object_label": object_label,
            **scope,
            "payload": payload or {},
        }
        text = canonical_json(record)
        # Store the payload exactly as it was hashed (dates and decimals already turned into text).
        stored_payload = json.loads(text)["payload"]
        return AuditEvent.objects.create(
            sequence=sequence,
            occurred_at=occurred_at,
            actor_id=actor_id,
            actor_label=label,
            action=action,
            object_type=object_type,
            object_id=record["object_id"],
            object_label=object_label,
            payload=stored_payload,
            canonical=text,
            prev_hash=prev_hash,
            hash=chain_hash(prev_hash, text),
            **scope,
        )


def model_snapshot(instance: models.Model, exclude: tuple[str, ...] = ("created_at", "updated_at")) -> dict:
    """The instance's stored values by field (foreign keys by id), for before/after payloads."""
    data: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if field.name in exclude or field.name == "password":
            continue
        data[field.attname] = field.value_from_object(instance)
    if instance.pk:
        for field in instance._meta.many_to_many:
            data[field.name] = sorted(obj.pk for obj in getattr(instance, field.name).all())
    return json.loads(canonical_json(data))


def snapshot_diff(before: dict, after: dict) -> dict:
    changed = sorted(key for key in after.keys() | before.keys() if before.get(key) != after.get(key))
    return {
        "before": {key: before.get(key) for key in changed},
        "after": {key: after.get(key) for key in changed},
    }


def audit_model_saved(
    *, instance: models.Model, before: dict | None, actor, action_prefix: str = ""
) -> AuditEvent | None:
    """Record the creation of ``instance`` (``before`` is None) or the change from ``before``.

    The "after" side is read back from the database, so that it shows what was stored (1000000 typed
    is 1000000.00 stored). A save that changed nothing writes no event and returns None.
    """
    prefix = action_prefix or object_type_of(instance)
    after = model_snapshot(type(instance)._default_manager.get(pk=instance.pk))
    if before is None:
        return audit_event_append(action=f"{prefix}.created", actor=actor, obj=instance, payload={"after": after})
    diff = snapshot_diff(before, after)
    if not diff["after"] and not diff["before"]:
        return None
    return audit_event_append(action=f"{prefix}.changed", actor=actor, obj=instance, payload=diff)


def audit_checkpoint_create() -> AuditCheckpoint | None:
    """Sign the current head of the log.

    Returns None when the log is empty; returns the latest checkpoint when it already covers the head.
    Checkpoints are not themselves audit events (that would leave the head forever uncovered);
    they live in their own append-only table and carry their own signature.
    """
    key = load_signing_key()
    with transaction.atomic():
        _lock_chain_head()
        head = AuditEvent.objects.order_by("-sequence").values_list("sequence", "hash").first()
        if head is None:
            return None
        latest = AuditCheckpoint.objects.order_by("-sequence", "-id").first()
        if latest is not None and latest.sequence == head[0] and latest.head_hash == head[1]:
            return latest
        created_at = timezone.now()
        statement = canonical_json(
            {
                "type": "audit-checkpoint",
                "sequence": head[0],
                "head_hash": head[1],
                "created_at": created_at.astimezone(datetime.UTC).isoformat(),
            }
        )
        signature = base64.b64encode(key.sign(statement.encode("utf-8"))).decode("ascii")
        checkpoint = AuditCheckpoint.objects.create(
            sequence=head[0],
            head_hash=head[1],
            created_at=created_at,
            key_id=key_id(key.public_key()),
            signed_text=statement,
            signature=signature,
        )
    return checkpoint
