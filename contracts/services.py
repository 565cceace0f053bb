"""Every write to a contract: creation from a final award, the draft's terms, freezing, signing, and its end
(completion or termination).

Each public function is one transaction that locks the contract (or, for creation, the tender) row first,
checks the actor's permission (``accounts/rules.py``), moves the state machine and appends an audit event.
Signing runs inside the service: the signer's password unlocks their key (or their own PKCS#12 file, used
for that one signature and never stored), the PDF is signed as an incremental update into the party's own
field, and the signed bytes and their SHA-256 are stored. A refusal leaves nothing behind but its audit
event.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import zoneinfo
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django_fsm import TransitionNotAllowed, can_proceed

from audit.services import audit_event_append
from contracts import pki
from contracts.models import (
    RISK_CATEGORIES,
    Contract,
    ContractDocument,
    ContractKpi,
    ContractMilestone,
    ContractSignature,
    ContractStatus,
    ContractVersion,
    DocumentKind,
    Frequency,
    RenderStatus,
    RiskBearer,
    SignatureParty,
    SignerKey,
)
from contracts.signing import SigningRefused, UnreadablePdf, sign_pdf, signature_field_names
from core.exceptions import ActionRefused, require_perm
from procurement import tender_services
from procurement.models import Bid, BidConsortiumMember, BidEnvelope, Recommendation, Tender
from procurement.models.bids import BidStatus
from procurement.models.evaluation import RecommendationStatus
from procurement.models.tenders import AddendumStatus, TenderStatus

#: The order of the signatures: the contractor signs first, the agency countersigns.
SIGNING_ORDER = (SignatureParty.VENDOR, SignatureParty.AGENCY)
SIGNER_CERTIFICATE_DAYS = 730
MAX_KPIS = 50
MAX_MILESTONES = 200
TERMINATION_REASON_MIN_LENGTH = 10
TERMINATION_REASON_MAX_LENGTH = 4000


def _now() -> datetime.datetime:
    """The one server clock (``tender_services._now``), so a test that moves it moves every service."""
    return tender_services._now()


class WrongSigningPassword(ActionRefused):
    """The password that unlocks signing (the one the person signs in with) is wrong: their input, not the
    contract's state, was refused — the API answers it as an error on its ``password`` field."""


class _RecordedRefusal(ActionRefused):
    """A refusal written to the audit log although the action's own transaction is rolled back; it reaches the
    caller as ``refusal`` (an ``ActionRefused`` or one of its kinds)."""

    def __init__(
        self,
        message: str,
        *,
        contract: Contract,
        actor,
        action: str,
        payload: dict,
        refusal: type[ActionRefused] = ActionRefused,
    ):
        super().__init__(message)
        self.audit = {"action": action, "actor": actor, "obj": contract, "payload": payload}
        self.refusal = refusal


def _atomic_recording_refusals(service):
    @functools.wraps(service)
    def run(*args, **kwargs):
        try:
            with transaction.atomic():
                return service(*args, **kwargs)
        except _RecordedRefusal as refusal:
            with transaction.atomic():
                audit_event_append(**refusal.audit)
            raise refusal.refusal(refusal.message) from None

    return run


def _locked(contract: Contract | int) -> Contract:
    pk = contract.pk if isinstance(contract, Contract) else contract
    return (
        Contract.objects.select_for_update(of=("self",))
        .select_related("tender__phase__programme", "agency", "vendor", "phase")
        .get(pk=pk)
    )


def _transition(contract: Contract, method, action: str, **kwargs) -> tuple[str, str]:
    source = contract.status
    try:
        method(**kwargs)
    except TransitionNotAllowed as error:
        raise ActionRefused(
            _("The contract is now “%(status)s”: it cannot be %(action)s.")
            % {"status": contract.get_status_display(), "action": action}
        ) from error
    return source, contract.status


def _require_draft(contract: Contract) -> None:
    if contract.status != ContractStatus.DRAFT:
        raise ActionRefused(
            _("The contract is “%(status)s”: only a draft can be changed.") % {"status": contract.get_status_display()}
        )


# Creation from the award -------------------------------------------------------------------------


def _winning_price(tender: Tender, bid: Bid) -> Decimal | None:
    from procurement.evaluation_services import bid_prices

    return bid_prices(tender).get(bid.pk)


