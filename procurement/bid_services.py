"""Every write to a bid: drafts, documents, submission (and modification), re-confirmation, withdrawal.

Each public function is one transaction. Submission, re-confirmation and withdrawal lock the tender row
first (the same lock the deadline scheduler takes to close the tender) and read the server's clock again
just before they write, so nothing is accepted at or after the deadline whatever the stored state says.
A refused submission rolls everything back: the vendor's draft is untouched.

The draft is the vendor's working copy, encrypted with the server key (``core.secrets``); the moment it is
submitted it is sealed to the tender's key (``procurement.sealing``) and erased. Documents are sealed as
they are uploaded and never exist in readable form on the server before the opening.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import tempfile
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.utils.translation import gettext as _
from django_fsm import TransitionNotAllowed

from accounts.models import User
from audit.services import audit_event_append
from core import secrets
from core.exceptions import ActionRefused, require_perm
from core.uploads import inspect_upload
from notifications.services import notify
from procurement import sealing, tender_services
from procurement.models import Bid, BidEnvelope, BidFile, BidReceipt, BidVersion, Tender
from procurement.models.bids import LIVE_BID_STATES, SEALED_STATES, BidStatus, EnvelopeKind, ReceiptAction
from procurement.models.tenders import TenderStatus
from procurement.tender_services import _atomic_recording_refusals, _locked, _RecordedRefusal
from vendors.models import Vendor

_DRAFT_PURPOSE = "bid-draft"
MAX_TEXT = 20_000
MAX_LINE_TEXT = 500
MAX_AMOUNT = Decimal("999999999999999.99")


def _now():
    """The one server clock (``tender_services._now``), so a test that moves it moves every service."""
    return tender_services._now()


def _today(now: datetime.datetime) -> datetime.date:
    from django.utils import timezone

    return timezone.localdate(now)


def vendor_of(user) -> Vendor | None:
    """The vendor the person works for, read fresh from the database (its state decides what it may do)."""
    if user is None or not user.is_authenticated:
        return None
    return Vendor.objects.filter(memberships__user=user).first()


# Draft content -----------------------------------------------------------------------------------


def empty_draft() -> dict[str, Any]:
    return {"answers": {}, "total_price": "", "currency": "", "validity_days": "", "lines": [], "consortium": []}


def read_draft(bid: Bid) -> dict[str, Any]:
    """The vendor's draft as they typed it (an empty one if there is none)."""
    if not bid.draft:
        return empty_draft()
    try:
        data = json.loads(secrets.decrypt(bid.draft.encode("ascii"), purpose=f"{_DRAFT_PURPOSE}:{bid.pk}"))
    except (secrets.InvalidToken, ValueError):
        return empty_draft()
    return {**empty_draft(), **data}


_SCALAR_LIMITS = {"total_price": 40, "currency": 3, "validity_days": 10}


def _normalise_draft(data: dict[str, Any]) -> dict[str, Any]:
    """Keep what was typed (as text) without judging it — judging is for submission — but refuse, rather than
    cut, anything longer than a field can hold, so that nothing is silently changed."""
    errors: dict[str, list] = {}
    scalars = {}
    for key, limit in _SCALAR_LIMITS.items():
        value = str(data.get(key) if data.get(key) is not None else "").strip()
        if len(value) > limit:
            errors.setdefault(key, []).append(_("This is too long (at most %(limit)s characters).") % {"limit": limit})
        scalars[key] = value
    answers = {}
    for key, value in dict(data.get("answers") or {}).items():
        text = str(value if value is not None else "").strip()
        if len(text) > MAX_TEXT:
            errors.setdefault(f"answer_{key}", []).append(
                _("This is too long (at most %(limit)s characters).") % {"limit": MAX_TEXT}
            )
        answers[str(key)] = text
    raw_lines = list(data.get("lines") or [])
    if len(raw_lines) > settings.BID_MAX_LINES:
        errors.setdefault("lines", []).append(
            _("A price schedule has at most %(count)s lines.") % {"count": settings.BID_MAX_LINES}
        )
    lines = []
    for line in raw_lines[: settings.BID_MAX_LINES]:
        row = {key: str(line.get(key) or "").strip() for key in ("description", "quantity", "unit", "unit_price")}
        if any(len(value) > MAX_LINE_TEXT for value in row.values()):
            errors.setdefault("lines", []).append(
                _("A line of the price schedule is too long (at most %(limit)s characters a cell).")
                % {"limit": MAX_LINE_TEXT}
            )
        if any(row.values()):
            lines.append(row)
    consortium = []
    for member in list(data.get("consortium") or [])[:20]:
        row = {"vendor_id": str(member.get("vendor_id") or "").strip(), "share": str(member.get("share") or "").strip()}
        if any(len(value) > 20 for value in row.values()):
            errors.setdefault("consortium", []).append(_("Choose each consortium member from the register."))
        if any(row.values()):
            consortium.append(row)
    if errors:
        raise ValidationError(errors)
    return {
        "answers": answers,
        "total_price": scalars["total_price"],
        "currency": scalars["currency"].upper(),
        "validity_days": scalars["validity_days"],
        "lines": lines,
        "consortium": consortium,
    }


