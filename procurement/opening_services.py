"""Key custody and the opening ceremony of sealed bids.

* The opening committee is named by the tender's officers while the tender is a draft: at least
  ``OPENING_COMMITTEE_MINIMUM`` people (officers of the agency or committee members), each with a personal key.
* At publication (``tender_key_create``, called by the approval) the tender's key pair is made; its private key
  is split 2-of-(n+1) among the members and one recovery share that is returned once and stored nowhere.
* After the submission deadline two distinct members confirm, each re-entering their password
  (``opening_confirm``). The first member's unlocked share waits, encrypted with the server key, for at most
  ``BID_OPENING_WINDOW``; the second confirmation rebuilds the tender key in memory, opens the stage's
  envelopes, checks each against its receipt and publishes the opening record.
* ``sealed_access_refused`` records every refused attempt to read sealed data.
"""

from __future__ import annotations

import base64
import hashlib
import tempfile
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import models, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from accounts import keys
from accounts.models import PersonalKey, User
from accounts.roles import Role
from audit.models import AuditEvent
from audit.services import audit_event_append
from core.exceptions import ActionRefused, require_perm
from notifications.services import notify
from procurement import sealing, tender_services
from procurement.models import (
    Bid,
    BidConsortiumMember,
    BidEnvelope,
    BidFile,
    BidOpening,
    OpeningCommitteeMember,
    Tender,
    TenderKey,
    TenderKeyShare,
)
from procurement.models.bids import BidStatus, EnvelopeKind, EnvelopeState, OpeningStage, OpeningStatus
from procurement.models.tenders import EvaluationMethod, TenderStatus
from procurement.tender_services import (
    _atomic_recording_refusals,
    _close,
    _locked,
    _RecordedRefusal,
    tender_officers,
)
from vendors.models import Vendor


def _now():
    """The one server clock (``tender_services._now``), so a test that moves it moves every service."""
    return tender_services._now()


def _member_id(user: User) -> str:
    return f"user-{user.pk}"


# The committee -----------------------------------------------------------------------------------


def may_sit_on_opening_committee(user: User, tender: Tender) -> bool:
    if not user.is_active or user.has_role(Role.VENDOR_USER):
        return False
    if user.has_role(Role.COMMITTEE_MEMBER):
        return True
    return user.has_role(Role.PROCUREMENT_OFFICER) and user.agency_id == tender.agency_id


def opening_committee_errors(tender: Tender) -> list[str]:
    """What stops the committee from holding the tender's key (empty when it is ready)."""
    members = list(tender.opening_committee.select_related("user"))
    problems = []
    minimum = settings.OPENING_COMMITTEE_MINIMUM
    if len(members) < minimum:
        problems.append(
            _("Name at least %(minimum)s members of the opening committee (now %(count)s).")
            % {"minimum": minimum, "count": len(members)}
        )
    with_keys = set(
        PersonalKey.objects.active().filter(user__in=[m.user_id for m in members]).values_list("user_id", flat=True)
    )
    missing = [str(m.user) for m in members if m.user_id not in with_keys]
    if missing:
        problems.append(
            _("These members have not set up their personal key yet: %(names)s.") % {"names": ", ".join(missing)}
        )
    return problems


@transaction.atomic
def opening_committee_add(*, actor, tender: Tender, user: User) -> OpeningCommitteeMember:
    tender = _locked(tender)
    require_perm(actor, "procurement.change_tender", tender)
    if tender.status != TenderStatus.DRAFT:
        raise ActionRefused(_("The opening committee is named while the tender is a draft."))
    if not may_sit_on_opening_committee(user, tender):
        raise ValidationError(
            {"user": _("Only active committee members, or officers of this agency, can open its bids.")}
        )
    if tender.opening_committee.filter(user=user).exists():
        raise ValidationError({"user": _("%(name)s is already on the opening committee.") % {"name": user}})
    member = OpeningCommitteeMember.objects.create(tender=tender, user=user, nominated_by=actor)
    key = keys.active_key(user)
    audit_event_append(
        action="tender.opening_member_added",
        actor=actor,
        obj=tender,
        payload={"member_id": user.pk, "member": user.email, "key_fingerprint": key.fingerprint if key else None},
    )
    if key is None:
        notify(recipients=[user], kind="opening.key_needed", tender=tender)
    return member