def _incorporated_documents(tender: Tender, bid: Bid) -> list[dict[str, str]]:
    """The tender's current documents, those of its issued addenda, and the winning bid's sealed envelopes."""
    documents = []
    for document in tender.documents.current().select_related("addendum").order_by("uploaded_at", "id"):
        if document.addendum_id is None:
            documents.append({"kind": DocumentKind.TENDER_DOCUMENT, "title": document.title, "sha256": document.sha256})
        elif document.addendum.status == AddendumStatus.ISSUED:
            title = _("Addendum %(number)s: %(title)s") % {"number": document.addendum.number, "title": document.title}
            documents.append({"kind": DocumentKind.ADDENDUM, "title": title, "sha256": document.sha256})
    envelopes = BidEnvelope.objects.filter(bid=bid, version__number=bid.version).order_by("kind")
    for envelope in envelopes:
        title = _("Winning bid, version %(version)s: %(envelope)s") % {
            "version": bid.version,
            "envelope": envelope.get_kind_display(),
        }
        documents.append({"kind": DocumentKind.BID_ENVELOPE, "title": title, "sha256": envelope.sha256})
    return documents


def contract_create_from_award(*, actor, tender: Tender) -> Contract:
    """Draft the contract of a tender whose award is final, with the winning bid's parties and price and the
    documents that form part of it (each by its SHA-256)."""
    with transaction.atomic():
        tender = tender_services._locked(tender)
        require_perm(actor, "contracts.add_contract", tender)
        recommendation = (
            Recommendation.objects.select_related("bid__vendor")
            .filter(tender=tender, status=RecommendationStatus.FINAL)
            .first()
        )
        if tender.status != TenderStatus.AWARDED or recommendation is None:
            raise ActionRefused(
                _("The tender is “%(status)s”: a contract is drafted only from a final award.")
                % {"status": tender.get_status_display()}
            )
        bid = recommendation.bid
        if bid.status != BidStatus.AWARDED:
            raise ActionRefused(_("The recommended bid has not been awarded."))
        if Contract.objects.filter(recommendation=recommendation).exclude(status=ContractStatus.TERMINATED).exists():
            raise ActionRefused(_("This award already has a contract."))
        consortium = [
            {
                "vendor_id": member.vendor_id,
                "name_en": member.vendor.legal_name_en,
                "name_ar": member.vendor.legal_name_ar,
                "share": str(member.share),
            }
            for member in BidConsortiumMember.objects.filter(bid=bid).select_related("vendor").order_by("id")
        ]
        price = _winning_price(tender, bid)
        contract = Contract.objects.create(
            tender=tender,
            recommendation=recommendation,
            bid=bid,
            vendor=bid.vendor,
            agency=tender.agency,
            phase=tender.phase,
            title_en=tender.title_en,
            title_ar=tender.title_ar,
            consortium=consortium,
            value=price if price is not None else tender.estimated_value,
            currency=tender.currency,
            created_by=actor,
            created_at=_now(),
        )
        documents = _incorporated_documents(tender, bid)
        ContractDocument.objects.bulk_create(
            ContractDocument(contract=contract, order=number, **document)
            for number, document in enumerate(documents, start=1)
        )
        audit_event_append(
            action="contract.created",
            actor=actor,
            obj=contract,
            payload={
                "tender": tender.reference,
                "recommendation_id": recommendation.pk,
                "bid_id": bid.pk,
                "vendor_id": bid.vendor_id,
                "consortium": [m["vendor_id"] for m in consortium],
                "value": str(contract.value),
                "currency": contract.currency,
                "documents": [{"title": d["title"], "sha256": d["sha256"]} for d in documents],
            },
        )
    return contract


# The draft ---------------------------------------------------------------------------------------

EDITABLE_FIELDS = (
    "title_en",
    "title_ar",
    "value",
    "currency",
    "start_date",
    "end_date",
    "payment_mechanism",
    "risk_allocation",
    "penalty_rate",
    "penalty_cap",
)


def _clean_risk_allocation(value) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ValidationError({"risk_allocation": _("Allocate each risk category to a party.")})
    unknown = sorted(set(value) - set(RISK_CATEGORIES))
    if unknown:
        raise ValidationError(
            {"risk_allocation": _("Unknown risk categories: %(codes)s.") % {"codes": ", ".join(unknown)}}
        )
    bad = sorted(code for code, bearer in value.items() if bearer not in RiskBearer.values)
    if bad:
        raise ValidationError(
            {
                "risk_allocation": _("Allocate %(codes)s to the public party, the private party, or both.")
                % {"codes": ", ".join(bad)}
            }
        )
    return {code: value[code] for code in RISK_CATEGORIES if code in value}