def _decimal(value: str) -> Decimal | None:
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() else None


def _money(value: str, field: str, errors: dict, *, positive: bool) -> Decimal | None:
    amount = _decimal(value)
    if amount is None or amount.as_tuple().exponent < -2 or abs(amount) > MAX_AMOUNT:
        errors.setdefault(field, []).append(_("Enter an amount with at most two decimal places."))
        return None
    if (positive and amount <= 0) or amount < 0:
        errors.setdefault(field, []).append(_("Enter a positive amount."))
        return None
    return amount.quantize(Decimal("0.01"))


# Eligibility -------------------------------------------------------------------------------------


def eligibility_problems(vendor: Vendor, today: datetime.date) -> list[str]:
    problems = []
    if vendor.status != "verified":
        problems.append(
            _("%(vendor)s is “%(status)s”: only verified vendors can bid.")
            % {"vendor": vendor, "status": vendor.get_status_display()}
        )
    if vendor.active_debarment(today) is not None:
        problems.append(_("%(vendor)s is debarred.") % {"vendor": vendor})
    expired = vendor.expired_mandatory_kinds(today)
    if expired:
        problems.append(
            _("%(vendor)s has mandatory documents that are missing or expired; renew them first.") % {"vendor": vendor}
        )
    return problems


def _require_member(actor, bid: Bid) -> None:
    vendor = vendor_of(actor)
    if vendor is None or vendor.pk != bid.vendor_id:
        raise PermissionDenied("procurement.change_bid")
    require_perm(actor, "procurement.change_bid", bid)


def _require_open(tender: Tender, now: datetime.datetime, action: str) -> None:
    if tender.status != TenderStatus.PUBLISHED or tender.submission_deadline_passed(now):
        raise ActionRefused(
            _("The submission deadline (%(deadline)s) has passed: a bid can no longer be %(action)s.")
            % {"deadline": tender.submission_deadline.isoformat(), "action": action}
            if tender.submission_deadline_passed(now)
            else _("The tender is “%(status)s”: it does not accept bids.") % {"status": tender.get_status_display()}
        )


def _require_editable(bid: Bid) -> None:
    """A draft, or a submitted bid whose modification has been started (``bid_start_modification``)."""
    if bid.is_editable:
        return
    if bid.status in SEALED_STATES:
        raise ActionRefused(_("Start a modification first: the submitted version cannot be changed in place."))
    raise ActionRefused(_("This bid can no longer be changed."))


# Starting and saving the draft -------------------------------------------------------------------


@transaction.atomic
def bid_start(*, actor, tender: Tender) -> Bid:
    """The vendor's live bid on the tender, or a new draft."""
    tender = _locked(tender)
    vendor = vendor_of(actor)
    if vendor is None:
        raise PermissionDenied("procurement.submit_bid")
    require_perm(actor, "procurement.submit_bid", tender)
    existing = Bid.objects.filter(tender=tender, vendor=vendor, status__in=LIVE_BID_STATES).first()
    if existing is not None:
        return existing
    now = _now()
    _require_open(tender, now, _("started"))
    problems = eligibility_problems(vendor, _today(now))
    if problems:
        raise ActionRefused(" ".join(problems))
    if not hasattr(tender, "sealing_key"):
        raise ActionRefused(_("This tender has no sealing key; it cannot receive bids."))
    bid = Bid.objects.create(tender=tender, vendor=vendor, created_by=actor)
    audit_event_append(action="bid.started", actor=actor, obj=bid, payload={"vendor_id": vendor.pk})
    return bid


