"""Open data: every public tender as an OCDS 1.1.5 contracting process (with the PPP profile's fields where the
system has them).

``ocid`` = ``OCDS_OCID_PREFIX`` + the tender's id. Each significant step is a release: ``planning`` (the budget
and the programme phase the tender serves, dated when the tender was approved), ``tender`` (publication),
``tenderAmendment`` (each issued addendum), ``tenderUpdate`` (closing, cancellation or an unsuccessful end),
``award`` (approval of the award, then ``awardUpdate`` when it is final), ``contract`` (both signatures),
``contractAmendment`` (each amendment in force), ``implementation`` (milestones, payments, KPI measurements and
penalties) and ``contractTermination``. A release states what was known at its date, section by section.

From the PPP profile: ``planning.project``; on contracts ``signatories``, ``riskAllocation``, ``agreedMetrics``
(the KPIs' targets), ``implementation.metrics`` (their measurements) and ``implementation.performanceFailures``
(the penalties). Not published, because the system holds no such data: ``finance`` (the contractor's financing
is not recorded) and ``implementation.charges`` / ``tariffs`` (payments are per milestone, already the
``transactions``; there are no user fees).

What never appears: drafts or tenders never published (their planning release appears with the publication,
back-dated); anything of a sealed bid (before the opening there are no bid figures at all; after it only the
number of tenderers and the award's price); any vendor user's name or e-mail (parties and signatories are
organisations, named by their commercial registration; a signature's certificate, which names its signer, is
never read here).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from decimal import Decimal

from django.conf import settings
from django.db.models import Prefetch

SCHEMA_URI = "https://standard.open-contracting.org/profiles/ppp/schema/1__0__0__beta4/release-schema.json"
PUBLISHER = {"name": "National e-Government Programme — PPP procurement"}
VERSION = "1.1"
#: The audit event of the steering committee's approval (which publishes the tender at once).
APPROVAL_ACTION = "tender.approved_and_published"

TENDER_STATUS = {
    "published": "active",
    "closed": "active",
    "opened": "active",
    "evaluation": "active",
    "award_pending": "active",
    "standstill": "active",
    "awarded": "complete",
    "contracted": "complete",
    "cancelled": "cancelled",
    "unsuccessful": "unsuccessful",
}
CONTRACT_STATUS = {
    "awaiting_signatures": "pending",
    "active": "active",
    "completed": "terminated",
    "terminated": "terminated",
}
MILESTONE_STATUS = {"accepted": "met", "paid": "met", "waived": "notMet"}
#: How often a KPI is measured, in the words of the English output (OCDS output is not translated).
FREQUENCY = {"monthly": "monthly", "quarterly": "quarterly", "semi_annual": "every six months", "annual": "annually"}


def ocid_prefix() -> str:
    return getattr(settings, "OCDS_OCID_PREFIX", "ocds-ppp000")


def ocid(tender) -> str:
    return f"{ocid_prefix()}-{tender.pk}"


def _when(moment) -> str:
    if isinstance(moment, datetime.datetime):
        return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")
    return datetime.datetime.combine(moment, datetime.time(0), tzinfo=datetime.UTC).isoformat().replace("+00:00", "Z")


def _moment(day: datetime.date) -> datetime.datetime:
    """A date as the start of its day in UTC, to compare it with the release's time."""
    return datetime.datetime.combine(day, datetime.time(0), tzinfo=datetime.UTC)


def _value(amount, currency: str) -> dict:
    return {"amount": float(Decimal(amount)), "currency": currency}


def _number(value) -> str:
    """99.500 → "99.5", 10.00 → "10"."""
    return f"{Decimal(value).normalize():f}"


def _agency_reference(agency) -> dict:
    return {"id": f"agency-{agency.code}", "name": agency.name_en}


def _vendor_reference(vendor) -> dict:
    return {"id": f"cr-{vendor.commercial_registration_number}", "name": vendor.legal_name_en}


def _agency_party(agency) -> dict:
    return {**_agency_reference(agency), "roles": ["buyer", "procuringEntity"]}


def _vendor_party(vendor, roles: list[str]) -> dict:
    return {
        **_vendor_reference(vendor),
        "identifier": {"id": vendor.commercial_registration_number, "legalName": vendor.legal_name_en},
        "roles": roles,
    }