@transaction.atomic
def opening_committee_remove(*, actor, tender: Tender, member: OpeningCommitteeMember) -> None:
    tender = _locked(tender)
    require_perm(actor, "procurement.change_tender", tender)
    if tender.status != TenderStatus.DRAFT or member.tender_id != tender.pk:
        raise ActionRefused(_("The opening committee is named while the tender is a draft."))
    user = member.user
    member.delete()
    audit_event_append(
        action="tender.opening_member_removed",
        actor=actor,
        obj=tender,
        payload={"member_id": user.pk, "member": user.email},
    )


# The tender key ----------------------------------------------------------------------------------


def tender_key_create(*, actor, tender: Tender) -> str:
    """Make the tender's key at publication (inside the approval's transaction); return the recovery share.

    The recovery share is shown once to the person publishing, for the agency's offline safe; it is not
    stored, logged or e-mailed.
    """
    problems = opening_committee_errors(tender)
    if problems:
        raise ActionRefused(" ".join(problems))
    members = list(tender.opening_committee.select_related("user"))
    personal = {k.user_id: k for k in PersonalKey.objects.active().filter(user__in=[m.user_id for m in members])}
    material = sealing.create_tender_key(
        tender_reference=tender.reference,
        member_public_keys={_member_id(m.user): bytes(personal[m.user_id].public_key) for m in members},
    )
    tender_key = TenderKey.objects.create(
        tender=tender,
        public_key=material.public_key,
        fingerprint=keys.fingerprint(material.public_key),
        encrypted_private_key=material.encrypted_private_key,
        threshold=material.threshold,
        created_by=actor,
    )
    TenderKeyShare.objects.bulk_create(
        TenderKeyShare(
            tender_key=tender_key,
            member=m.user,
            personal_key=personal[m.user_id],
            blob=material.member_shares[_member_id(m.user)],
        )
        for m in members
    )
    audit_event_append(
        action="tender.sealing_key_created",
        actor=actor,
        obj=tender,
        payload={
            "tender_key_fingerprint": tender_key.fingerprint,
            "threshold": material.threshold,
            "members": [
                {"member_id": m.user_id, "member": m.user.email, "key_fingerprint": personal[m.user_id].fingerprint}
                for m in members
            ],
            "recovery_share_issued_to": actor.email if actor else None,
        },
    )
    return material.recovery_share


# Refusals ----------------------------------------------------------------------------------------


def sealed_access_refused(*, user, obj, what: str, request=None) -> None:
    """Record, in its own transaction, an attempt to read sealed data (a page, a download, an export)."""
    from audit.services import client_details

    tender = obj if isinstance(obj, Tender) else getattr(obj, "tender", None)
    payload: dict[str, Any] = {"what": what}
    if isinstance(obj, Bid):
        payload["bid_id"] = obj.pk
    if request is not None:
        payload.update(client_details(request))
    with transaction.atomic():
        audit_event_append(
            action="bid.sealed_access_refused",
            actor=user if user is not None and user.is_authenticated else None,
            actor_label="" if user is not None and user.is_authenticated else "anonymous",
            obj=tender if tender is not None else obj,
            payload=payload,
        )


def bid_file_integrity_failure_record(*, user, bid_file: BidFile, found: str | None) -> None:
    """An opened bid document that is missing or no longer matches the SHA-256 computed at its opening was not
    served: recorded, in its own transaction, for the agency and the auditors."""
    with transaction.atomic():
        audit_event_append(
            action="bid.document_integrity_failed",
            actor=user,
            obj=bid_file.bid.tender,
            payload={
                "bid_id": bid_file.bid_id,
                "file": bid_file.label,
                "expected_sha256": bid_file.opened_sha256,
                "found_sha256": found or "",
            },
        )


# The ceremony ------------------------------------------------------------------------------------