def _locked_bid(bid: Bid) -> Bid:
    return Bid.objects.select_for_update(of=("self",)).select_related("tender", "vendor").get(pk=bid.pk)


@transaction.atomic
def bid_save_draft(*, actor, bid: Bid, data: dict[str, Any]) -> Bid:
    """Save what the vendor typed, as typed; it is checked on submission."""
    bid = _locked_bid(bid)
    _require_member(actor, bid)
    _require_editable(bid)
    _require_open(bid.tender, _now(), _("changed"))
    draft = _normalise_draft(data)
    bid.draft = secrets.encrypt(
        json.dumps(draft, ensure_ascii=False, sort_keys=True).encode("utf-8"), purpose=f"{_DRAFT_PURPOSE}:{bid.pk}"
    ).decode("ascii")
    bid.draft_saved_at = _now()
    bid.save(update_fields=["draft", "draft_saved_at"])
    # What was saved is not recorded (it is the bid's content); that it was saved is.
    audit_event_append(action="bid.draft_saved", actor=actor, obj=bid, payload={"version": bid.version + 1})
    return bid


@transaction.atomic
def bid_start_modification(*, actor, bid: Bid) -> Bid:
    """Begin a new version of a submitted bid. The submitted version stays valid until the new one is
    submitted; its content cannot be read back (it is sealed), so the vendor enters it again, keeping or
    replacing the sealed documents."""
    bid = _locked_bid(bid)
    _require_member(actor, bid)
    if bid.status not in SEALED_STATES:
        raise ActionRefused(_("Only a submitted bid can be modified."))
    _require_open(bid.tender, _now(), _("modified"))
    if not bid.draft:
        bid.draft = secrets.encrypt(
            json.dumps(empty_draft()).encode("utf-8"), purpose=f"{_DRAFT_PURPOSE}:{bid.pk}"
        ).decode("ascii")
        bid.draft_saved_at = _now()
        bid.save(update_fields=["draft", "draft_saved_at"])
        current = bid.current_version()
        if current is not None:
            current.files.update(in_draft=True)
        audit_event_append(
            action="bid.modification_started", actor=actor, obj=bid, payload={"version": bid.version + 1}
        )
    return bid


@transaction.atomic
def bid_discard_modification(*, actor, bid: Bid) -> Bid:
    """Drop a modification in preparation; the submitted version stays as it is."""
    bid = _locked_bid(bid)
    _require_member(actor, bid)
    if bid.status not in SEALED_STATES or not bid.draft:
        raise ActionRefused(_("There is no modification in preparation."))
    bid.draft = ""
    bid.draft_saved_at = None
    bid.save(update_fields=["draft", "draft_saved_at"])
    BidFile.objects.filter(bid=bid, in_draft=True).update(in_draft=False)
    current = bid.current_version()
    if current is not None:
        current.files.update(in_draft=True)
    audit_event_append(action="bid.modification_discarded", actor=actor, obj=bid, payload={"version": bid.version})
    return bid


# Documents ---------------------------------------------------------------------------------------


