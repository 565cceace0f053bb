"""Procurement models: the organisation and programme (``organisation``), tenders (``tenders``) and sealed
bids (``bids``)."""

from procurement.models.bids import (
    Bid,
    BidConsortiumMember,
    BidEnvelope,
    BidFile,
    BidOpening,
    BidReceipt,
    BidVersion,
    OpeningCommitteeMember,
    TenderKey,
    TenderKeyShare,
)
from procurement.models.organisation import (
    Agency,
    AgencyQuerySet,
    Phase,
    Programme,
    ProgrammeQuerySet,
    code_validator,
    default_time_zone,
    time_zone_choices,
    validate_time_zone,
)
from procurement.models.tenders import (
    Addendum,
    Clarification,
    Tender,
    TenderCriterion,
    TenderDocument,
    TenderDocumentDownload,
    TenderReferenceCounter,
)

__all__ = [
    "Bid",
    "BidConsortiumMember",
    "BidEnvelope",
    "BidFile",
    "BidOpening",
    "BidReceipt",
    "BidVersion",
    "OpeningCommitteeMember",
    "TenderKey",
    "TenderKeyShare",
    "Addendum",
    "Agency",
    "AgencyQuerySet",
    "Clarification",
    "Phase",
    "Programme",
    "ProgrammeQuerySet",
    "Tender",
    "TenderCriterion",
    "TenderDocument",
    "TenderDocumentDownload",
    "TenderReferenceCounter",
    "code_validator",
    "default_time_zone",
    "time_zone_choices",
    "validate_time_zone",
]