def _stage_for(tender: Tender) -> str:
    if tender.status == TenderStatus.CLOSED:
        return (
            OpeningStage.BOTH if tender.evaluation_method == EvaluationMethod.LOWEST_PRICE else OpeningStage.TECHNICAL
        )
    return OpeningStage.FINANCIAL


class WrongOpeningPassword(ActionRefused):
    """The member's password did not match at the opening: a refusal of its own, so that the web and the API can
    put it on the password field."""


class _WrongOpeningPasswordRecorded(_RecordedRefusal):
    """... recorded like every refused opening."""

    public = WrongOpeningPassword


def _refusal(message: str, *, tender: Tender, actor, reason: str) -> _RecordedRefusal:
    return _RecordedRefusal(
        message, tender=tender, actor=actor, action="tender.opening_refused", payload={"reason": reason}
    )


def _waiting(tender: Tender, now) -> BidOpening | None:
    opening = BidOpening.objects.select_for_update().filter(tender=tender, status=OpeningStatus.WAITING).first()
    if opening is not None and not opening.is_waiting(now):
        opening.status = OpeningStatus.EXPIRED
        opening.pending_shares = {}
        opening.save(update_fields=["status", "pending_shares"])
        audit_event_append(
            action="tender.opening_expired",
            actor=None,
            obj=tender,
            payload={"first_member": opening.first_member.email, "stage": opening.stage},
        )
        return None
    return opening


def _member_share(tender: Tender, tender_key: TenderKey, actor: User, password: str):
    """The actor's own share of the tender key, and their unlocked personal private key."""
    try:
        share = TenderKeyShare.objects.select_related("personal_key").get(tender_key=tender_key, member=actor)
    except TenderKeyShare.DoesNotExist:
        raise _refusal(
            _("You hold no share of this tender's key."), tender=tender, actor=actor, reason="no share"
        ) from None
    personal_key, private_key = keys.unlock(user=actor, password=password)
    if personal_key.pk != share.personal_key_id:
        raise _refusal(
            _(
                "Your personal key was replaced after this tender was published (a password reset), so your "
                "share cannot be opened. Two other members, or one member and the agency's recovery share, "
                "must open it."
            ),
            tender=tender,
            actor=actor,
            reason="personal key replaced",
        )
    try:
        opened = sealing.open_share(
            encrypted_share=bytes(share.blob),
            member_private_key=private_key,
            tender_reference=tender.reference,
            member_id=_member_id(actor),
        )
    except (sealing.ShareTampered, sealing.FormatError):
        raise _refusal(
            _("Your stored share of this tender's key is damaged; another member must open the bids."),
            tender=tender,
            actor=actor,
            reason="share damaged",
        ) from None
    return opened, private_key


def _pending_id(tender: Tender, user_id: int) -> str:
    return f"pending-{tender.pk}-user-{user_id}"


def _custodians(tender: Tender, first: User) -> list[PersonalKey]:
    """The active personal keys of everyone who may complete an opening that ``first`` started: the other
    opening-committee members, and the agency's officers (who may bring the recovery share)."""
    members = tender.opening_committee.exclude(user=first).values_list("user_id", flat=True)
    officers = User.objects.filter(
        groups__name=Role.PROCUREMENT_OFFICER, agency_id=tender.agency_id, is_active=True
    ).exclude(pk=first.pk)
    return list(
        PersonalKey.objects.active()
        .filter(user__is_active=True)
        .filter(Q(user_id__in=list(members)) | Q(user__in=officers))
        .distinct()
    )


def _seal_pending(tender: Tender, first: User, share: sealing.Share) -> dict[str, str]:
    return {
        str(key.user_id): base64.b64encode(
            sealing.seal_share_for(
                share=share,
                recipient_public_key=bytes(key.public_key),
                tender_reference=tender.reference,
                recipient_id=_pending_id(tender, key.user_id),
            )
        ).decode("ascii")
        for key in _custodians(tender, first)
    }