def contract_update_draft(*, actor, contract: Contract, data: dict[str, Any]) -> Contract:
    """Change the draft's terms; anything not in ``EDITABLE_FIELDS`` is refused, nothing is half-saved."""
    with transaction.atomic():
        contract = _locked(contract)
        require_perm(actor, "contracts.change_contract", contract)
        _require_draft(contract)
        unknown = sorted(set(data) - set(EDITABLE_FIELDS))
        if unknown:
            raise ValidationError(_("These fields cannot be changed: %(fields)s.") % {"fields": ", ".join(unknown)})
        changes = {}
        for name, value in data.items():
            if name == "risk_allocation":
                value = _clean_risk_allocation(value)
            before = getattr(contract, name)
            setattr(contract, name, value)
            changes[name] = [str(before), str(value)]
        contract.full_clean(exclude=["tender", "recommendation", "bid", "vendor", "agency", "phase", "created_by"])
        contract.save()
        audit_event_append(action="contract.draft_updated", actor=actor, obj=contract, payload={"changes": changes})
    return contract


def _decimal(value, field: str) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, TypeError):
        raise ValidationError({field: _("Enter a number.")}) from None
    if not number.is_finite():
        raise ValidationError({field: _("Enter a number.")})
    return number


def contract_kpi_add(
    *, actor, contract: Contract, name_en: str, name_ar: str, target, unit: str, frequency: str = Frequency.QUARTERLY
) -> ContractKpi:
    with transaction.atomic():
        contract = _locked(contract)
        require_perm(actor, "contracts.change_contract", contract)
        _require_draft(contract)
        if contract.kpis.count() >= MAX_KPIS:
            raise ActionRefused(_("A contract has at most %(count)s indicators.") % {"count": MAX_KPIS})
        kpi = ContractKpi(
            contract=contract,
            order=contract.kpis.count() + 1,
            name_en=(name_en or "").strip(),
            name_ar=(name_ar or "").strip(),
            target=_decimal(target, "target"),
            unit=(unit or "").strip(),
            frequency=frequency,
        )
        kpi.full_clean()
        kpi.save()
        audit_event_append(
            action="contract.kpi_added",
            actor=actor,
            obj=contract,
            payload={"kpi_id": kpi.pk, "name_en": kpi.name_en, "target": str(kpi.target), "unit": kpi.unit},
        )
    return kpi


def contract_milestone_add(
    *, actor, contract: Contract, title_en: str, title_ar: str, due_date: datetime.date, payment_amount="0"
) -> ContractMilestone:
    with transaction.atomic():
        contract = _locked(contract)
        require_perm(actor, "contracts.change_contract", contract)
        _require_draft(contract)
        if contract.milestones.count() >= MAX_MILESTONES:
            raise ActionRefused(_("A contract has at most %(count)s milestones.") % {"count": MAX_MILESTONES})
        milestone = ContractMilestone(
            contract=contract,
            order=contract.milestones.count() + 1,
            title_en=(title_en or "").strip(),
            title_ar=(title_ar or "").strip(),
            due_date=due_date,
            payment_amount=_decimal(payment_amount, "payment_amount"),
        )
        milestone.full_clean()
        milestone.save()
        audit_event_append(
            action="contract.milestone_added",
            actor=actor,
            obj=contract,
            payload={
                "milestone_id": milestone.pk,
                "title_en": milestone.title_en,
                "due_date": milestone.due_date.isoformat(),
                "payment_amount": str(milestone.payment_amount),
            },
        )
    return milestone


# Freezing ----------------------------------------------------------------------------------------