@transaction.atomic
def bid_file_add(*, actor, bid: Bid, uploaded_file, title: str) -> BidFile:
    """Check the upload, then seal it to the tender key as it is stored: it is never on disk in clear."""
    bid = _locked_bid(bid)
    _require_member(actor, bid)
    _require_editable(bid)
    _require_open(bid.tender, _now(), _("changed"))
    title = (title or "").strip()[:200]
    if not title:
        raise ValidationError({"title": _("Give the document a title.")})
    if BidFile.objects.filter(bid=bid, in_draft=True).count() >= settings.BID_MAX_FILES:
        raise ValidationError({"file": _("A bid has at most %(count)s documents.") % {"count": settings.BID_MAX_FILES}})
    try:
        inspected = inspect_upload(uploaded_file)
    except ValidationError as error:
        raise ValidationError({"file": error.messages}) from None
    label = f"file-{uuid.uuid4().hex}"
    version = bid.version + 1
    tender_key = bid.tender.sealing_key
    with tempfile.TemporaryFile() as sealed:
        uploaded_file.seek(0)
        result = sealing.seal_file(
            tender_public_key=bytes(tender_key.public_key),
            tender_reference=bid.tender.reference,
            envelope_kind=label,
            bid_id=bid.pk,
            version=version,
            source=uploaded_file,
            destination=sealed,
        )
        sealed.seek(0)
        bid_file = BidFile(
            bid=bid,
            label=label,
            sealed_version=version,
            content_type=inspected.content_type,
            size=inspected.size,
            sealed_sha256=result.sha256,
            uploaded_by=actor,
        )
        original_name = (getattr(uploaded_file, "name", "") or "document")[:255]
        bid_file.set_names(title=title, original_name=original_name)
        bid_file.names_sealed = sealing.seal_envelope(
            tender_public_key=bytes(tender_key.public_key),
            tender_reference=bid.tender.reference,
            envelope_kind=f"{label}-names",
            bid_id=bid.pk,
            version=version,
            plaintext=json.dumps({"title": title, "name": original_name}, ensure_ascii=False).encode("utf-8"),
        ).blob
        bid_file.sealed.save("sealed", File(sealed), save=False)
        bid_file.save()
    audit_event_append(
        action="bid.document_sealed",
        actor=actor,
        obj=bid,
        payload={"label": label, "sealed_sha256": result.sha256, "size": inspected.size},
    )
    return bid_file


@transaction.atomic
def bid_file_remove(*, actor, bid: Bid, bid_file: BidFile) -> None:
    """Take a document out of the draft (the sealed file stays, as part of any version that had it)."""
    bid = _locked_bid(bid)
    _require_member(actor, bid)
    if bid_file.bid_id != bid.pk or bid.status not in (BidStatus.DRAFT, *SEALED_STATES):
        raise ActionRefused(_("This bid can no longer be changed."))
    _require_editable(bid)
    _require_open(bid.tender, _now(), _("changed"))
    BidFile.objects.filter(pk=bid_file.pk).update(in_draft=False)
    audit_event_append(action="bid.document_removed", actor=actor, obj=bid, payload={"label": bid_file.label})


# Submission --------------------------------------------------------------------------------------


def _check_consortium(bid: Bid, rows: list[dict], today: datetime.date, errors: dict) -> list[tuple[Vendor, Decimal]]:
    members: list[tuple[Vendor, Decimal]] = []
    seen: set[int] = set()
    for row in rows:
        try:
            vendor = Vendor.objects.get(pk=int(row.get("vendor_id") or 0))
        except (Vendor.DoesNotExist, ValueError):
            errors.setdefault("consortium", []).append(_("Choose each consortium member from the register."))
            continue
        share = _decimal(row.get("share", ""))
        if share is None or share <= 0 or share >= 100 or share.as_tuple().exponent < -2:
            errors.setdefault("consortium", []).append(
                _("%(vendor)s: a share is a percentage above 0 and below 100.") % {"vendor": vendor}
            )
            continue
        if vendor.pk == bid.vendor_id:
            errors.setdefault("consortium", []).append(
                _("%(vendor)s leads this bid; name only the other members of the consortium.") % {"vendor": vendor}
            )
            continue
        if vendor.pk in seen:
            errors.setdefault("consortium", []).append(
                _("%(vendor)s is named twice in the consortium.") % {"vendor": vendor}
            )
            continue
        seen.add(vendor.pk)
        problems = eligibility_problems(vendor, today)
        if problems:
            errors.setdefault("consortium", []).extend(problems)
        members.append((vendor, share))
    if sum((share for _v, share in members), Decimal(0)) >= 100:
        errors.setdefault("consortium", []).append(_("The members' shares must leave a share to the lead vendor."))
    # Whether a member also takes part in another bid cannot be checked now without telling this vendor who
    # else is bidding: the consortium is sealed in the technical envelope, and the opening reports any vendor
    # found in two bids.
    return members