def _project(phase) -> dict:
    """The PPP profile's ``planning.project``: the programme phase the tender delivers part of."""
    programme = phase.programme
    project = {
        "id": f"{programme.code}-P{phase.order}",
        "title": f"{programme.name_en} — phase {phase.order}: {phase.name_en}",
        "totalValue": _value(phase.budget, programme.currency),
    }
    description = (phase.specification_en or programme.description_en).strip()
    if description:
        project["description"] = description
    return project


def _planning_section(tender) -> dict:
    project = _project(tender.phase)
    return {
        "budget": {
            "description": "The tender's estimated value, funded from the budget of its programme phase.",
            "amount": _value(tender.estimated_value, tender.currency),
            "project": project["title"],
            "projectID": project["id"],
        },
        "project": project,
    }


def _planning_date(tender) -> datetime.datetime:
    """When the steering committee approved the tender (its creation if no approval is recorded), never later
    than its publication: the planning release comes first even where publication dates were set otherwise."""
    planned = getattr(tender, "ocds_approved_at", None) or tender.created_at
    return min(planned, tender.published_at)


def _tender_section(tender, *, status: str, opened: bool, at) -> dict:
    category = tender.category
    section = {
        "id": tender.reference,
        "title": tender.title_en,
        "status": status,
        "procurementMethod": "open",
        "mainProcurementCategory": "services" if category == "consultingServices" else category,
        "value": _value(tender.estimated_value, tender.currency),
        "tenderPeriod": {"startDate": _when(tender.published_at), "endDate": _when(tender.submission_deadline)},
        "enquiryPeriod": {"startDate": _when(tender.published_at), "endDate": _when(tender.clarification_deadline)},
        "procuringEntity": _agency_reference(tender.agency),
    }
    if category == "consultingServices":
        section["additionalProcurementCategories"] = ["consultingServices"]
    if opened:
        section["numberOfTenderers"] = tender.ocds_bidders
    amendments = [a for a in tender.ocds_addenda if a.issued_at and a.issued_at <= at]
    if amendments:
        section["amendments"] = [
            {"id": str(a.number), "date": _when(a.issued_at), "rationale": a.summary_en} for a in amendments
        ]
    return section


def _award(tender, recommendation, *, status: str) -> dict:
    bid = recommendation.bid
    award = {
        "id": f"{tender.reference}-A{recommendation.pk}",
        "title": tender.title_en,
        "status": status,
        "date": _when(recommendation.decided_at or recommendation.recommended_at),
        "suppliers": [_vendor_reference(bid.vendor)],
    }
    price = (recommendation.evaluation or {}).get("results", [])
    for row in price:
        if row.get("bid_id") == bid.pk and row.get("price") is not None:
            award["value"] = _value(row["price"], tender.currency)
    return award


def _signatories(tender, contract) -> list[dict]:
    """The organisations that signed the contract's text, in the order they signed (the contractor first).

    A signature is a person's (their certificate names them): only the party they signed for is published.
    """
    signatures = sorted(
        (signature for version in contract.ocds_versions for signature in version.signatures.all()),
        key=lambda signature: (signature.signed_at, signature.pk),
    )
    references = {"vendor": _vendor_reference(contract.vendor), "agency": _agency_reference(tender.agency)}
    return [references[party] for party in dict.fromkeys(s.party for s in signatures) if party in references]


def _risk_allocation(contract) -> list[dict]:
    """Who bears each risk, in the order of the PPP profile's risk categories; a shared risk is ``undefined``
    (the codelist has no "shared"), with a note saying so."""
    from contracts.models import RISK_BEARERS, RISK_CATEGORIES, RiskBearer

    allocation = contract.risk_allocation or {}
    order = list(RISK_CATEGORIES) + sorted(set(allocation) - set(RISK_CATEGORIES))
    risks = []
    for category in order:
        bearer = allocation.get(category)
        if bearer not in RISK_BEARERS:
            continue
        risk = {
            "id": category,
            "category": category,
            "description": RISK_CATEGORIES.get(category, (category,))[0],
            "allocation": RISK_BEARERS[bearer][2],
        }
        if bearer == RiskBearer.SHARED:
            risk["notes"] = "Shared between the public authority and the private party."
        risks.append(risk)
    return risks


def _metric(kpi) -> dict:
    bound = "at least" if kpi.higher_is_better else "at most"
    target = " ".join(part for part in (_number(kpi.target), kpi.unit) if part)
    frequency = FREQUENCY.get(kpi.frequency, kpi.frequency)
    return {
        "id": f"KPI{kpi.pk}",
        "title": kpi.name_en,
        "description": f"Target: {bound} {target}, measured {frequency}.",
    }