def readiness_errors(contract: Contract) -> list[str]:
    """What the draft still lacks before it can be frozen for signature."""
    errors = []
    if not contract.start_date or not contract.end_date:
        errors.append(_("Set the contract's start and end dates."))
    if contract.value <= 0:
        errors.append(_("Set the contract's value."))
    missing = [code for code in RISK_CATEGORIES if code not in contract.risk_allocation]
    if missing:
        errors.append(_("Allocate every risk category (missing: %(codes)s).") % {"codes": ", ".join(missing)})
    if not contract.kpis.exists():
        errors.append(_("Add at least one key performance indicator."))
    milestones = list(contract.milestones.all())
    if not milestones:
        errors.append(_("Add at least one milestone."))
    total = sum((m.payment_amount for m in milestones), Decimal("0"))
    if total > contract.value:
        errors.append(
            _("The milestone payments (%(total)s) exceed the contract's value (%(value)s).")
            % {"total": total, "value": contract.value}
        )
    if contract.start_date and contract.end_date:
        outside = [m.title_en for m in milestones if not contract.start_date <= m.due_date <= contract.end_date]
        if outside:
            errors.append(_("Milestones outside the contract term: %(titles)s.") % {"titles": ", ".join(outside)})
    return errors


def _party(vendor) -> dict[str, str]:
    return {
        "name_en": vendor.legal_name_en,
        "name_ar": vendor.legal_name_ar,
        "registration": vendor.commercial_registration_number,
        "address": getattr(vendor, "address", ""),
    }


def contract_terms(contract: Contract, *, number: int, frozen_at: datetime.datetime) -> dict[str, Any]:
    """Everything the contract's PDF states, as plain JSON: the PDF is rendered from this alone."""
    tender = contract.tender
    return {
        "reference": contract.reference,
        "number": str(contract.number),
        "version": number,
        "frozen_at": frozen_at.astimezone(datetime.UTC).isoformat(),
        "title_en": contract.title_en,
        "title_ar": contract.title_ar,
        "tender": {"reference": tender.reference, "title_en": tender.title_en, "title_ar": tender.title_ar},
        "phase": {"name_en": contract.phase.name_en, "name_ar": contract.phase.name_ar},
        "agency": {"name_en": contract.agency.name_en, "name_ar": contract.agency.name_ar},
        "vendor": _party(contract.vendor),
        "consortium": contract.consortium,
        "value": str(contract.value),
        "currency": contract.currency,
        "start_date": contract.start_date.isoformat(),
        "end_date": contract.end_date.isoformat(),
        "payment_mechanism": contract.payment_mechanism,
        "risk_allocation": [
            {"code": code, "bearer": contract.risk_allocation[code]}
            for code in RISK_CATEGORIES
            if code in contract.risk_allocation
        ],
        "penalty_rate": str(contract.penalty_rate),
        "penalty_cap": str(contract.penalty_cap),
        "kpis": [
            {
                "name_en": k.name_en,
                "name_ar": k.name_ar,
                "target": str(k.target.normalize()),
                "unit": k.unit,
                "frequency": k.frequency,
            }
            for k in contract.kpis.order_by("order", "id")
        ],
        "milestones": [
            {
                "title_en": m.title_en,
                "title_ar": m.title_ar,
                "due_date": m.due_date.isoformat(),
                "payment_amount": str(m.payment_amount),
            }
            for m in contract.milestones.order_by("order", "due_date", "id")
        ],
        "documents": [
            {"kind": d.kind, "title": d.title, "sha256": d.sha256} for d in contract.documents.order_by("order", "id")
        ],
    }