def validate_for_submission(bid: Bid, draft: dict[str, Any], today: datetime.date) -> tuple[dict, dict, list]:
    """Judge the draft; return the technical and financial envelopes' content and the consortium, or raise
    ``ValidationError`` with a message per field (the draft itself is kept)."""
    tender = bid.tender
    errors: dict[str, list] = {}
    criteria = list(tender.criteria.all())
    answers = {}
    for criterion in criteria:
        text = (draft["answers"].get(str(criterion.pk)) or "").strip()
        if not text:
            errors.setdefault(f"answer_{criterion.pk}", []).append(
                _("Answer the criterion “%(name)s”.") % {"name": criterion.name}
            )
        answers[str(criterion.pk)] = {"criterion": criterion.name_en, "answer": text}
    files = list(BidFile.objects.filter(bid=bid, in_draft=True).order_by("id"))
    if not files:
        errors.setdefault("file", []).append(_("Attach the documents of your technical offer (at least one)."))
    total = _money(draft["total_price"], "total_price", errors, positive=True)
    if draft["currency"] and draft["currency"] != tender.currency:
        errors.setdefault("currency", []).append(
            _("Prices are in the tender's currency, %(currency)s.") % {"currency": tender.currency}
        )
    try:
        validity = int(draft["validity_days"])
        if not 1 <= validity <= 3650:
            raise ValueError
    except (TypeError, ValueError):
        errors.setdefault("validity_days", []).append(_("Enter how many days the offer is valid (1 to 3650)."))
        validity = None
    lines = []
    line_total = Decimal(0)
    if not draft["lines"]:
        errors.setdefault("lines", []).append(_("Enter at least one line of the price schedule."))
    for number, line in enumerate(draft["lines"], start=1):
        line_errors: dict[str, list] = {}
        description = line.get("description", "").strip()
        if not description:
            line_errors.setdefault("lines", []).append(_("Line %(n)s: describe the item.") % {"n": number})
        quantity = _decimal(line.get("quantity", ""))
        if quantity is None or quantity <= 0 or quantity > Decimal("1e12"):
            line_errors.setdefault("lines", []).append(_("Line %(n)s: enter a positive quantity.") % {"n": number})
        unit_price = _money(line.get("unit_price", ""), "lines", line_errors, positive=False)
        if line_errors:
            errors.setdefault("lines", []).extend(
                m if str(m).startswith(_("Line")) else _("Line %(n)s: %(m)s") % {"n": number, "m": m}
                for m in line_errors["lines"]
            )
            continue
        amount = (quantity * unit_price).quantize(Decimal("0.01"))
        line_total += amount
        lines.append(
            {
                "description": description,
                "quantity": f"{quantity.normalize():f}",
                "unit": line.get("unit", "").strip(),
                "unit_price": f"{unit_price:f}",
                "amount": f"{amount:f}",
            }
        )
    if total is not None and lines and not errors.get("lines") and line_total != total:
        errors.setdefault("total_price", []).append(
            _("The total (%(total)s) differs from the sum of the price schedule (%(sum)s).")
            % {"total": f"{total:f}", "sum": f"{line_total:f}"}
        )
    consortium = _check_consortium(bid, draft["consortium"], today, errors)
    if errors:
        raise ValidationError(errors)
    technical = {
        "tender": tender.reference,
        "bidder": bid.vendor.legal_name_en,
        "answers": answers,
        "files": [
            {
                "label": f.label,
                "content_type": f.content_type,
                "size": f.size,
                "sealed_sha256": f.sealed_sha256,
                "sealed_version": f.sealed_version,
            }
            for f in files
        ],
        "consortium": [{"vendor_id": v.pk, "vendor": v.legal_name_en, "share": f"{s:f}"} for v, s in consortium],
    }
    financial = {
        "tender": tender.reference,
        "bidder": bid.vendor.legal_name_en,
        "total_price": f"{total:f}",
        "currency": tender.currency,
        "validity_days": validity,
        "lines": lines,
    }
    return technical, financial, consortium


def _store_envelope(version: BidVersion, kind: str, sealed: sealing.SealedEnvelope) -> BidEnvelope:
    envelope = BidEnvelope(version=version, bid=version.bid, kind=kind, sha256=sealed.sha256, size=len(sealed.blob))
    with tempfile.TemporaryFile() as handle:
        handle.write(sealed.blob)
        handle.seek(0)
        envelope.sealed.save("sealed", File(handle), save=False)
    envelope.save()
    return envelope


