"""Open data: every public tender as an OCDS 1.1.5 contracting process (with the PPP profile's fields where the
system has them).

``ocid`` = ``OCDS_OCID_PREFIX`` + the tender's id. Each significant step is a release: ``tender`` (publication),
``tenderAmendment`` (each issued addendum), ``tenderUpdate`` (closing, cancellation or an unsuccessful end),
``award`` (approval of the award, then ``awardUpdate`` when it is final), ``contract`` (both signatures),
``contractAmendment`` (each amendment in force), ``implementation`` (milestones and payments) and
``contractTermination``. A release states what was known at its date, section by section.

What never appears: drafts or tenders never published; anything of a sealed bid (before the opening there are
no bid figures at all; after it only the number of tenderers and the award's price); any vendor user's name
or e-mail (parties are organisations, named by their commercial registration).
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


def ocid_prefix() -> str:
    return getattr(settings, "OCDS_OCID_PREFIX", "ocds-ppp000")


def ocid(tender) -> str:
    return f"{ocid_prefix()}-{tender.pk}"


def _when(moment) -> str:
    if isinstance(moment, datetime.datetime):
        return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")
    return datetime.datetime.combine(moment, datetime.time(0), tzinfo=datetime.UTC).isoformat().replace("+00:00", "Z")


def _value(amount, currency: str) -> dict:
    return {"amount": float(Decimal(amount)), "currency": currency}


def _agency_party(agency) -> dict:
    return {
        "id": f"agency-{agency.code}",
        "name": agency.name_en,
        "roles": ["buyer", "procuringEntity"],
    }


def _vendor_party(vendor, roles: list[str]) -> dict:
    return {
        "id": f"cr-{vendor.commercial_registration_number}",
        "name": vendor.legal_name_en,
        "identifier": {"id": vendor.commercial_registration_number, "legalName": vendor.legal_name_en},
        "roles": roles,
    }


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
        "procuringEntity": {"id": f"agency-{tender.agency.code}", "name": tender.agency.name_en},
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
        "suppliers": [{"id": f"cr-{bid.vendor.commercial_registration_number}", "name": bid.vendor.legal_name_en}],
    }
    price = (recommendation.evaluation or {}).get("results", [])
    for row in price:
        if row.get("bid_id") == bid.pk and row.get("price") is not None:
            award["value"] = _value(row["price"], tender.currency)
    return award


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
        section["implementation"] = {
            "transactions": [
                {
                    "id": f"P{p.pk}",
                    "source": "",
                    "date": _when(p.paid_on),
                    "value": _value(p.amount, contract.currency),
                    "payer": {"id": f"agency-{tender.agency.code}", "name": tender.agency.name_en},
                    "payee": {
                        "id": f"cr-{contract.vendor.commercial_registration_number}",
                        "name": contract.vendor.legal_name_en,
                    },
                }
                for p in contract.payments.all()
                if datetime.datetime.combine(p.paid_on, datetime.time(0), tzinfo=datetime.UTC) <= at
            ]
        }
        for transaction in section["implementation"]["transactions"]:
            del transaction["source"]
    return section


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
        "buyer": {"id": f"agency-{process.agency.code}", "name": process.agency.name_en},
    }
    release.update({key: value for key, value in sections.items() if value is not None})
    return release


def tender_releases(tender) -> list[dict]:
    """The releases of one public tender, oldest first."""
    if tender.published_at is None:
        return []
    releases = []
    opened = tender.status not in ("published", "closed", "cancelled") or tender.ocds_opened

    def add(tag, at, **sections):
        releases.append(_release(tender, tag=tag, number=len(releases) + 1, at=at, **sections))

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
        if contract.payments.all() or any(m.accepted_on for m in contract.milestones.all()):
            at = max(
                [contract.activated_at]
                + [
                    datetime.datetime.combine(p.paid_on, datetime.time(0), tzinfo=datetime.UTC)
                    for p in contract.payments.all()
                ]
            )
            add(
                "implementation",
                at,
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
    from django.db.models import Count, Q

    from contracts.models import Contract, ContractAmendment, ContractMilestone, Payment
    from procurement.models import Addendum, Recommendation, Tender

    return (
        Tender.objects.filter(published_at__isnull=False)
        .select_related("agency")
        .annotate(
            ocds_bidders=Count("bids", filter=~Q(bids__status__in=["draft", "withdrawn"]), distinct=True),
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