def _open_pending(tender: Tender, opening: BidOpening, actor: User, private_key) -> sealing.Share:
    blob = (opening.pending_shares or {}).get(str(actor.pk))
    if not blob:
        raise _refusal(
            _(
                "The first confirmation was not sealed for you (you had no personal key then); another member must "
                "complete the opening."
            ),
            tender=tender,
            actor=actor,
            reason="not a custodian of the first share",
        )
    try:
        return sealing.open_share(
            encrypted_share=base64.b64decode(blob),
            member_private_key=private_key,
            tender_reference=tender.reference,
            member_id=_pending_id(tender, actor.pk),
        )
    except (sealing.ShareTampered, sealing.FormatError, ValueError):
        raise _refusal(
            _("The first confirmation cannot be opened with your key; start the opening again."),
            tender=tender,
            actor=actor,
            reason="pending share damaged",
        ) from None


@_atomic_recording_refusals
def opening_confirm(*, actor, tender: Tender, password: str, recovery_share: str = "") -> BidOpening:
    """One member's confirmation. The first waits for a second distinct member; the second opens.

    A person who is an officer of the tender's agency but holds no usable share may give the agency's recovery
    share instead, as the second confirmation.
    """
    tender = _locked(tender)
    now = _now()
    if actor is None or not actor.is_authenticated:
        raise PermissionDenied("procurement.open_bids")
    uses_recovery = bool((recovery_share or "").strip())
    allowed = actor.has_perm("procurement.open_bids", tender) or (
        uses_recovery and actor.has_perm("procurement.change_tender", tender)
    )
    if not allowed:
        raise _refusal(
            _("Only members of this tender's opening committee can open its bids."),
            tender=tender,
            actor=actor,
            reason="not a member",
        )
    if not tender.submission_deadline_passed(now):
        raise _refusal(
            _("Bids cannot be opened before the submission deadline (%(deadline)s).")
            % {"deadline": tender.submission_deadline.isoformat()},
            tender=tender,
            actor=actor,
            reason="before the deadline",
        )
    if tender.status == TenderStatus.PUBLISHED:
        _close(tender, actor=None, now=now)
    if tender.status not in (TenderStatus.CLOSED, TenderStatus.EVALUATION):
        raise ActionRefused(
            _("The tender is now “%(status)s”: there is nothing to open.") % {"status": tender.get_status_display()}
        )
    tender_key = TenderKey.objects.filter(tender=tender).first()
    if tender_key is None:
        raise ActionRefused(_("This tender has no sealing key, so it has no sealed bids to open."))
    stage = _stage_for(tender)
    if stage == OpeningStage.FINANCIAL:
        if Bid.objects.filter(tender=tender, status=BidStatus.OPENED).exists():
            raise ActionRefused(_("Financial envelopes are opened after the technical evaluation is concluded."))
        if not Bid.objects.filter(tender=tender, status=BidStatus.QUALIFIED).exists():
            raise ActionRefused(_("No bid qualified technically: there is no financial envelope to open."))
        if not _sealed_financial_of_qualified(tender).exists():
            raise ActionRefused(_("The financial envelopes of the qualified bids have already been opened."))
    if not keys.active_key(actor) and not uses_recovery:
        raise ActionRefused(_("You have no personal key; set one up on your profile first."))
    # The password is checked before anything else: it is what proves the person is present.
    if not actor.check_password(password or ""):
        raise _WrongOpeningPasswordRecorded(
            _("This is not your password."),
            tender=tender,
            actor=actor,
            action="tender.opening_refused",
            payload={"reason": "wrong password"},
        )

    opening = _waiting(tender, now)
    if opening is not None and opening.first_member_id == actor.pk:
        raise _refusal(
            _("You have already confirmed. A second, different member must confirm to open the bids."),
            tender=tender,
            actor=actor,
            reason="same member twice",
        )
    if uses_recovery:
        if opening is None:
            raise ActionRefused(_("The recovery share can only complete an opening that a member has started."))
        try:
            share = sealing.parse_recovery_share(recovery_share, tender_reference=tender.reference)
        except (sealing.FormatError, sealing.InvalidShares):
            raise _refusal(
                _("This is not this tender's recovery share (check what was typed)."),
                tender=tender,
                actor=actor,
                reason="invalid recovery share",
            ) from None
        _personal_key, private_key = keys.unlock(user=actor, password=password)
    else:
        share, private_key = _member_share(tender, tender_key, actor, password)

    if opening is None:
        opening = BidOpening.objects.create(
            tender=tender,
            stage=stage,
            first_member=actor,
            first_confirmed_at=now,
            expires_at=now + settings.BID_OPENING_WINDOW,
            pending_shares=_seal_pending(tender, actor, share),
        )
        audit_event_append(
            action="tender.opening_confirmed",
            actor=actor,
            obj=tender,
            payload={"stage": stage, "order": 1, "expires_at": opening.expires_at.isoformat()},
        )
        others = [m.user for m in tender.opening_committee.select_related("user") if m.user_id != actor.pk]
        notify(recipients=others, kind="opening.awaiting_second", tender=tender, context={"member": str(actor)})
        return opening

    first = _open_pending(tender, opening, actor, private_key)
    try:
        tender_private_key = sealing.rebuild_tender_private_key(
            material=bytes(tender_key.encrypted_private_key), shares=[first, share], tender_reference=tender.reference
        )
    except sealing.InvalidShares:
        raise _refusal(
            _("Two distinct shares are needed: the recovery share cannot stand in for the member who started."),
            tender=tender,
            actor=actor,
            reason="same share twice",
        ) from None
    except sealing.WrongShares:
        raise _refusal(
            _("These shares do not open this tender's key."), tender=tender, actor=actor, reason="wrong shares"
        ) from None
    record = _open_envelopes(tender=tender, private_key=tender_private_key, stage=opening.stage, now=now)
    del tender_private_key, private_key
    opening.status = OpeningStatus.COMPLETED
    opening.second_member = actor
    opening.completed_at = now
    opening.pending_shares = {}
    record["members"] = [opening.first_member.email, actor.email]
    record["recovery_share_used"] = uses_recovery
    opening.record = record
    opening.save(update_fields=["status", "second_member", "completed_at", "pending_shares", "record"])
    if tender.status == TenderStatus.CLOSED:
        source = tender.status
        tender.open_bids()
        tender.save(update_fields=["status", "updated_at"])
        target = tender.status
    else:
        source = target = tender.status
    audit_event_append(
        action="tender.bids_opened",
        actor=actor,
        obj=tender,
        payload={"from": source, "to": target, "opening_id": opening.pk, **record},
    )
    bidders = User.objects.filter(vendor_membership__vendor__bids__tender=tender, is_active=True).distinct()
    committee = [m.user for m in tender.opening_committee.select_related("user")]
    notify(
        recipients=list(bidders) + committee + tender_officers(tender),
        kind="tender.bids_opened",
        tender=tender,
        context={"count": len(record["bids"])},
    )
    return opening