def _receipt(*, bid: Bid, actor, action: str, now, envelopes: list[dict]) -> BidReceipt:
    receipt = BidReceipt.objects.create(
        bid=bid, action=action, version=bid.version, server_time=now, issued_to=actor, envelopes=envelopes
    )
    event = audit_event_append(
        action=f"bid.{action}",
        actor=actor,
        obj=bid,
        payload={
            "receipt": str(receipt.number),
            "vendor_id": bid.vendor_id,
            "version": bid.version,
            "server_time": now.isoformat(),
            "envelopes": envelopes,
        },
    )
    BidReceipt.objects.filter(pk=receipt.pk).update(audit_sequence=event.sequence, audit_hash=event.hash)
    receipt.audit_sequence, receipt.audit_hash = event.sequence, event.hash

    def render() -> None:
        from procurement.tasks import render_bid_receipt_pdf

        render_bid_receipt_pdf.enqueue(receipt.pk)

    transaction.on_commit(render, robust=True)
    notify(
        recipients=list(User.objects.filter(vendor_membership__vendor=bid.vendor, is_active=True)),
        kind=f"bid.{action}",
        tender=bid.tender,
        context={"version": bid.version, "receipt": str(receipt.number)},
    )
    return receipt


def _late(bid: Bid, actor, now, attempted: str, action: str) -> _RecordedRefusal:
    """``attempted`` is recorded (in English, like every audit entry); ``action`` is the translated word."""
    return _RecordedRefusal(
        _("The submission deadline (%(deadline)s) has passed: the bid was not %(action)s.")
        % {"deadline": bid.tender.submission_deadline.isoformat(), "action": action},
        tender=bid.tender,
        actor=actor,
        action="bid.refused_after_deadline",
        payload={"bid_id": bid.pk, "attempted": attempted, "server_time": now.isoformat()},
    )


def _before_deadline(actor, bid: Bid, attempted: str, action: str) -> tuple[Tender, Bid, datetime.datetime]:
    """Lock the tender row, then the bid (the order the scheduler and every bid action use), check the actor,
    and refuse — recording the attempt — once the deadline has passed by the server's clock."""
    tender = _locked(bid.tender_id)
    bid = _locked_bid(bid)
    bid.tender = tender
    _require_member(actor, bid)
    now = _now()
    if tender.submission_deadline_passed(now):
        raise _late(bid, actor, now, attempted, action)
    _require_open(tender, now, action)
    return tender, bid, now


@_atomic_recording_refusals
def bid_submit(*, actor, bid: Bid) -> BidReceipt:
    """Seal the draft as the bid's next version and give the vendor a receipt."""
    tender, bid, now = _before_deadline(actor, bid, "submitted", _("submitted"))
    if bid.status not in (BidStatus.DRAFT, *SEALED_STATES):
        raise ActionRefused(_("This bid can no longer be submitted."))
    if not bid.draft:
        raise ActionRefused(_("There is nothing to submit: prepare the bid first."))
    problems = eligibility_problems(bid.vendor, _today(now))
    if problems:
        raise ActionRefused(" ".join(problems))
    draft = read_draft(bid)
    technical, financial, _consortium = validate_for_submission(bid, draft, _today(now))

    version_number = bid.version + 1
    public_key = bytes(tender.sealing_key.public_key)
    sealed = {
        kind: sealing.seal_envelope(
            tender_public_key=public_key,
            tender_reference=tender.reference,
            envelope_kind=kind,
            bid_id=bid.pk,
            version=version_number,
            plaintext=json.dumps(content, ensure_ascii=False, sort_keys=True).encode("utf-8"),
        )
        for kind, content in ((EnvelopeKind.TECHNICAL, technical), (EnvelopeKind.FINANCIAL, financial))
    }
    files = list(BidFile.objects.filter(bid=bid, in_draft=True).order_by("id"))

    # The clock again, under the tender lock, just before anything is written: this time is the receipt's.
    now = _now()
    if tender.submission_deadline_passed(now):
        raise _late(bid, actor, now, "submitted", _("submitted"))
    action = ReceiptAction.SUBMITTED if bid.version == 0 else ReceiptAction.MODIFIED
    try:
        bid.submit(now=now)
    except TransitionNotAllowed:
        raise ActionRefused(_("This bid can no longer be submitted.")) from None
    bid.save(update_fields=["status", "version", "submitted_at", "draft", "draft_saved_at"])
    version = BidVersion.objects.create(bid=bid, number=bid.version, submitted_at=now, submitted_by=actor)
    version.files.set(files)
    # From now on the documents' names are readable only from their sealed copies, after the opening.
    BidFile.objects.filter(pk__in=[f.pk for f in files]).update(title_token="", name_token="")
    for kind, envelope in sealed.items():
        _store_envelope(version, kind, envelope)
    envelopes = [
        {"envelope": kind, "label": kind, "sha256": envelope.sha256, "size": len(envelope.blob)}
        for kind, envelope in sealed.items()
    ] + [
        {"envelope": "file", "label": f.label, "sha256": f.sealed_sha256, "size": f.sealed.size if f.sealed else 0}
        for f in files
    ]
    receipt = _receipt(bid=bid, actor=actor, action=action, now=now, envelopes=envelopes)
    # And once more as the last step before the commit: nothing is accepted at or after the deadline.
    if tender.submission_deadline_passed(_now()):
        raise _late(bid, actor, _now(), "submitted", _("submitted"))
    return receipt