def _unit(kpi) -> dict:
    return {"unit": {"name": kpi.unit}} if kpi.unit else {}


def _agreed_metrics(contract) -> list[dict]:
    """The contracted indicators, each with its target as the one observation (the current terms, as for the
    milestones)."""
    return [
        {
            **_metric(kpi),
            "observations": [
                {
                    "id": "target",
                    "measure": float(kpi.target),
                    **_unit(kpi),
                    "notes": "Target (a minimum)." if kpi.higher_is_better else "Target (a maximum).",
                }
            ],
        }
        for kpi in contract.kpis.all()
    ]


def _metrics(contract, at) -> list[dict]:
    """Each indicator with its confirmed measurements up to ``at`` (a contractor's unconfirmed or rejected figure
    is not a fact yet)."""
    metrics = []
    for kpi in contract.kpis.all():
        observations = [
            {
                "id": f"KM{m.pk}",
                "period": {"startDate": _when(m.period_start), "endDate": _when(m.period_end)},
                "measure": float(m.value),
                **_unit(kpi),
                "notes": "Target met." if m.met else "Target missed.",
            }
            for m in kpi.ocds_measurements
            if m.confirmed_at and m.confirmed_at <= at
        ]
        if observations:
            metrics.append({**_metric(kpi), "observations": observations})
    return metrics


def _penalties_settled(contract, at) -> set[int]:
    """The penalties (ids) the payments up to ``at`` have deducted in full, oldest first: a payment absorbs
    the outstanding penalties as far as it goes (``contracts.penalties.deduct``)."""
    deducted = sum((p.penalties_deducted for p in contract.payments.all() if _moment(p.paid_on) <= at), Decimal(0))
    settled, charged = set(), Decimal(0)
    for penalty in contract.penalties.all():
        charged += penalty.amount
        if charged <= deducted:
            settled.add(penalty.pk)
    return settled


def _performance_failures(contract, at) -> list[dict]:
    """The final penalties charged up to ``at``: a missed KPI target (one failure in the measured period) or a
    milestone accepted late (one failure lasting its days of delay). A delay still running is not yet one: its
    damages grow each day until the milestone is accepted, and it is published then."""
    rate, cap, currency = _number(contract.penalty_rate), _number(contract.penalty_cap), contract.currency
    ceiling = f"within a cap of {cap}% of the contract value over the contract"
    settled = _penalties_settled(contract, at)
    failures = []
    for penalty in contract.penalties.all():
        if not penalty.final or penalty.created_at > at:
            continue
        if penalty.kind == "kpi" and penalty.measurement is not None:
            measurement = penalty.measurement
            period = {"startDate": _when(measurement.period_start), "endDate": _when(measurement.period_end)}
            category = f"Missed KPI target: {measurement.kpi.name_en}"
            contracted = f"One day's delay damages ({rate}% of the contract value) per missed target, {ceiling}."
        elif penalty.kind == "delay" and penalty.milestone is not None:
            due = penalty.milestone.due_date
            period = {"startDate": _when(due), "endDate": _when(due + datetime.timedelta(days=penalty.days))}
            category = "Milestone delay"
            contracted = f"{rate}% of the contract value per day of delay, {ceiling}."
        else:
            continue
        failures.append(
            {
                "id": f"PF{penalty.pk}",
                "period": period,
                "category": category,
                "events": 1,
                "penaltyContracted": contracted,
                "penaltyImposed": f"{penalty.amount:.2f} {currency}: {penalty.calculation}",
                "penaltyPaid": penalty.pk in settled,
            }
        )
    return failures


def _transactions(tender, contract, at) -> list[dict]:
    return [
        {
            "id": f"P{p.pk}",
            "date": _when(p.paid_on),
            "value": _value(p.amount, contract.currency),
            "payer": _agency_reference(tender.agency),
            "payee": _vendor_reference(contract.vendor),
        }
        for p in contract.payments.all()
        if _moment(p.paid_on) <= at
    ]


