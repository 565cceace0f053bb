"""What the public portal may read, in one place: the pages and feeds ask here and nowhere else.

The rules: a tender is public once published (``Tender.objects.public()``); a contract once both parties
have signed it (in force, completed, or terminated after it came into force) — never a draft or one still
awaiting signatures; a vendor's public profile only while it is verified. Nothing of a bid is read here,
and no vendor user (a person) is named. Every function runs a fixed number of queries whatever the amount
of data: lists are cut to a size, and per-row facts come from one aggregate query over the whole list.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from contracts.models import (
    AmendmentStatus,
    Contract,
    ContractMilestone,
    ContractSignature,
    ContractStatus,
    MilestoneStatus,
)
from procurement.models import Phase, Tender
from procurement.models.tenders import TenderStatus
from vendors.models import Vendor, VendorStatus

#: Milestones that count as delivered on the public pages.
DELIVERED = (MilestoneStatus.ACCEPTED, MilestoneStatus.PAID)
SEARCH_LIMIT = 20
MIN_SEARCH_LENGTH = 2


def signed_contract_filter(prefix: str = "") -> Q:
    """Contracts both parties signed: in force, completed, or terminated after coming into force."""
    return Q(**{f"{prefix}status__in": [ContractStatus.ACTIVE, ContractStatus.COMPLETED]}) | Q(
        **{f"{prefix}status": ContractStatus.TERMINATED, f"{prefix}activated_at__isnull": False}
    )


def public_contracts() -> QuerySet[Contract]:
    """Signed contracts of public tenders, with what a list row shows."""
    return (
        Contract.objects.filter(signed_contract_filter(), tender__in=Tender.objects.public())
        .select_related("agency", "vendor", "tender")
        .only(
            "id",
            "number",
            "title_en",
            "title_ar",
            "value",
            "currency",
            "status",
            "activated_at",
            "start_date",
            "end_date",
            "consortium",
            "agency__code",
            "agency__name_en",
            "agency__name_ar",
            "vendor__id",
            "vendor__legal_name_en",
            "vendor__legal_name_ar",
            "vendor__status",
            "tender__id",
            "tender__reference",
        )
    )


def public_vendors() -> QuerySet[Vendor]:
    return Vendor.objects.filter(status=VendorStatus.VERIFIED)


def public_milestones(contract: Contract) -> QuerySet[ContractMilestone]:
    """The schedule as signed and as amended by amendments in force (never one only drafted)."""
    return contract.milestones.filter(
        Q(amendment__isnull=True) | Q(amendment__status=AmendmentStatus.IN_FORCE)
    ).order_by("order", "due_date", "pk")


def open_tenders(now: datetime.datetime, *, limit: int) -> list[Tender]:
    """Tenders still open for bids (by the clock, whatever the scheduler has done), closing soonest first."""
    return list(
        Tender.objects.filter(status=TenderStatus.PUBLISHED, submission_deadline__gt=now)
        .select_related("agency")
        .only(
            "id",
            "reference",
            "title_en",
            "title_ar",
            "status",
            "submission_deadline",
            "estimated_value",
            "currency",
            "agency__code",
            "agency__name_en",
            "agency__name_ar",
        )
        .order_by("submission_deadline", "pk")[:limit]
    )


def recent_contracts(*, limit: int) -> list[Contract]:
    return list(public_contracts().order_by("-activated_at", "-pk")[:limit])


def fully_signed_pdf(contract: Contract) -> ContractSignature | None:
    """The last signature on the contract's own text (not an amendment's): the PDF both parties signed."""
    return (
        ContractSignature.objects.filter(version__contract=contract, version__amendment__isnull=True)
        .only("id", "sha256", "signed_at", "party", "version_id")
        .order_by("-signed_at", "-pk")
        .first()
    )


def published_pdfs(contract: Contract) -> list[ContractSignature]:
    """The PDFs the portal offers for download when the agency publishes its signed contracts: for the
    contract's own text and for each amendment in force, the PDF as it stood after its last signature (both
    parties'). Empty when the agency does not publish them. Two queries."""
    if not contract.agency.publishes_signed_contracts:
        return []
    signatures = (
        ContractSignature.objects.filter(version__contract=contract)
        .filter(Q(version__amendment__isnull=True) | Q(version__amendment__status=AmendmentStatus.IN_FORCE))
        .select_related("version__amendment")
        .only("id", "sha256", "signed_at", "pdf", "version__number", "version__amendment__number")
        .order_by("version__number", "-signed_at", "-pk")
    )
    last: dict[int, ContractSignature] = {}
    for signature in signatures:
        last.setdefault(signature.version.number, signature)
    # Only versions signed by both parties are offered.
    counts = {
        row["version__number"]: row["n"]
        for row in ContractSignature.objects.filter(version__contract=contract)
        .values("version__number")
        .annotate(n=Count("id"))
    }
    return [signature for number, signature in sorted(last.items()) if counts.get(number, 0) >= 2]