def _current_envelopes(bid: Bid) -> list[dict]:
    version = bid.current_version()
    if version is None:
        return []
    return [
        {"envelope": e.kind, "label": e.kind, "sha256": e.sha256, "size": e.size} for e in version.envelopes.all()
    ] + [
        {"envelope": "file", "label": f.label, "sha256": f.sealed_sha256, "size": f.sealed.size if f.sealed else 0}
        for f in version.files.all()
    ]


@_atomic_recording_refusals
def bid_reconfirm(*, actor, bid: Bid) -> BidReceipt:
    """Confirm a submitted bid as it is after a material addendum."""
    tender, bid, now = _before_deadline(actor, bid, "re-confirmed", _("re-confirmed"))
    try:
        bid.reconfirm()
    except TransitionNotAllowed:
        raise ActionRefused(_("This bid does not need re-confirming.")) from None
    bid.save(update_fields=["status"])
    return _receipt(bid=bid, actor=actor, action=ReceiptAction.RECONFIRMED, now=now, envelopes=_current_envelopes(bid))


@_atomic_recording_refusals
def bid_withdraw(*, actor, bid: Bid) -> BidReceipt:
    """Withdraw the bid (or abandon a draft) before the deadline. Nothing is deleted."""
    tender, bid, now = _before_deadline(actor, bid, "withdrawn", _("withdrawn"))
    envelopes = _current_envelopes(bid)
    try:
        bid.withdraw(now=now)
    except TransitionNotAllowed:
        raise ActionRefused(_("This bid can no longer be withdrawn.")) from None
    bid.save(update_fields=["status", "withdrawn_at", "draft", "draft_saved_at"])
    BidFile.objects.filter(bid=bid, in_draft=True).update(in_draft=False)
    return _receipt(bid=bid, actor=actor, action=ReceiptAction.WITHDRAWN, now=now, envelopes=envelopes)


def bids_require_reconfirmation(*, tender: Tender, addendum, actor) -> int:
    """A material addendum was issued: every submitted bid must be re-confirmed (in the caller's transaction)."""
    bids = list(Bid.objects.select_for_update(of=("self",)).filter(tender=tender, status=BidStatus.SUBMITTED))
    for bid in bids:
        bid.require_reconfirmation()
        bid.save(update_fields=["status"])
    if bids:
        audit_event_append(
            action="bid.reconfirmation_required",
            actor=actor,
            obj=tender,
            payload={"addendum": addendum.number, "bids": [b.pk for b in bids]},
        )
        notify(
            recipients=list(
                User.objects.filter(vendor_membership__vendor__in=[b.vendor_id for b in bids], is_active=True)
            ),
            kind="bid.needs_reconfirmation",
            tender=tender,
            context={"number": addendum.number},
        )
    return len(bids)


def receipt_digest(receipt: BidReceipt) -> str:
    """A short check value of the receipt's facts, printed on it."""
    text = json.dumps(
        {"number": str(receipt.number), "time": receipt.server_time.isoformat(), "envelopes": receipt.envelopes},
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()