def _sealed_financial_of_qualified(tender: Tender):
    return BidEnvelope.objects.filter(
        bid__tender=tender,
        bid__status=BidStatus.QUALIFIED,
        kind=EnvelopeKind.FINANCIAL,
        state=EnvelopeState.SEALED,
        version__number=models.F("bid__version"),
    )


def _receipt_hashes(bid: Bid) -> dict[str, str]:
    """The envelope hashes of the bid's current version as the audit log recorded them at submission."""
    receipt = bid.receipts.filter(version=bid.version).exclude(action="withdrawn").order_by("-id").first()
    if receipt is None or receipt.audit_sequence is None:
        return {}
    event = AuditEvent.objects.filter(sequence=receipt.audit_sequence).only("payload").first()
    if event is None:
        return {}
    return {item["label"]: item["sha256"] for item in event.payload.get("envelopes", [])}


def _read(field) -> bytes:
    field.open("rb")
    try:
        return field.read()
    finally:
        field.close()


def _open_one(*, tender: Tender, private_key, bid: Bid, envelope: BidEnvelope, expected: str, now) -> dict:
    result: dict[str, Any] = {"sha256": envelope.sha256}
    try:
        plaintext = sealing.open_envelope(
            tender_private_key=private_key,
            blob=_read(envelope.sealed),
            expected_sha256=expected,
            tender_reference=tender.reference,
            envelope_kind=envelope.kind,
            bid_id=bid.pk,
            version=bid.version,
        )
        content = sealing_json(plaintext)
    except (sealing.EnvelopeTampered, sealing.FormatError, OSError, ValueError) as error:
        envelope.state = EnvelopeState.TAMPERED
        envelope.problem = str(error)
        envelope.opened_at = now
        envelope.save(update_fields=["state", "problem", "opened_at"])
        result.update(state="tampered", problem=str(error))
        return result
    envelope.state = EnvelopeState.OPENED
    envelope.content = content
    envelope.opened_at = now
    envelope.save(update_fields=["state", "content", "opened_at"])
    result["state"] = "opened"
    if envelope.kind == EnvelopeKind.TECHNICAL:
        result["files"] = _open_files(tender=tender, private_key=private_key, bid=bid, listed=content.get("files", []))
    if envelope.kind == EnvelopeKind.FINANCIAL:
        result["total_price"] = content.get("total_price")
        result["currency"] = content.get("currency")
    return result