def _contract(tender, contract, *, with_implementation: bool, at) -> dict:
    section = {
        "id": contract.reference,
        "awardID": f"{tender.reference}-A{contract.recommendation_id}",
        "title": contract.title_en,
        "status": CONTRACT_STATUS.get(contract.status, "pending"),
        "value": _value(contract.value, contract.currency),
    }
    if contract.start_date and contract.end_date:
        section["period"] = {"startDate": _when(contract.start_date), "endDate": _when(contract.end_date)}
    if contract.activated_at:
        section["dateSigned"] = _when(contract.activated_at)
    signatories = _signatories(tender, contract)
    if signatories:
        section["signatories"] = signatories
    risks = _risk_allocation(contract)
    if risks:
        section["riskAllocation"] = risks
    agreed = _agreed_metrics(contract)
    if agreed:
        section["agreedMetrics"] = agreed
    amendments = [a for a in contract.amendments.all() if a.status == "in_force" and a.in_force_at <= at]
    if amendments:
        section["amendments"] = [
            {"id": str(a.number), "date": _when(a.in_force_at), "rationale": a.reason} for a in amendments
        ]
    section["milestones"] = [
        {
            "id": f"M{m.pk}",
            "title": m.title_en,
            "type": "delivery",
            "dueDate": _when(m.due_date),
            "status": MILESTONE_STATUS.get(m.status, "scheduled") if with_implementation else "scheduled",
            **({"dateMet": _when(m.accepted_on)} if with_implementation and m.accepted_on else {}),
            "value": _value(m.payment_amount, contract.currency),
        }
        for m in contract.milestones.all()
    ]
    if with_implementation:
        implementation = {"transactions": _transactions(tender, contract, at)}
        metrics = _metrics(contract, at)
        if metrics:
            implementation["metrics"] = metrics
        failures = _performance_failures(contract, at)
        if failures:
            implementation["performanceFailures"] = failures
        section["implementation"] = implementation
    return section


def _implementation_date(contract) -> datetime.datetime | None:
    """The latest fact of the contract's implementation (payment, accepted milestone, confirmed measurement,
    final penalty), not before the signature; ``None`` while there is none."""
    facts = (
        [_moment(p.paid_on) for p in contract.payments.all()]
        + [_moment(m.accepted_on) for m in contract.milestones.all() if m.accepted_on]
        + [m.confirmed_at for k in contract.kpis.all() for m in k.ocds_measurements if m.confirmed_at]
        + [p.created_at for p in contract.penalties.all() if p.final]
    )
    return max([contract.activated_at, *facts]) if facts else None


def _release(process, *, tag: str, number: int, at, **sections) -> dict:
    parties = [_agency_party(process.agency)]
    for party in sections.pop("extra_parties", []):
        parties.append(party)
    release = {
        "ocid": ocid(process),
        "id": f"{ocid(process)}-{number:02d}-{tag}",
        "date": _when(at),
        "tag": [tag],
        "initiationType": "tender",
        "language": "en",
        "parties": parties,
        "buyer": _agency_reference(process.agency),
    }
    release.update({key: value for key, value in sections.items() if value is not None})
    return release


def tender_releases(tender) -> list[dict]:
    """The releases of one public tender, oldest first."""
    if tender.published_at is None:
        return []
    # The planning release is numbered 00 so that the releases after it keep the ids they were published with.
    releases = [
        _release(tender, tag="planning", number=0, at=_planning_date(tender), planning=_planning_section(tender))
    ]
    opened = tender.status not in ("published", "closed", "cancelled") or getattr(tender, "ocds_opened", False)

    def add(tag, at, **sections):
        releases.append(_release(tender, tag=tag, number=len(releases), at=at, **sections))

    add(
        "tender",
        tender.published_at,
        tender=_tender_section(tender, status="active", opened=False, at=tender.published_at),
    )
    for addendum in tender.ocds_addenda:
        if addendum.issued_at:
            add(
                "tenderAmendment",
                addendum.issued_at,
                tender=_tender_section(tender, status="active", opened=False, at=addendum.issued_at),
            )
    status = TENDER_STATUS.get(tender.status, "active")
    if tender.status not in ("published",):
        at = max(tender.updated_at, tender.submission_deadline)
        add(
            "tenderUpdate" if status != "cancelled" else "tenderCancellation",
            at,
            tender=_tender_section(tender, status=status, opened=opened, at=at),
        )
    recommendations = [r for r in tender.ocds_recommendations if r.status in ("approved", "final")]
    winners = []
    for recommendation in recommendations:
        vendor = recommendation.bid.vendor
        winners.append(_vendor_party(vendor, ["supplier", "tenderer"]))
        at = recommendation.decided_at or recommendation.recommended_at
        add("award", at, awards=[_award(tender, recommendation, status="pending")], extra_parties=winners[-1:])
        if recommendation.status == "final":
            at = recommendation.standstill_ends_at or at
            add("awardUpdate", at, awards=[_award(tender, recommendation, status="active")], extra_parties=winners[-1:])
    for contract in tender.ocds_contracts:
        if contract.activated_at is None:
            continue
        party = [_vendor_party(contract.vendor, ["supplier", "privateParty"])]
        add(
            "contract",
            contract.activated_at,
            contracts=[_contract(tender, contract, with_implementation=False, at=contract.activated_at)],
            extra_parties=party,
        )
        for amendment in contract.amendments.all():
            if amendment.status == "in_force":
                add(
                    "contractAmendment",
                    amendment.in_force_at,
                    contracts=[_contract(tender, contract, with_implementation=False, at=amendment.in_force_at)],
                    extra_parties=party,
                )
        implemented = _implementation_date(contract)
        if implemented is not None:
            add(
                "implementation",
                implemented,
                contracts=[
                    _contract(tender, contract, with_implementation=True, at=datetime.datetime.now(datetime.UTC))
                ],
                extra_parties=party,
            )
        if contract.status in ("completed", "terminated") and contract.ended_at:
            add(
                "contractTermination",
                contract.ended_at,
                contracts=[_contract(tender, contract, with_implementation=True, at=contract.ended_at)],
                extra_parties=party,
            )
    return releases


