"""Rows for the public pages' tests: tenders, signed and unsigned contracts, vendors, milestones.

States are protected state-machine fields, so rows are put in a state with ``QuerySet.update``, as the
services would have left them. Nothing here goes through the services: these tests are about what the
public pages show of rows in each state, not about how the rows got there.
"""

from __future__ import annotations

import datetime
import itertools
from decimal import Decimal

from django.utils import timezone

from contracts.models import (
    AmendmentStatus,
    Contract,
    ContractAmendment,
    ContractMilestone,
    ContractSignature,
    ContractStatus,
    ContractVersion,
    MilestoneStatus,
)
from procurement.models import Bid, Recommendation, Tender
from procurement.models.bids import BidStatus
from procurement.models.evaluation import RecommendationStatus
from procurement.models.tenders import TenderStatus
from tests.procurement.tender_factories import TenderFactory
from tests.vendors.factories import VendorFactory, set_status
from vendors.models import Vendor, VendorStatus

_numbers = itertools.count(5001)


def tender_in(status: str, *, phase, agency, officer, reference: str | None = None, **fields) -> Tender:
    reference = reference or f"{agency.code}-2026-{next(_numbers):04d}"
    tender = TenderFactory(reference=reference, phase=phase, agency=agency, created_by=officer, **fields)
    published_at = None if status in (TenderStatus.DRAFT, TenderStatus.PENDING_APPROVAL) else timezone.now()
    Tender.objects.filter(pk=tender.pk).update(status=status, published_at=published_at)
    tender.refresh_from_db()
    return tender


def verified_vendor(name: str = "", **fields) -> Vendor:
    if name:
        fields.setdefault("legal_name_en", name)
    vendor = VendorFactory(**fields)
    Vendor.objects.filter(pk=vendor.pk).update(status=VendorStatus.VERIFIED, verified_at=timezone.now())
    vendor.refresh_from_db()
    return vendor


def pending_vendor(name: str) -> Vendor:
    return set_status(VendorFactory(legal_name_en=name), VendorStatus.PENDING)


def contract_in(
    status: str,
    *,
    phase,
    agency,
    officer,
    vendor: Vendor,
    title: str = "",
    value: str = "1250000.00",
    activated: bool | None = None,
    milestones: int = 0,
) -> Contract:
    """A contract for a tender awarded to ``vendor``, in ``status`` (signed ones have ``activated_at``)."""
    tender = tender_in(TenderStatus.CONTRACTED, phase=phase, agency=agency, officer=officer)
    bid = Bid.objects.create(tender=tender, vendor=vendor, version=1, created_by=officer)
    Bid.objects.filter(pk=bid.pk).update(status=BidStatus.AWARDED)
    recommendation = Recommendation.objects.create(
        tender=tender, bid=bid, reasons="Best value.", recommended_by=officer, evaluation={}
    )
    Recommendation.objects.filter(pk=recommendation.pk).update(status=RecommendationStatus.FINAL)
    contract = Contract.objects.create(
        tender=tender,
        recommendation=recommendation,
        bid=bid,
        vendor=vendor,
        agency=agency,
        phase=phase,
        title_en=title or f"Contract for {tender.title_en}",
        title_ar=title or f"عقد {tender.title_ar}",
        value=Decimal(value),
        currency="SAR",
        start_date=datetime.date(2026, 1, 1),
        end_date=datetime.date(2028, 12, 31),
        created_by=officer,
    )
    signed = activated if activated is not None else status in (ContractStatus.ACTIVE, ContractStatus.COMPLETED)
    Contract.objects.filter(pk=contract.pk).update(
        status=status, activated_at=timezone.now() - datetime.timedelta(days=next(_numbers)) if signed else None
    )
    contract.refresh_from_db()
    for order in range(1, milestones + 1):
        milestone_of(contract, order=order, delivered=order % 2 == 1)
    return contract


def milestone_of(contract: Contract, *, order: int, delivered: bool, title: str = "", amendment=None):
    milestone = ContractMilestone.objects.create(
        contract=contract,
        order=order,
        title_en=title or f"Milestone {order}",
        title_ar=title or f"المرحلة {order}",
        due_date=datetime.date(2026, 1, 1) + datetime.timedelta(days=30 * order),
        payment_amount=Decimal("1000.00"),
        amendment=amendment,
        accepted_on=datetime.date(2026, 1, 1) + datetime.timedelta(days=30 * order) if delivered else None,
    )
    ContractMilestone.objects.filter(pk=milestone.pk).update(
        status=MilestoneStatus.ACCEPTED if delivered else MilestoneStatus.PLANNED
    )
    return milestone


def signed_by_both(contract: Contract, *, officer, sha256: str) -> ContractSignature:
    version = ContractVersion.objects.create(
        contract=contract, number=1, frozen_at=timezone.now(), frozen_by=officer, pdf_sha256="0" * 64
    )
    ContractSignature.objects.create(
        version=version, party="vendor", signer=officer, certificate_subject="CN=Vendor signatory",
        field_name="vendor", pdf="contracts/vendor.pdf", sha256="1" * 64,
        signed_at=timezone.now() - datetime.timedelta(hours=1),
    )  # fmt: skip
    return ContractSignature.objects.create(
        version=version, party="agency", signer=officer, certificate_subject="CN=Agency signatory",
        field_name="agency", pdf="contracts/agency.pdf", sha256=sha256,
    )  # fmt: skip


def draft_amendment(contract: Contract, *, officer, reason: str, new_value: str) -> ContractAmendment:
    amendment = ContractAmendment.objects.create(
        contract=contract, number=1, reason=reason, new_value=Decimal(new_value), drafted_by=officer
    )
    assert amendment.status == AmendmentStatus.DRAFT
    return amendment