def _record_consortium(bid: Bid, content) -> list[dict]:
    """The consortium named in the opened technical envelope, now recorded as rows (never before)."""
    members = []
    for row in (content or {}).get("consortium", []) if isinstance(content, dict) else []:
        try:
            vendor_id, share = int(row.get("vendor_id")), Decimal(str(row.get("share")))
        except (TypeError, ValueError, ArithmeticError):
            continue
        if not Vendor.objects.filter(pk=vendor_id).exists() or not 0 < share < 100:
            continue
        BidConsortiumMember.objects.get_or_create(bid=bid, vendor_id=vendor_id, defaults={"share": share})
        members.append({"vendor_id": vendor_id, "share": f"{share:f}"})
    return members


def sealing_json(plaintext: bytes) -> dict:
    import json

    value = json.loads(plaintext.decode("utf-8"))
    if not isinstance(value, dict):
        raise ValueError("envelope content is not an object")
    return value


def _open_files(*, tender: Tender, private_key, bid: Bid, listed: list) -> list[dict]:
    results = []
    files = {f.label: f for f in BidFile.objects.filter(bid=bid, label__in=[i.get("label") for i in listed])}
    for item in listed:
        bid_file = files.get(item.get("label"))
        entry = {"label": item.get("label")}
        if bid_file is None:
            entry.update(state="tampered", problem="the sealed file is missing")
            results.append(entry)
            continue
        with tempfile.TemporaryFile() as plain:
            try:
                bid_file.sealed.open("rb")
                try:
                    sealing.open_file(
                        tender_private_key=private_key,
                        source=bid_file.sealed.file,
                        destination=plain,
                        expected_sha256=item.get("sealed_sha256", ""),
                        tender_reference=tender.reference,
                        envelope_kind=bid_file.label,
                        bid_id=bid.pk,
                        version=bid_file.sealed_version,
                    )
                finally:
                    bid_file.sealed.close()
            except (sealing.EnvelopeTampered, sealing.FormatError, OSError) as error:
                entry.update(state="tampered", problem=str(error))
                results.append(entry)
                continue
            plain.seek(0)
            digest = hashlib.sha256()
            for piece in iter(lambda: plain.read(1024 * 1024), b""):
                digest.update(piece)
            plain.seek(0)
            bid_file.opened.save("opened", File(plain), save=False)
            bid_file.opened_sha256 = digest.hexdigest()
            names = _open_names(tender=tender, private_key=private_key, bid=bid, bid_file=bid_file)
            bid_file.set_names(title=names.get("title", ""), original_name=names.get("name", "") or "document")
            bid_file.save(update_fields=["opened", "opened_sha256", "title_token", "name_token"])
        entry.update(state="opened", sha256=bid_file.opened_sha256)
        results.append(entry)
    return results