def contract_freeze(*, actor, contract: Contract) -> ContractVersion:
    """Freeze the draft (draft → awaiting signatures): a numbered version whose PDF is rendered in the
    background, with an empty signature field for each party."""
    with transaction.atomic():
        contract = _locked(contract)
        require_perm(actor, "contracts.freeze_contract", contract)
        _require_draft(contract)
        errors = readiness_errors(contract)
        if errors:
            raise ActionRefused(" ".join(errors))
        now = _now()
        _transition(contract, contract.freeze, _("frozen"), now=now)
        contract.save()
        number = (contract.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
        version = ContractVersion.objects.create(
            contract=contract,
            number=number,
            frozen_at=now,
            frozen_by=actor,
            terms=contract_terms(contract, number=number, frozen_at=now),
        )
        audit_event_append(
            action="contract.frozen",
            actor=actor,
            obj=contract,
            payload={"version": number, "version_id": version.pk, "frozen_at": now.isoformat()},
        )

        def render() -> None:
            from contracts.tasks import render_contract_pdf

            render_contract_pdf.enqueue(version.pk)

        transaction.on_commit(render, robust=True)
    return version


# The end of the contract -------------------------------------------------------------------------


def _local_date(moment: datetime.datetime) -> datetime.date:
    """The calendar day of ``moment`` where the contracts are run (DISPLAY_TIME_ZONE)."""
    return timezone.localtime(moment, zoneinfo.ZoneInfo(settings.DISPLAY_TIME_ZONE)).date()


def completion_problem(contract: Contract, *, now: datetime.datetime | None = None) -> str:
    """Why the contract, in force, cannot be marked completed yet (``""`` when it can)."""
    if contract.end_date is None:
        return _("The contract has no end date: it cannot be marked completed.")
    if _local_date(now or _now()) < contract.end_date:
        return _("The contract ends on %(date)s: it can be marked completed from that day.") % {
            "date": date_format(contract.end_date, "DATE_FORMAT")
        }
    from contracts.models import MilestoneStatus

    unpaid = contract.milestones.exclude(status__in=[MilestoneStatus.PAID, MilestoneStatus.WAIVED]).count()
    if unpaid:
        return _(
            "%(count)s milestone(s) of the contract are neither paid nor waived yet: it is completed once every one is."
        ) % {"count": unpaid}
    return ""


def contract_complete(*, actor, contract: Contract) -> Contract:
    """Mark a contract in force completed (active → completed), once its end date has been reached.

    The monitoring issue will add the other condition: every milestone paid or waived.
    """
    with transaction.atomic():
        contract = _locked(contract)
        require_perm(actor, "contracts.complete_contract", contract)
        now = _now()
        if can_proceed(contract.complete):  # in any other state, the state machine's refusal says why
            problem = completion_problem(contract, now=now)
            if problem:
                raise ActionRefused(problem)
            from contracts.models import OPEN_AMENDMENT_STATES

            if contract.amendments.filter(status__in=OPEN_AMENDMENT_STATES).exists():
                raise ActionRefused(
                    _("An amendment to this contract is under way: it must come into force or be withdrawn first.")
                )
        source, target = _transition(contract, contract.complete, _("marked completed"), now=now)
        contract.save(update_fields=["status", "ended_at", "updated_at"])
        audit_event_append(
            action="contract.completed",
            actor=actor,
            obj=contract,
            payload={"from": source, "to": target, "end_date": contract.end_date.isoformat()},
        )
        from contracts.notify import both_parties, contract_notify

        contract_notify("contract.completed", contract, recipients=both_parties(contract))
    return contract


def _termination_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for the termination.")})
    if len(reason) < TERMINATION_REASON_MIN_LENGTH:
        raise ValidationError(
            {
                "reason": _("Explain the reason for the termination in at least %(count)s characters.")
                % {"count": TERMINATION_REASON_MIN_LENGTH}
            }
        )
    if len(reason) > TERMINATION_REASON_MAX_LENGTH:
        raise ValidationError(
            {
                "reason": _("Keep the reason to at most %(count)s characters (it has %(length)s).")
                % {"count": TERMINATION_REASON_MAX_LENGTH, "length": len(reason)}
            }
        )
    return reason


def contract_terminate(*, actor, contract: Contract, reason: str) -> Contract:
    """End a contract before its term (draft, awaiting signatures or in force → terminated), with the reason.

    A terminated contract no longer holds its award: while the tender is still only awarded (the contract was
    never signed by both parties), a new contract can be drafted from the same award.
    """
    with transaction.atomic():
        contract = _locked(contract)
        require_perm(actor, "contracts.terminate_contract", contract)
        if can_proceed(contract.terminate):  # in any other state, the state machine's refusal says why
            reason = _termination_reason(reason)
        source, target = _transition(contract, contract.terminate, _("terminated"), now=_now(), reason=reason)
        contract.save(update_fields=["status", "ended_at", "termination_reason", "updated_at"])
        audit_event_append(
            action="contract.terminated",
            actor=actor,
            obj=contract,
            payload={"from": source, "to": target, "reason": reason},
        )
        from contracts.notify import both_parties, contract_notify

        contract_notify("contract.terminated", contract, recipients=both_parties(contract), reason=reason)
        # An amendment under way dies with the contract.
        from contracts.models import OPEN_AMENDMENT_STATES

        for amendment in contract.amendments.select_for_update().filter(status__in=OPEN_AMENDMENT_STATES):
            amendment_source = amendment.status
            amendment.withdraw(now=contract.ended_at)
            amendment.save()
            audit_event_append(
                action="contract.amendment_withdrawn",
                actor=actor,
                obj=amendment,
                payload={
                    "number": amendment.number,
                    "from": amendment_source,
                    "to": amendment.status,
                    "reason": reason,
                },
            )
    return contract


# The internal certificate authority --------------------------------------------------------------


def authority_paths() -> dict[str, Path]:
    """Where ``contracts_ca_init`` writes the CA and the TSA: the CA certificate at CONTRACT_CA_CERT_FILE
    (published for validators), the encrypted keys and the TSA certificate next to it."""
    configured = getattr(settings, "CONTRACT_CA_CERT_FILE", None)
    if not configured:
        raise ImproperlyConfigured("Set CONTRACT_CA_CERT_FILE: where the contract CA's certificate is published.")
    ca_cert = Path(configured)
    stem = ca_cert.stem
    return {
        "ca_cert": ca_cert,
        "ca_key": ca_cert.with_name(f"{stem}-key.pem"),
        "tsa_cert": ca_cert.with_name(f"{stem}-tsa.pem"),
        "tsa_key": ca_cert.with_name(f"{stem}-tsa-key.pem"),
    }


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise ImproperlyConfigured(
            f"The contract CA is not set up ({path} cannot be read): run `manage.py contracts_ca_init`."
        ) from error


def load_authority():
    """The CA certificate and unlocked key."""
    paths = authority_paths()
    ca_cert = pki.load_certificate(_read(paths["ca_cert"]))
    return ca_cert, pki.load_authority_key(_read(paths["ca_key"]))


def timestamper():
    """The configured time-stamp authority (CONTRACT_TSA_URL), or the system's own."""
    url = getattr(settings, "CONTRACT_TSA_URL", "")
    if url:
        return pki.HttpTimeStamper(url)
    paths = authority_paths()
    ca_cert = pki.load_certificate(_read(paths["ca_cert"]))
    tsa_cert = pki.load_certificate(_read(paths["tsa_cert"]))
    return pki.internal_timestamper(tsa_cert, pki.load_authority_key(_read(paths["tsa_key"])), [ca_cert])


def _organisation_of(user) -> str:
    from procurement.bid_services import vendor_of

    vendor = vendor_of(user)
    if vendor is not None:
        return vendor.legal_name_en
    if user.agency_id:
        return user.agency.name_en
    return "PPP Programme"


def signer_key_issue(*, user, password: str) -> SignerKey:
    """A new signing key for ``user`` with a certificate from the internal CA; the private key is stored only
    encrypted under their password. Any earlier key is retired."""
    require_perm(user, "contracts.manage_signer_key")
    if not password or not user.check_password(password):
        raise WrongSigningPassword(_("The password is wrong: enter the password you sign in with."))
    ca_cert, ca_key = load_authority()
    public_key, encrypted = pki.generate_signer_key(password)
    certificate = pki.issue_signer_certificate(
        ca_cert,
        ca_key,
        common_name=user.full_name or user.email,
        email=user.email,
        organisation=_organisation_of(user),
        public_key=public_key,
        valid_days=SIGNER_CERTIFICATE_DAYS,
    )
    with transaction.atomic():
        now = timezone.now()
        SignerKey.objects.select_for_update().filter(user=user, retired_at__isnull=True).update(retired_at=now)
        key = SignerKey.objects.create(
            user=user,
            certificate_pem=certificate.decode("ascii"),
            encrypted_private_key_pem=encrypted.decode("ascii"),
            created_at=now,
        )
        loaded = pki.load_certificate(certificate)
        audit_event_append(
            action="contracts.signer_key_issued",
            actor=user,
            obj=key,
            payload={
                "subject": loaded.subject.rfc4514_string(),
                "serial": format(loaded.serial_number, "x"),
                "not_after": loaded.not_valid_after_utc.isoformat(),
            },
        )
    return key


# Signing -----------------------------------------------------------------------------------------


def _stored(field_file) -> bytes:
    field_file.open("rb")
    try:
        return field_file.read()
    finally:
        field_file.close()


def _current_pdf(version: ContractVersion) -> tuple[bytes, str]:
    """The version's PDF with every signature so far, checked against its recorded SHA-256."""
    last = version.signatures.order_by("-signed_at", "-id").first()
    content, expected = (_stored(last.pdf), last.sha256) if last else (_stored(version.pdf), version.pdf_sha256)
    if hashlib.sha256(content).hexdigest() != expected:
        raise ActionRefused(_("The stored contract PDF does not match its recorded SHA-256: it cannot be signed."))
    return content, expected


def _party_of(actor, contract: Contract) -> str | None:
    if actor.has_perm("contracts.sign_contract_for_vendor", contract):
        return SignatureParty.VENDOR
    if actor.has_perm("contracts.sign_contract_for_agency", contract):
        return SignatureParty.AGENCY
    return None


def _identity(actor, password, pkcs12, pkcs12_password, now) -> tuple[pki.SigningIdentity, bool]:
    """The key and certificate the actor signs with; their password has been checked already."""
    if pkcs12 is not None:
        identity = pki.load_pkcs12(pkcs12, pkcs12_password or "", expected_email=actor.email, at=now)
        from contracts.trust import require_trusted

        require_trusted(identity.certificate, identity.chain, at=now)
        return identity, True
    key = SignerKey.objects.filter(user=actor, retired_at__isnull=True).first()
    if key is None:
        raise pki.CertificateError(_("You have no signing key: create one, or sign with your own certificate."))
    certificate = pki.load_certificate(key.certificate_pem.encode("ascii"))
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise pki.CertificateNotValidAtTime(_("Your signing certificate has expired: create a new signing key."))
    ca_cert = pki.load_certificate(_read(authority_paths()["ca_cert"]))
    try:
        certificate.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature):
        # The CA was replaced (contracts_ca_init --force) since this key was certified: it would sign, untrusted.
        raise pki.CertificateError(
            _("Your signing certificate comes from a certificate authority no longer in use: create a new signing key.")
        ) from None
    private_key = pki.load_signer_key(key.encrypted_private_key_pem.encode("ascii"), password)
    return pki.SigningIdentity(private_key, certificate, (ca_cert,)), False


