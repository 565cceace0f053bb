"""Red flags for auditors: patterns that often go with weak competition or favouritism, each computed from the
records with its explanation. A flag is a reason to look, never a finding. Each kind is one query (two for
amended contracts), whatever the number of tenders and contracts; each list is capped.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, F, Q
from django.utils.translation import gettext as _

LIMIT = 200

#: Tender states past the submission deadline (the bids are in).
PAST_DEADLINE = [
    "closed",
    "opened",
    "evaluation",
    "award_pending",
    "standstill",
    "awarded",
    "contracted",
    "unsuccessful",
]


@dataclass(frozen=True)
class Flag:
    kind: str
    title: str
    explanation: str
    tender: object | None = None
    contract: object | None = None


def _setting(name: str, default):
    return getattr(settings, name, default)


def single_bidder() -> list[Flag]:
    from procurement.models import Tender

    tenders = (
        Tender.objects.filter(status__in=PAST_DEADLINE)
        .annotate(bidders=Count("bids", filter=~Q(bids__status__in=["draft", "withdrawn"])))
        .filter(bidders=1)
        .order_by("-submission_deadline")[:LIMIT]
    )
    return [
        Flag(
            "single_bidder",
            _("Single bidder"),
            _("Only one bid was submitted by the deadline of %(reference)s: there was no competition on price.")
            % {"reference": t.reference},
            tender=t,
        )
        for t in tenders
    ]


def short_bidding_period() -> list[Flag]:
    from procurement.models import Tender

    days = _setting("RED_FLAG_SHORT_BIDDING_DAYS", 30)
    tenders = Tender.objects.filter(
        published_at__isnull=False, submission_deadline__lt=F("published_at") + datetime.timedelta(days=days)
    ).order_by("-published_at")[:LIMIT]
    return [
        Flag(
            "short_bidding",
            _("Short bidding period"),
            _("%(reference)s gave bidders %(days)s days from publication to the deadline (less than %(limit)s).")
            % {"reference": t.reference, "days": (t.submission_deadline - t.published_at).days, "limit": days},
            tender=t,
        )
        for t in tenders
    ]


def abnormally_low_award() -> list[Flag]:
    from procurement.models import Recommendation

    recommendations = (
        Recommendation.objects.filter(status__in=["approved", "final"], bid__price_review__isnull=False)
        .select_related("tender", "bid__vendor", "bid__price_review")
        .order_by("-id")[:LIMIT]
    )
    return [
        Flag(
            "abnormally_low",
            _("Award to an abnormally low price"),
            _(
                "%(reference)s was awarded to %(vendor)s, whose price had been flagged as abnormally low and kept "
                "by the committee: “%(reason)s”."
            )
            % {"reference": r.tender.reference, "vendor": r.bid.vendor, "reason": r.bid.price_review.reason},
            tender=r.tender,
        )
        for r in recommendations
    ]


def many_addenda() -> list[Flag]:
    from procurement.models import Tender

    limit = _setting("RED_FLAG_ADDENDA", 3)
    tenders = (
        Tender.objects.annotate(issued=Count("addenda", filter=Q(addenda__status="issued")))
        .filter(issued__gte=limit)
        .order_by("-id")[:LIMIT]
    )
    return [
        Flag(
            "many_addenda",
            _("Many addenda"),
            _("%(reference)s was changed by %(count)s addenda (%(limit)s or more).")
            % {"reference": t.reference, "count": t.issued, "limit": limit},
            tender=t,
        )
        for t in tenders
    ]


def amended_contracts() -> list[Flag]:
    from contracts.models import Contract, ContractVersion

    percent = Decimal(str(_setting("RED_FLAG_AMENDMENT_PERCENT", 10)))
    contracts = list(
        Contract.objects.filter(amendments__status="in_force")
        .distinct()
        .select_related("tender")
        .order_by("-id")[:LIMIT]
    )
    firsts = {}
    for version in ContractVersion.objects.filter(contract__in=contracts, amendment__isnull=True).order_by("number"):
        firsts.setdefault(version.contract_id, version)
    flags = []
    for contract in contracts:
        first = firsts.get(contract.pk)
        if first is None or not first.terms.get("value"):
            continue
        original = Decimal(first.terms["value"])
        moved = abs(contract.value - original) / original * 100 if original else Decimal("0")
        if moved > percent:
            flags.append(
                Flag(
                    "amended",
                    _("Contract amended by more than %(limit)s%%") % {"limit": percent},
                    _("%(reference)s is worth %(value)s now against %(original)s as first signed (%(moved)s%%).")
                    % {
                        "reference": contract.reference,
                        "value": contract.value,
                        "original": original,
                        "moved": moved.quantize(Decimal("0.1")),
                    },
                    contract=contract,
                )
            )
    return flags


def late_milestones() -> list[Flag]:
    from contracts.models import Contract

    contracts = (
        Contract.objects.annotate(
            overdue=Count("milestones", filter=Q(milestones__overdue_since__isnull=False)),
            late=Count(
                "milestones",
                filter=Q(milestones__accepted_on__isnull=False, milestones__accepted_on__gt=F("milestones__due_date")),
            ),
        )
        .filter(Q(overdue__gt=0) | Q(late__gt=0))
        .select_related("tender")
        .order_by("-id")[:LIMIT]
    )
    return [
        Flag(
            "late_milestones",
            _("Late milestones"),
            _("%(reference)s has %(overdue)s overdue milestone(s) and %(late)s accepted late.")
            % {"reference": c.reference, "overdue": c.overdue, "late": c.late},
            contract=c,
        )
        for c in contracts
    ]


def repeated_pairs() -> list[Flag]:
    from procurement.models import Recommendation

    repeats = _setting("RED_FLAG_PAIR_REPEATS", 2)
    rows = (
        Recommendation.objects.filter(status="final")
        .values("tender__evaluation_members__user__email", "bid__vendor__legal_name_en")
        .annotate(times=Count("tender", distinct=True))
        .filter(times__gte=repeats, tender__evaluation_members__user__isnull=False)
        .order_by("-times")[:LIMIT]
    )
    return [
        Flag(
            "repeated_pair",
            _("The same committee member and winner again"),
            _("%(member)s sat on the evaluation committees of %(times)s tenders won by %(vendor)s.")
            % {
                "member": row["tender__evaluation_members__user__email"],
                "times": row["times"],
                "vendor": row["bid__vendor__legal_name_en"],
            },
        )
        for row in rows
    ]


KINDS = (
    single_bidder,
    short_bidding_period,
    abnormally_low_award,
    many_addenda,
    amended_contracts,
    late_milestones,
    repeated_pairs,
)


def red_flags() -> list[Flag]:
    flags: list[Flag] = []
    for kind in KINDS:
        flags.extend(kind())
    return flags