def public_tenders():
    """Every tender the public may know, with what the releases need prefetched (a fixed number of queries)."""
    from django.db.models import Count, OuterRef, Q, Subquery

    from audit.models import AuditEvent
    from contracts.models import (
        Contract,
        ContractAmendment,
        ContractKpi,
        ContractMilestone,
        ContractVersion,
        KpiMeasurement,
        Payment,
        Penalty,
    )
    from procurement.models import Addendum, Recommendation, Tender

    approval = AuditEvent.objects.filter(tender_id=OuterRef("pk"), action=APPROVAL_ACTION).order_by("sequence")
    return (
        Tender.objects.filter(published_at__isnull=False)
        .select_related("agency", "phase__programme")
        .annotate(
            ocds_bidders=Count("bids", filter=~Q(bids__status__in=["draft", "withdrawn"]), distinct=True),
            ocds_approved_at=Subquery(approval.values("occurred_at")[:1]),
        )
        .prefetch_related(
            Prefetch(
                "addenda",
                queryset=Addendum.objects.filter(status="issued").order_by("number"),
                to_attr="ocds_addenda",
            ),
            Prefetch(
                "recommendations",
                queryset=Recommendation.objects.select_related("bid__vendor").order_by("id"),
                to_attr="ocds_recommendations",
            ),
            Prefetch(
                "contracts",
                queryset=Contract.objects.select_related("vendor", "tender")
                .prefetch_related(
                    Prefetch("amendments", queryset=ContractAmendment.objects.order_by("number")),
                    Prefetch("milestones", queryset=ContractMilestone.objects.order_by("order", "id")),
                    Prefetch("payments", queryset=Payment.objects.order_by("paid_on", "id")),
                    Prefetch(
                        "kpis",
                        queryset=ContractKpi.objects.prefetch_related(
                            Prefetch(
                                "measurements",
                                queryset=KpiMeasurement.objects.filter(status="confirmed").order_by(
                                    "period_start", "id"
                                ),
                                to_attr="ocds_measurements",
                            )
                        ).order_by("order", "id"),
                    ),
                    Prefetch(
                        "penalties",
                        queryset=Penalty.objects.select_related("milestone", "measurement__kpi").order_by(
                            "created_at", "id"
                        ),
                    ),
                    Prefetch(
                        "versions",
                        queryset=ContractVersion.objects.filter(amendment__isnull=True)
                        .prefetch_related("signatures")
                        .order_by("number"),
                        to_attr="ocds_versions",
                    ),
                )
                .order_by("id"),
                to_attr="ocds_contracts",
            ),
        )
        .order_by("id")
    )


def iter_releases(chunk: int = 200) -> Iterator[dict]:
    """Every release of every public tender, tender by tender, in chunks (constant memory)."""
    last = 0
    while True:
        tenders = list(public_tenders().filter(pk__gt=last)[:chunk])
        if not tenders:
            return
        for tender in tenders:
            tender.ocds_opened = tender.status not in ("published", "closed", "cancelled")
            yield from tender_releases(tender)
        last = tenders[-1].pk


def package_header(*, published: datetime.datetime | None = None) -> dict:
    return {
        "uri": f"{getattr(settings, 'SITE_URL', '')}/ocds/releases.json",
        "version": VERSION,
        "publishedDate": _when(published or datetime.datetime.now(datetime.UTC)),
        "publisher": PUBLISHER,
    }
