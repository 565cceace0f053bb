"""A contract's trail: which audit events make it, what kind of event each is, and the documents it names.

The trail runs from the programme and phase that planned the work, through the tender (preparation,
approval, publication, clarifications, addenda, bids, opening, evaluation, award, complaints), to the
contract (versions, signatures, amendments, milestones, reports, KPIs, penalties, payments) and the
notifications sent along the way. Every entry is an audit-log event, so each one carries its sequence number
and hash and the trail can be checked against the signed checkpoints.

The kinds are given by the events' actions (a prefix each), so that filtering by kind is an indexed
``action`` lookup rather than a scan of the payloads.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

#: (key, label, action prefixes). An action belongs to every kind one of whose prefixes it starts with; the
#: order is the order of a contract's life.
KINDS: list[tuple[str, object, tuple[str, ...]]] = [
    ("programme", _("Programme and phase"), ("procurement.programme.", "procurement.phase.")),
    (
        "preparation",
        _("Tender preparation"),
        (
            "tender.created",
            "tender.changed",
            "tender.draft_",
            "tender.criteria_changed",
            "tender.document_",
            "tender.opening_member_",
            "tender.sealing_key_created",
        ),
    ),
    (
        "approval",
        _("Tender approval"),
        ("tender.submitted_for_approval", "tender.returned", "tender.approval_refused", "tender.approved"),
    ),
    (
        "publication",
        _("Publication and closing"),
        ("tender.approved_and_published", "tender.published", "tender.closed"),
    ),
    ("clarification", _("Clarifications"), ("tender.question_",)),
    ("addendum", _("Addenda"), ("tender.addendum_",)),
    ("bid", _("Bids and receipts"), ("bid.",)),
    (
        "opening",
        _("Opening"),
        (
            "tender.opening_confirmed",
            "tender.opening_expired",
            "tender.opening_refused",
            "tender.bids_opened",
            "tender.financial_",
        ),
    ),
    (
        "declaration",
        _("Committee and declarations"),
        ("evaluation.member_", "evaluation.no_conflict_declared", "evaluation.conflict_declared"),
    ),
    (
        "score",
        _("Compliance and scores"),
        (
            "tender.evaluation_",
            "evaluation.compliance_",
            "evaluation.scores_",
            "evaluation.consensus_",
            "evaluation.price_",
            "evaluation.technical_",
        ),
    ),
    ("recommendation", _("Recommendation and report"), ("tender.award_recommended", "evaluation.report_")),
    ("award_approval", _("Approval of the award"), ("tender.award_approved", "tender.award_returned", "award.")),
    ("complaint", _("Complaints"), ("complaint.",)),
    (
        "award",
        _("Award and outcome"),
        ("tender.awarded", "tender.unsuccessful", "tender.cancelled", "tender.contracted"),
    ),
    ("notification", _("Notifications"), ("notification.",)),
    (
        "contract_version",
        _("Contract versions"),
        ("contract.created", "contract.draft_updated", "contract.frozen", "contract.pdf_", "contract.document"),
    ),
    ("signature", _("Signatures"), ("contract.signed", "contract.sign_refused", "contract.activated")),
    ("amendment", _("Amendments"), ("contract.amendment_",)),
    (
        "milestone",
        _("Milestones and the contract's end"),
        ("contract.milestone_", "contract.completed", "contract.terminated"),
    ),
    ("report", _("Progress reports"), ("contract.progress_",)),
    ("kpi", _("KPIs"), ("contract.kpi_",)),
    ("penalty", _("Penalties"), ("contract.penalty_",)),
    ("payment", _("Payments"), ("contract.payment_",)),
    ("audit", _("Auditors' access"), ("audit.",)),
]

KIND_LABELS = {key: label for key, label, _prefixes in KINDS}
KIND_CHOICES = [(key, label) for key, label, _prefixes in KINDS]


def kinds_of(action: str) -> list[str]:
    """The kinds an action belongs to (most belong to one; the publication of an approved tender to two)."""
    return [key for key, _label, prefixes in KINDS if action.startswith(prefixes)]


def kind_q(kind: str) -> Q:
    """The events of one kind, as an indexed lookup on the action."""
    for key, _label, prefixes in KINDS:
        if key == kind:
            query = Q(pk__in=[])
            for prefix in prefixes:
                query |= Q(action__startswith=prefix)
            return query
    return Q(pk__in=[])


def core_filter(contract) -> Q:
    """The contract's own events and its tender's (preparation to award): what a proof bundle proves."""
    return Q(contract_id=contract.pk) | Q(tender_id=contract.tender_id)


def trail_filter(contract) -> Q:
    """The whole trail: the core, plus the events of the programme and the phase that planned the tender.

    The programme's and phase's events are context recorded long before the tender; they stay out of the proof
    bundle (whose range would otherwise reach back to the programme's creation) and are checked by
    ``verify_audit_log`` with the rest of the log."""
    tender = contract.tender
    phase_id = tender.phase_id
    programme_id = tender.phase.programme_id
    return (
        core_filter(contract)
        | Q(object_type="procurement.phase", object_id=str(phase_id))
        | Q(object_type="procurement.programme", object_id=str(programme_id))
    )


@dataclass(frozen=True)
class TrailDocument:
    """A document the trail names: where it came from, the SHA-256 recorded when it was stored, its file."""

    key: str
    kind: object
    title: str
    sha256: str
    file: object
    stored_at: object = None

    @property
    def name(self) -> str:
        return str(self.file.name).rsplit("/", 1)[-1] if self.file else ""


def trail_documents(contract) -> list[TrailDocument]:
    """Every stored document of the contract's process, with the SHA-256 recorded for it: the tender's
    documents and addenda, the evaluation reports, each contract version's PDF and each signed PDF, and the
    contractor's progress evidence. A fixed number of queries, whatever the number of documents."""
    from contracts.models import ContractSignature, ContractVersion, ProgressEvidence
    from procurement.models import Recommendation, TenderDocument

    documents: list[TrailDocument] = []
    for document in TenderDocument.objects.filter(tender_id=contract.tender_id).order_by("uploaded_at", "id"):
        documents.append(
            TrailDocument(
                key=f"tender-{document.pk}",
                kind=_("Addendum document") if document.addendum_id else _("Tender document"),
                title=document.title,
                sha256=document.sha256,
                file=document.file,
                stored_at=document.uploaded_at,
            )
        )
    for recommendation in Recommendation.objects.filter(tender_id=contract.tender_id).exclude(report="").order_by("id"):
        documents.append(
            TrailDocument(
                key=f"report-{recommendation.pk}",
                kind=_("Evaluation report"),
                title=str(_("Evaluation report")),
                sha256=recommendation.report_sha256,
                file=recommendation.report,
            )
        )
    for version in (
        ContractVersion.objects.filter(contract=contract).exclude(pdf="").select_related("amendment").order_by("number")
    ):
        documents.append(
            TrailDocument(
                key=f"version-{version.pk}",
                kind=_("Contract PDF (unsigned)"),
                title=_amendment_title(version),
                sha256=version.pdf_sha256,
                file=version.pdf,
                stored_at=version.frozen_at,
            )
        )
    for signature in (
        ContractSignature.objects.filter(version__contract=contract)
        .select_related("version__amendment")
        .order_by("version__number", "signed_at", "id")
    ):
        documents.append(
            TrailDocument(
                key=f"signature-{signature.pk}",
                kind=_("Signed PDF"),
                title=f"{_amendment_title(signature.version)} · {signature.get_party_display()}",
                sha256=signature.sha256,
                file=signature.pdf,
                stored_at=signature.signed_at,
            )
        )
    for evidence in (
        ProgressEvidence.objects.filter(report__milestone__contract=contract)
        .select_related("report")
        .order_by("report__submitted_at", "id")
    ):
        documents.append(
            TrailDocument(
                key=f"evidence-{evidence.pk}",
                kind=_("Progress evidence"),
                title=evidence.title,
                sha256=evidence.sha256,
                file=evidence.file,
                stored_at=evidence.report.submitted_at,
            )
        )
    return documents


def _amendment_title(version) -> str:
    if version.amendment_id:
        return str(
            _("Amendment %(number)s, version %(version)s")
            % {"number": version.amendment.number, "version": version.number}
        )
    return str(_("Contract, version %(version)s") % {"version": version.number})


def trail_document(contract, key: str) -> TrailDocument | None:
    return next((document for document in trail_documents(contract) if document.key == key), None)


def file_sha256(field_file) -> str | None:
    """The SHA-256 of a stored file as it is now, or None when it cannot be read."""
    from core.uploads import sha256_of_stored

    try:
        return sha256_of_stored(field_file)
    except (OSError, ValueError):
        return None


def hashes_in_log(contract, hashes: list[str]) -> set[str]:
    """Which of ``hashes`` some event of the contract's trail names (one query)."""
    from audit.models import AuditEvent

    wanted = [value for value in hashes if value]
    if not wanted:
        return set()
    query = Q(pk__in=[])
    for value in wanted:
        query |= Q(canonical__contains=value)
    found: set[str] = set()
    for canonical in (
        AuditEvent.objects.filter(trail_filter(contract)).filter(query).values_list("canonical", flat=True)
    ):
        found.update(value for value in wanted if value in canonical)
    return found


def check_documents(contract, documents) -> dict[str, dict]:
    """Each document's SHA-256 recomputed from the file store, compared with the one recorded when it was stored
    and looked for in the audit log's events of the trail (the trail page's and the API's check)."""
    logged = hashes_in_log(contract, [document.sha256 for document in documents])
    checks = {}
    for document in documents:
        found = file_sha256(document.file)
        checks[document.key] = {
            "found": found,
            "matches": found is not None and found == document.sha256,
            "in_log": document.sha256 in logged,
            "ok": found is not None and found == document.sha256 and document.sha256 in logged,
        }
    return checks