# Progress pictures --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PhaseProgress:
    phase: Phase
    status: str
    time_percent: int
    milestones_due: int
    milestones_delivered: int

    @property
    def delivery_percent(self) -> int | None:
        if not self.milestones_due:
            return None
        return min(100, round(self.milestones_delivered * 100 / self.milestones_due))


def phases_progress(phases: list[Phase], *, today: datetime.date) -> list[PhaseProgress]:
    """Each phase's elapsed time and its signed contracts' milestones delivered against those due (one query)."""
    rows = (
        {
            row["contract__phase_id"]: row
            for row in ContractMilestone.objects.filter(
                signed_contract_filter("contract__"), contract__phase__in=[p.pk for p in phases]
            )
            .exclude(status=MilestoneStatus.WAIVED)
            .filter(Q(amendment__isnull=True) | Q(amendment__status=AmendmentStatus.IN_FORCE))
            .values("contract__phase_id")
            .annotate(
                due=Count("id", filter=Q(due_date__lte=today) | Q(status__in=DELIVERED)),
                delivered=Count("id", filter=Q(status__in=DELIVERED)),
            )
        }
        if phases
        else {}
    )
    return [
        PhaseProgress(
            phase=phase,
            status=phase.status(today),
            time_percent=phase.progress(today),
            milestones_due=rows.get(phase.pk, {}).get("due", 0),
            milestones_delivered=rows.get(phase.pk, {}).get("delivered", 0),
        )
        for phase in phases
    ]


def milestone_summary(milestones: list[ContractMilestone]) -> dict:
    counted = [m for m in milestones if m.status != MilestoneStatus.WAIVED]
    delivered = sum(1 for m in counted if m.status in DELIVERED)
    return {
        "total": len(counted),
        "delivered": delivered,
        "percent": round(delivered * 100 / len(counted)) if counted else 0,
    }


# Search -------------------------------------------------------------------------------------------


@dataclass
class SearchResults:
    query: str
    tenders: list[Tender]
    contracts: list[Contract]
    vendors: list[Vendor]

    @property
    def searched(self) -> bool:
        return len(self.query) >= MIN_SEARCH_LENGTH

    @property
    def empty(self) -> bool:
        return not (self.tenders or self.contracts or self.vendors)


def search(query: str, *, limit: int = SEARCH_LIMIT) -> SearchResults:
    """Public tenders, signed contracts (awards) and verified vendors matching ``query``: three queries."""
    query = " ".join(query.split())[:100]
    if len(query) < MIN_SEARCH_LENGTH:
        return SearchResults(query=query, tenders=[], contracts=[], vendors=[])
    tenders = list(
        Tender.objects.public()
        .filter(Q(reference__icontains=query) | Q(title_en__icontains=query) | Q(title_ar__icontains=query))
        .select_related("agency")
        .only(
            "id",
            "reference",
            "title_en",
            "title_ar",
            "status",
            "submission_deadline",
            "estimated_value",
            "currency",
            "agency__code",
            "agency__name_en",
            "agency__name_ar",
        )
        .order_by("-id")[:limit]
    )
    contracts = list(
        public_contracts()
        .filter(
            Q(title_en__icontains=query)
            | Q(title_ar__icontains=query)
            | Q(tender__reference__icontains=query)
            | Q(vendor__legal_name_en__icontains=query)
            | Q(vendor__legal_name_ar__icontains=query)
        )
        .order_by("-activated_at", "-pk")[:limit]
    )
    vendors = list(
        public_vendors()
        .filter(Q(legal_name_en__icontains=query) | Q(legal_name_ar__icontains=query))
        .only("id", "legal_name_en", "legal_name_ar")
        .order_by("legal_name_en", "pk")[:limit]
    )
    return SearchResults(query=query, tenders=tenders, contracts=contracts, vendors=vendors)