def _open_names(*, tender: Tender, private_key, bid: Bid, bid_file: BidFile) -> dict:
    """The document's title and file name from their sealed copy (authenticated with the file's label)."""
    blob = bytes(bid_file.names_sealed or b"")
    if not blob:
        return {}
    try:
        content = sealing_json(
            sealing.open_envelope(
                tender_private_key=private_key,
                blob=blob,
                expected_sha256=hashlib.sha256(blob).hexdigest(),
                tender_reference=tender.reference,
                envelope_kind=f"{bid_file.label}-names",
                bid_id=bid.pk,
                version=bid_file.sealed_version,
            )
        )
    except (sealing.EnvelopeTampered, sealing.FormatError, ValueError):
        return {}
    return {k: str(v)[:255] for k, v in content.items() if k in ("title", "name")}


def _open_envelopes(*, tender: Tender, private_key, stage: str, now) -> dict:
    kinds = {
        OpeningStage.TECHNICAL: [EnvelopeKind.TECHNICAL],
        OpeningStage.FINANCIAL: [EnvelopeKind.FINANCIAL],
        OpeningStage.BOTH: [EnvelopeKind.TECHNICAL, EnvelopeKind.FINANCIAL],
    }[stage]
    # Financial envelopes are opened only for bids that passed the technical evaluation.
    if stage == OpeningStage.FINANCIAL:
        # Only qualified bids whose financial envelope is still sealed (a bid qualified again after an upheld
        # complaint is opened in a later ceremony; nothing is opened twice).
        candidates = Bid.objects.filter(pk__in=_sealed_financial_of_qualified(tender).values("bid_id"))
    else:
        candidates = Bid.objects.filter(tender=tender, status=BidStatus.SUBMITTED)
    bids = list(candidates.select_for_update(of=("self",)).select_related("vendor").order_by("submitted_at", "id"))
    excluded = list(Bid.objects.filter(tender=tender, status=BidStatus.NEEDS_RECONFIRMATION).select_related("vendor"))
    entries = []
    for bid in bids:
        expected = _receipt_hashes(bid)
        envelopes = {
            e.kind: e for e in BidEnvelope.objects.filter(bid=bid, version__number=bid.version, kind__in=kinds)
        }
        entry: dict[str, Any] = {
            "bid_id": bid.pk,
            "bidder": bid.vendor.legal_name_en,
            "bidder_ar": bid.vendor.legal_name_ar,
            "version": bid.version,
            "submitted_at": bid.submitted_at.isoformat() if bid.submitted_at else None,
        }
        for kind in kinds:
            envelope = envelopes.get(kind)
            if envelope is None:
                entry[str(kind)] = {"state": "tampered", "problem": "the sealed envelope is missing"}
                continue
            entry[str(kind)] = _open_one(
                tender=tender,
                private_key=private_key,
                bid=bid,
                envelope=envelope,
                expected=expected.get(kind, ""),
                now=now,
            )
        if bid.status == BidStatus.SUBMITTED:
            bid.open(now=now)
            bid.save(update_fields=["status", "opened_at"])
            technical = BidEnvelope.objects.filter(
                bid=bid, version__number=bid.version, kind=EnvelopeKind.TECHNICAL, state=EnvelopeState.OPENED
            ).first()
            entry["consortium"] = _record_consortium(bid, technical.content if technical else None)
        entries.append(entry)
    taking_part: dict[int, list[int]] = {}
    for bid in bids:
        taking_part.setdefault(bid.vendor_id, []).append(bid.pk)
    for member in BidConsortiumMember.objects.filter(bid__in=bids):
        taking_part.setdefault(member.vendor_id, []).append(member.bid_id)
    return {
        "stage": stage,
        "opened_at": now.isoformat(),
        "bids": entries,
        # A vendor found in two bids (as lead or consortium member): for the committee to decide on.
        "vendors_in_several_bids": [
            {"vendor_id": vendor_id, "bid_ids": sorted(set(ids))}
            for vendor_id, ids in sorted(taking_part.items())
            if len(set(ids)) > 1
        ],
        "not_reconfirmed": [{"bid_id": b.pk, "bidder": b.vendor.legal_name_en} for b in excluded],
        "tampered": sum(
            1
            for e in entries
            for kind in kinds
            if e.get(kind, {}).get("state") == "tampered"
            or any(f.get("state") == "tampered" for f in e.get(kind, {}).get("files", []))
        ),
    }