def awaiting_signature(contract: Contract) -> ContractVersion | None:
    """The version the parties sign now: the contract's own while it awaits signatures, or the version of
    the approved amendment of a contract in force; ``None`` when nothing awaits a signature."""
    if contract.status == ContractStatus.AWAITING_SIGNATURES:
        return contract.versions.filter(amendment__isnull=True).order_by("-number").first()
    if contract.status == ContractStatus.ACTIVE:
        from contracts.models import AmendmentStatus

        return (
            contract.versions.select_related("amendment")
            .filter(amendment__status=AmendmentStatus.AWAITING_SIGNATURES)
            .order_by("-number")
            .first()
        )
    return None


def turn_to_sign(user, contract: Contract) -> ContractVersion | None:
    """The rendered version awaiting signatures that ``user`` may sign now (their party's turn, not yet signed
    for their party), or ``None``."""
    party = _party_of(user, contract)
    version = awaiting_signature(contract) if party is not None else None
    if version is None or version.status != RenderStatus.RENDERED or not version.pdf:
        return None
    signed = set(version.signatures.values_list("party", flat=True))
    expected = next((p for p in SIGNING_ORDER if p not in signed), None)
    return version if expected == party else None


@_atomic_recording_refusals
def contract_sign(
    *, actor, contract: Contract, password: str, pkcs12: bytes | None = None, pkcs12_password: str | None = None
) -> ContractSignature:
    """Sign what awaits the parties' signatures (the contract's frozen version, or an approved amendment's)
    for the actor's party: the contractor's authorised signatory first, then an officer of the agency; after
    both, the contract — or the amendment — is in force."""
    contract = _locked(contract)
    party = _party_of(actor, contract)
    if party is None:
        raise PermissionDenied("contracts.sign_contract")

    def refuse(message: str, reason: str, refusal: type[ActionRefused] = ActionRefused):
        return _RecordedRefusal(
            message,
            contract=contract,
            actor=actor,
            action="contract.sign_refused",
            payload={"party": party, "reason": reason},
            refusal=refusal,
        )

    version = awaiting_signature(contract)
    if version is None:
        raise refuse(
            _("The contract is “%(status)s”: it is not awaiting signatures.")
            % {"status": contract.get_status_display()},
            "state",
        )
    if version.status != RenderStatus.RENDERED or not version.pdf:
        raise ActionRefused(_("The contract's PDF is not ready yet: try again in a moment."))
    signed = set(version.signatures.values_list("party", flat=True))
    if party in signed:
        raise refuse(_("This contract is already signed for your party."), "already_signed")
    expected = next(p for p in SIGNING_ORDER if p not in signed)
    if party != expected:
        raise refuse(_("The contractor signs first; the agency countersigns after."), "order")
    now = _now()
    if not password or not actor.check_password(password):
        raise refuse(
            _("The password is wrong: enter the password you sign in with."), "WrongPassword", WrongSigningPassword
        )
    try:
        identity, own = _identity(actor, password, pkcs12, pkcs12_password, now)
    except pki.CertificateError as error:
        raise refuse(str(error), type(error).__name__) from None
    pdf, before_sha256 = _current_pdf(version)
    try:
        if signature_field_names(pdf).get(party) is not False:
            raise refuse(_("The PDF has no empty signature field for your party."), "field")
        signed_pdf = sign_pdf(
            pdf,
            field_name=party,
            signer_key=identity.private_key,
            signer_cert=identity.certificate,
            chain=identity.chain,
            timestamper=timestamper(),
            reason=(
                ("Amendment" if version.amendment_id else "Contract")
                + (" signed for the contractor" if party == SignatureParty.VENDOR else " countersigned for the agency")
            ),
            location=contract.agency.name_en,
            name=pki.certificate_common_name(identity.certificate),
        )
    except (SigningRefused, UnreadablePdf) as error:
        raise refuse(str(error), "signing") from None
    digest = hashlib.sha256(signed_pdf).hexdigest()
    signature = ContractSignature(
        version=version,
        party=party,
        signer=actor,
        signed_at=now,
        certificate_subject=identity.certificate.subject.rfc4514_string()[:500],
        own_certificate=own,
        field_name=party,
        sha256=digest,
    )
    signature.pdf.save(f"{contract.reference}-v{version.number}-{party}.pdf", ContentFile(signed_pdf), save=False)
    signature.save()
    audit_event_append(
        action="contract.signed",
        actor=actor,
        obj=contract,
        payload={
            "version": version.number,
            "amendment": version.amendment.number if version.amendment_id else None,
            "party": party,
            "field": party,
            "certificate_subject": signature.certificate_subject,
            "certificate_serial": format(identity.certificate.serial_number, "x"),
            "own_certificate": own,
            "sha256_before": before_sha256,
            "sha256": digest,
            "size": len(signed_pdf),
        },
    )
    from contracts.notify import both_parties, contract_notify

    if party == SignatureParty.VENDOR:
        contract_notify(
            "contract.amendment_countersign" if version.amendment_id else "contract.countersign",
            contract,
            recipients=tender_services.tender_officers(contract.tender),
            amendment=version.amendment,
        )
    if signed | {party} == set(SIGNING_ORDER) and version.amendment_id:
        from contracts.amendments import apply_amendment

        apply_amendment(actor=actor, contract=contract, amendment=version.amendment, now=now, sha256=digest)
    elif signed | {party} == set(SIGNING_ORDER):
        source, target = _transition(contract, contract.activate, _("brought into force"), now=now)
        contract.save()
        audit_event_append(
            action="contract.activated",
            actor=actor,
            obj=contract,
            payload={"from": source, "to": target, "version": version.number, "sha256": digest},
        )
        contract_notify("contract.in_force", contract, recipients=both_parties(contract))
        # Both parties signed: the tender's process ends in a contract.
        from procurement.models import Tender
        from procurement.models.tenders import TenderStatus

        tender = Tender.objects.select_for_update(of=("self",)).get(pk=contract.tender_id)
        if tender.status == TenderStatus.AWARDED:
            tender.mark_contracted()
            tender.save(update_fields=["status", "updated_at"])
            audit_event_append(
                action="tender.contracted",
                actor=actor,
                obj=tender,
                payload={"from": TenderStatus.AWARDED, "to": tender.status, "contract_id": contract.pk},
            )
    return signature


def signed_pdf(contract: Contract) -> bytes | None:
    """The contract's latest own version's PDF (amendments aside) with every signature applied so far
    (``None`` before it is rendered)."""
    version = contract.versions.filter(amendment__isnull=True).order_by("-number").first()
    if version is None or not version.pdf:
        return None
    last = version.signatures.order_by("-signed_at", "-id").first()
    return _stored(last.pdf) if last else _stored(version.pdf)


__all__ = [
    "EDITABLE_FIELDS",
    "completion_problem",
    "contract_complete",
    "contract_create_from_award",
    "contract_freeze",
    "contract_kpi_add",
    "contract_milestone_add",
    "contract_sign",
    "contract_terminate",
    "contract_update_draft",
    "signer_key_issue",
    "WrongSigningPassword",
]
