"""The evaluation committee's pages, the award and complaints.

- Officers appoint the evaluation committee and start the evaluation (``evaluation_committee``).
- Each member works in the evaluation workspace: declarations first, then the bid's content and their own
  scores; the chair records compliance, consensus, the technical conclusion, price reviews and the
  recommendation. Nobody sees another member's scores before every member has submitted.
- An approver who did not sit on the committee approves or returns the recommendation (``award_detail``).
- Bidders read their own result and may complain during the standstill (``award_results``); someone
  outside the committee reviews and decides (``complaint_detail``).

Each view loads the tender, checks who may see it (403), binds a form, calls one service, turns a refusal
into a message or form errors, and redirects after a successful POST.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from contracts.performance import vendor_scores
from core.exceptions import ActionRefused
from core.i18n import is_arabic
from core.pagination import keyset_page
from core.views_support import require as _require
from core.views_support import run_service as _run_service
from procurement import evaluation_services as services
from procurement import scoring, tender_services
from procurement.bid_services import vendor_of
from procurement.evaluation_forms import (
    AwardReturnForm,
    ComplaintDecisionForm,
    ComplaintForm,
    ComplianceForm,
    ConsensusForm,
    DeclarationForm,
    EvaluationMemberForm,
    PriceReviewForm,
    RecommendForm,
    ScoreSheetForm,
)
from procurement.models import (
    Bid,
    BidEnvelope,
    BidOpening,
    Complaint,
    ComplianceDecision,
    ConflictDeclaration,
    EvaluationMember,
    PriceReview,
    Recommendation,
    TechnicalScore,
    Tender,
)
from procurement.models.bids import BidStatus, EnvelopeKind, EnvelopeState, OpeningStage, OpeningStatus
from procurement.models.evaluation import ComplaintStatus, RecommendationStatus
from procurement.models.tenders import ConsensusRule, TenderStatus

PAGE_SIZE = 25
#: Tender states in which the evaluation committee may still be appointed (the service has the last word).
COMMITTEE_STATES = frozenset({TenderStatus.CLOSED, TenderStatus.OPENED, TenderStatus.EVALUATION})
#: Tender states from which a recommendation exists to be read.
RECOMMENDED_STATES = frozenset(
    {TenderStatus.AWARD_PENDING, TenderStatus.STANDSTILL, TenderStatus.AWARDED, TenderStatus.CONTRACTED}
)
#: Results bidders are told: the approved recommendation (during the standstill) and the final award.
PUBLISHED_RECOMMENDATIONS = (RecommendationStatus.APPROVED, RecommendationStatus.FINAL)
#: What the codes of ``scoring.BidResult.reasons`` mean, for people.
REASON_LABELS = {
    scoring.NOT_RESPONSIVE: gettext_lazy("not responsive"),
    scoring.BELOW_PASS_MARK: gettext_lazy("below the technical pass mark"),
    scoring.PRICE_SEALED: gettext_lazy("financial envelope not opened"),
    scoring.PRICE_REJECTED: gettext_lazy("abnormally low price rejected"),
    scoring.OVER_BUDGET: gettext_lazy("over the budget"),
    scoring.ABNORMALLY_LOW: gettext_lazy("abnormally low price"),
    scoring.TIE_BROKEN: gettext_lazy("tie broken by the published rule"),
}
STEPS = (
    ("declarations", gettext_lazy("Declarations")),
    ("compliance", gettext_lazy("Compliance")),
    ("scores", gettext_lazy("Scores")),
    ("consensus", gettext_lazy("Consensus")),
    ("technical", gettext_lazy("Technical conclusion")),
    ("financial", gettext_lazy("Financial opening")),
    ("recommendation", gettext_lazy("Recommendation")),
    ("approval", gettext_lazy("Approval")),
    ("standstill", gettext_lazy("Standstill")),
    ("award", gettext_lazy("Award")),
)
STEP_STATES = {
    "completed": gettext_lazy("done"),
    "in_progress": gettext_lazy("now"),
    "upcoming": gettext_lazy("to come"),
}


def _tender(pk: int) -> Tender:
    return get_object_or_404(Tender.objects.select_related("agency", "phase__programme"), pk=pk)


def _bid(tender: Tender, bid_pk: int) -> Bid:
    return get_object_or_404(Bid.objects.select_related("vendor", "tender"), pk=bid_pk, tender=tender)


def _member_or_403(request, tender: Tender) -> EvaluationMember:
    member = services.member_of(request.user, tender)
    if member is None or not request.user.has_perm("procurement.evaluate", tender):
        raise PermissionDenied
    return member


def _private(response):
    """Evaluation pages show what must not sit in a shared cache."""
    patch_cache_control(response, private=True, no_store=True)
    return response


def _page(request, template: str, context: dict, *, status: int = 200):
    tender = context["tender"]
    if request.user.has_perm("procurement.view_tender_internals", tender):
        context = {**context, "tender_url": tender.get_absolute_url()}
    return _private(render(request, template, context, status=status))


def _refused(request, error: ActionRefused | ValidationError) -> None:
    messages.error(request, error.message if isinstance(error, ActionRefused) else " ".join(error.messages))


def _workspace_url(tender: Tender, fragment: str = "") -> str:
    url = reverse("procurement:evaluation_workspace", args=[tender.pk])
    return f"{url}#{fragment}" if fragment else url


def _financial_opened(tender: Tender) -> bool:
    return BidOpening.objects.filter(
        tender=tender,
        status=OpeningStatus.COMPLETED,
        stage__in=[OpeningStage.FINANCIAL, OpeningStage.BOTH],
    ).exists()


def _opened_prices(bids: list[Bid]) -> dict[int, dict]:
    """Each bid's opened financial envelope (its current version): ``{bid_id: {"price", "currency"}}``."""
    versions = {bid.pk: bid.version for bid in bids}
    envelopes = BidEnvelope.objects.filter(
        bid_id__in=versions, kind=EnvelopeKind.FINANCIAL, state=EnvelopeState.OPENED
    ).select_related("version")
    prices = {}
    for envelope in envelopes:
        if envelope.version.number != versions[envelope.bid_id] or not isinstance(envelope.content, dict):
            continue
        prices[envelope.bid_id] = {
            "price": _decimal(envelope.content.get("total_price")),
            "currency": envelope.content.get("currency", ""),
        }
    return prices


def _decimal(value) -> Decimal | None:
    """A number stored as text (an opened envelope, a snapshot), or None when it is not one."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        return None
    return number if number.is_finite() else None


def _latest_recommendation(tender: Tender, *statuses: str) -> Recommendation | None:
    recommendations = Recommendation.objects.filter(tender=tender).select_related(
        "bid__vendor", "recommended_by", "decided_by"
    )
    if statuses:
        recommendations = recommendations.filter(status__in=statuses)
    return recommendations.order_by("-id").first()


def evaluation_progress(
    tender: Tender, *, bids: list[Bid] | None = None, financial_opened: bool | None = None
) -> list[dict]:
    """The steps of the evaluation, each done, current or to come, for the progress strip."""
    bids = list(services.evaluated_bids(tender)) if bids is None else bids
    financial_opened = _financial_opened(tender) if financial_opened is None else financial_opened
    status = tender.status
    seats = EvaluationMember.objects.filter(tender=tender).count()
    declared = ConflictDeclaration.objects.filter(member__tender=tender, bid__in=bids).count()
    decided = ComplianceDecision.objects.filter(bid__in=bids).count()
    submitted = EvaluationMember.objects.filter(tender=tender, scores_submitted_at__isnull=False).count()
    recommended = status in RECOMMENDED_STATES
    concluded = recommended or (bool(bids) and all(bid.status != BidStatus.OPENED for bid in bids))
    standstill_over = status in (TenderStatus.AWARDED, TenderStatus.CONTRACTED)
    done = {
        "declarations": concluded or (bool(bids) and seats > 0 and declared >= seats * len(bids)),
        "compliance": concluded or (bool(bids) and decided >= len(bids)),
        "scores": concluded or (seats > 0 and submitted == seats),
        "consensus": concluded,
        "technical": concluded,
        "financial": recommended or financial_opened,
        "recommendation": recommended,
        "approval": status in (TenderStatus.STANDSTILL, TenderStatus.AWARDED, TenderStatus.CONTRACTED),
        "standstill": standstill_over,
        "award": standstill_over,
    }
    steps, current_found = [], False
    for key, label in STEPS:
        if done[key]:
            state = "completed"
        elif not current_found:
            state, current_found = "in_progress", True
        else:
            state = "upcoming"
        steps.append({"key": key, "label": label, "state": state, "state_label": STEP_STATES[state]})
    return steps


def _result_rows(results: list[scoring.BidResult], bids: dict[int, Bid], prices: dict, reviews: dict) -> list[dict]:
    ranked = sorted(results, key=lambda r: (r.rank is None, r.rank or 0, r.bid_id))
    return [
        {
            "result": result,
            "bid": bids.get(result.bid_id),
            "price": prices.get(result.bid_id),
            "review": reviews.get(result.bid_id),
            "reasons": [REASON_LABELS.get(code, code) for code in result.reasons],
        }
        for result in ranked
    ]


def _snapshot_rows(recommendation: Recommendation) -> list[dict]:
    arabic = is_arabic()
    rows = []
    for entry in recommendation.evaluation.get("results", []):
        if not isinstance(entry, dict):
            continue
        rows.append(
            {
                **entry,
                "price": _decimal(entry.get("price")) if entry.get("price") is not None else None,
                "name": (entry.get("bidder_ar") if arabic else None) or entry.get("bidder", ""),
                "reason_labels": [REASON_LABELS.get(code, code) for code in entry.get("reasons", [])],
                "winner": entry.get("bid_id") == recommendation.bid_id,
            }
        )
    rows.sort(key=lambda row: (row.get("rank") is None, row.get("rank") or 0, row.get("bid_id") or 0))
    return rows


# The committee ------------------------------------------------------------------------------------


def _committee_page(request, tender: Tender, *, form=None):
    can_manage = tender.status in COMMITTEE_STATES and request.user.has_perm(
        "procurement.manage_evaluation_committee", tender
    )
    seats = list(
        EvaluationMember.objects.filter(tender=tender)
        .select_related("user", "appointed_by")
        .annotate(declared=Count("declarations"))
    )
    if can_manage and form is None:
        form = EvaluationMemberForm(tender=tender)
    context = {
        "tender": tender,
        "seats": seats,
        "form": form if can_manage else None,
        "can_manage": can_manage,
        "can_start": tender.status == TenderStatus.OPENED
        and request.user.has_perm("procurement.manage_evaluation_committee", tender),
        "problems": services.committee_problems(tender),
        "progress": evaluation_progress(tender),
    }
    return _page(request, "procurement/evaluation/committee.html", context)


@login_required
def evaluation_committee(request, pk: int):
    tender = _tender(pk)
    _require(request, "procurement.view_tender_internals", tender)
    if request.method != "POST":
        return _committee_page(request, tender)
    _require(request, "procurement.manage_evaluation_committee", tender)
    form = EvaluationMemberForm(request.POST, tender=tender)
    if form.is_valid():
        member = _run_service(
            form,
            lambda: services.evaluation_member_add(
                actor=request.user,
                tender=tender,
                user=form.cleaned_data["user"],
                is_chair=form.cleaned_data["is_chair"],
                is_external=form.cleaned_data["is_external"],
            ),
        )
        if member:
            messages.success(
                request, _("%(name)s was appointed to the evaluation committee.") % {"name": member.user.full_name}
            )
            return redirect("procurement:evaluation_committee", tender.pk)
    return _committee_page(request, tender, form=form)


@login_required
@require_POST
def evaluation_member_remove(request, pk: int, member_pk: int):
    tender = _tender(pk)
    _require(request, "procurement.manage_evaluation_committee", tender)
    member = get_object_or_404(EvaluationMember.objects.select_related("user"), pk=member_pk, tender=tender)
    try:
        services.evaluation_member_remove(actor=request.user, tender=tender, member=member)
    except ActionRefused as refused:
        _refused(request, refused)
    else:
        messages.success(
            request, _("%(name)s was removed from the evaluation committee.") % {"name": member.user.full_name}
        )
    return redirect("procurement:evaluation_committee", tender.pk)


@login_required
@require_POST
def evaluation_start(request, pk: int):
    tender = _tender(pk)
    _require(request, "procurement.manage_evaluation_committee", tender)
    try:
        services.evaluation_start(actor=request.user, tender=tender)
    except ActionRefused as refused:
        _refused(request, refused)
    else:
        messages.success(request, _("The evaluation has started; the members were told."))
    return redirect("procurement:evaluation_committee", tender.pk)


# The workspace ------------------------------------------------------------------------------------


def _workspace(request, tender: Tender, member: EvaluationMember, *, forms: dict | None = None):
    """The member's evaluation page. ``forms`` holds refused forms to show again, by their prefix."""
    forms = forms or {}
    user = request.user
    is_chair = member.is_chair
    in_evaluation = tender.status == TenderStatus.EVALUATION
    bids = list(services.evaluated_bids(tender))
    criteria = list(tender.criteria.order_by("order", "pk"))
    declarations = {d.bid_id: d for d in ConflictDeclaration.objects.filter(member=member)}
    compliance = {c.bid_id: c for c in ComplianceDecision.objects.filter(bid__in=bids)}
    scored = Counter(TechnicalScore.objects.filter(member=member).values_list("bid_id", flat=True))
    submitted = member.scores_submitted_at is not None
    financial_opened = _financial_opened(tender)
    prices = _opened_prices(bids) if financial_opened else {}

    shown = set()

    def form_for(prefix: str, form_class, initial=None):
        shown.add(prefix)
        return forms.get(prefix) or form_class(prefix=prefix, initial=initial)

    rows = []
    for bid in bids:
        declaration = declarations.get(bid.pk)
        seen = declaration is not None and not declaration.has_conflict
        decision = compliance.get(bid.pk)
        under_way = in_evaluation and bid.status == BidStatus.OPENED
        rows.append(
            {
                "bid": bid,
                "declaration": declaration,
                "seen": seen,
                "recused": declaration is not None and declaration.has_conflict,
                "compliance": decision,
                "scored": scored.get(bid.pk, 0),
                "declaration_form": form_for(f"declare-{bid.pk}", DeclarationForm)
                if in_evaluation and declaration is None
                else None,
                "compliance_form": form_for(
                    f"compliance-{bid.pk}",
                    ComplianceForm,
                    {"responsive": "yes" if decision.responsive else "no", "reason": decision.reason}
                    if decision
                    else None,
                )
                if is_chair and seen and under_way
                else None,
                "can_score": seen and under_way and not submitted and decision is not None and decision.responsive,
                "technical_url": reverse("procurement:opened_envelope", args=[tender.pk, bid.pk, "technical"])
                if seen
                else None,
                "financial_url": reverse("procurement:opened_envelope", args=[tender.pk, bid.pk, "financial"])
                if seen and bid.pk in prices
                else None,
            }
        )
    recused_ids = {bid_id for bid_id, d in declarations.items() if d.has_conflict}

    matrix = None
    consensus_forms = []
    all_in = services.all_scores_in(tender)
    if all_in and services.may_see_scores(user, tender):
        matrix = services.score_matrix(tender)
        matrix["rows"] = [row for row in matrix["rows"] if row["bid"].pk not in recused_ids]
        for row in matrix["rows"]:
            for cell in row["cells"]:
                needs = cell["over_spread"] or tender.consensus_rule == ConsensusRule.CHAIR_CONSENSUS
                cell["needs_consensus"] = needs and cell["consensus"] is None
                if is_chair and in_evaluation and row["bid"].status == BidStatus.OPENED and needs:
                    prefix = f"consensus-{row['bid'].pk}-{cell['criterion'].pk}"
                    consensus_forms.append(
                        {"bid": row["bid"], "cell": cell, "prefix": prefix, "form": form_for(prefix, ConsensusForm)}
                    )

    concluded = bool(bids) and all(bid.status != BidStatus.OPENED for bid in bids)
    results = []
    if is_chair and concluded and financial_opened and tender.status == TenderStatus.EVALUATION:
        reviews = {r.bid_id: r for r in PriceReview.objects.filter(bid__in=bids)}
        results = _result_rows(services.evaluation_results(tender), {b.pk: b for b in bids}, prices, reviews)
        for row in results:
            if row["result"].abnormally_low and row["bid"] is not None and row["bid"].pk not in recused_ids:
                row["review_form"] = form_for(f"price-{row['bid'].pk}", PriceReviewForm)

    qualified = [bid for bid in bids if bid.status == BidStatus.QUALIFIED]
    too_few = services.minimum_bids_problem(tender) if is_chair and results else None
    recommend_form = form_for("recommend", RecommendForm) if is_chair and results and not too_few else None
    for prefix, form in forms.items():  # a refused form the page no longer offers: say why, as a message
        if prefix not in shown:
            for error in form.non_field_errors():
                messages.error(request, error)
    context = {
        "tender": tender,
        "member": member,
        "is_chair": is_chair,
        "in_evaluation": in_evaluation,
        "criteria": criteria,
        "rows": rows,
        "submitted": submitted,
        "sheet_problems": services.sheet_problems(member) if in_evaluation and not submitted else [],
        "all_in": all_in,
        "seats": services.members(tender) if is_chair else [],
        "matrix": matrix,
        "consensus_forms": consensus_forms,
        "spread_limit": matrix["spread_limit"] if matrix else None,
        "can_conclude": is_chair and in_evaluation and bool(bids) and not concluded and all_in,
        "concluded": concluded,
        "qualified": qualified,
        "financial_opened": financial_opened,
        "awaiting_financial": in_evaluation and concluded and bool(qualified) and not financial_opened,
        "ceremony_url": reverse("procurement:opening_ceremony", args=[tender.pk])
        if user.has_perm("procurement.open_bids", tender)
        else None,
        "results": results,
        "recommend_form": recommend_form,
        "too_few": too_few,
        "recommendation": _latest_recommendation(tender),
        "progress": evaluation_progress(tender, bids=bids, financial_opened=financial_opened),
        "tie_break": scoring.TIE_BREAK,
    }
    # How each bidder performed on its earlier contracts (monitoring), for the committee's information.
    track_records = vendor_scores({bid.vendor_id for bid in bids}, today=timezone.localdate())
    for row in rows:
        row["track_record"] = track_records.get(row["bid"].vendor_id)
    return _page(request, "procurement/evaluation/workspace.html", context)


@login_required
def evaluation_workspace(request, pk: int):
    tender = _tender(pk)
    member = _member_or_403(request, tender)
    return _workspace(request, tender, member)


def _workspace_form(request, pk: int, bid_pk: int | None, prefix_of, form_class, call, success: str, *, anchor=""):
    """POST of one form on the workspace: on success a message and back; on refusal the page again."""
    tender = _tender(pk)
    member = _member_or_403(request, tender)
    bid = _bid(tender, bid_pk) if bid_pk is not None else None
    prefix = prefix_of(bid)
    form = form_class(request.POST, prefix=prefix)
    if form.is_valid() and _run_service(form, lambda: call(tender, bid, form.cleaned_data)) is not None:
        messages.success(request, success % {"bidder": bid.vendor} if bid is not None else success)
        return redirect(_workspace_url(tender, anchor or (f"bid-{bid.pk}" if bid else "")))
    return _workspace(request, tender, member, forms={prefix: form})


@login_required
@require_POST
def evaluation_declare(request, pk: int, bid_pk: int):
    return _workspace_form(
        request,
        pk,
        bid_pk,
        lambda bid: f"declare-{bid.pk}",
        DeclarationForm,
        lambda tender, bid, data: services.declaration_make(
            actor=request.user, bid=bid, has_conflict=data["has_conflict"], statement=data["statement"]
        ),
        _("Your declaration for %(bidder)s is recorded."),
    )


@login_required
@require_POST
def evaluation_compliance(request, pk: int, bid_pk: int):
    return _workspace_form(
        request,
        pk,
        bid_pk,
        lambda bid: f"compliance-{bid.pk}",
        ComplianceForm,
        lambda tender, bid, data: services.compliance_decide(
            actor=request.user, bid=bid, responsive=data["responsive"], reason=data["reason"]
        ),
        _("The compliance of %(bidder)s is recorded."),
    )


@login_required
@require_POST
def evaluation_consensus(request, pk: int, bid_pk: int, criterion_pk: int):
    tender = _tender(pk)
    criterion = get_object_or_404(tender.criteria.all(), pk=criterion_pk)
    return _workspace_form(
        request,
        pk,
        bid_pk,
        lambda bid: f"consensus-{bid.pk}-{criterion.pk}",
        ConsensusForm,
        lambda tender, bid, data: services.consensus_record(
            actor=request.user, bid=bid, criterion=criterion, score=data["score"], reason=data["reason"]
        ),
        _("The consensus score for %(bidder)s is recorded."),
        anchor="matrix",
    )


@login_required
@require_POST
def evaluation_price_review(request, pk: int, bid_pk: int):
    return _workspace_form(
        request,
        pk,
        bid_pk,
        lambda bid: f"price-{bid.pk}",
        PriceReviewForm,
        lambda tender, bid, data: services.price_review(
            actor=request.user, bid=bid, decision=data["decision"], reason=data["reason"]
        ),
        _("The review of the price of %(bidder)s is recorded."),
        anchor="ranking",
    )


@login_required
@require_POST
def evaluation_recommend(request, pk: int):
    tender = _tender(pk)
    member = _member_or_403(request, tender)
    form = RecommendForm(request.POST, prefix="recommend")
    if form.is_valid():
        recommendation = _run_service(
            form, lambda: services.recommend(actor=request.user, tender=tender, reasons=form.cleaned_data["reasons"])
        )
        if recommendation:
            messages.success(
                request,
                _("%(bidder)s is recommended; an approver who did not sit on the committee decides on the award.")
                % {"bidder": recommendation.bid.vendor},
            )
            return redirect(_workspace_url(tender))
    return _workspace(request, tender, member, forms={"recommend": form})


def _workspace_action(request, pk: int, call, success: str):
    tender = _tender(pk)
    _member_or_403(request, tender)
    try:
        call(tender)
    except (ActionRefused, ValidationError) as refused:
        _refused(request, refused)
    else:
        messages.success(request, success)
    return redirect(_workspace_url(tender))


@login_required
@require_POST
def evaluation_submit(request, pk: int):
    return _workspace_action(
        request,
        pk,
        lambda tender: services.scores_submit(actor=request.user, tender=tender),
        _("Your scores are submitted; they can no longer change."),
    )


@login_required
@require_POST
def evaluation_conclude(request, pk: int):
    return _workspace_action(
        request,
        pk,
        lambda tender: services.technical_conclude(actor=request.user, tender=tender),
        _("The technical evaluation is concluded; the bidders were told whether they qualified."),
    )


# One member's score sheet for one bid ------------------------------------------------------------


def _save_sheet(actor, bid: Bid, form: ScoreSheetForm) -> bool:
    """Every filled row, or none: a refusal of one row leaves nothing half-saved."""
    with transaction.atomic():
        for criterion, score, justification in form.filled_rows():
            try:
                services.score_save(actor=actor, bid=bid, criterion=criterion, score=score, justification=justification)
            except ValidationError as error:
                if not hasattr(error, "error_dict"):
                    raise
                raise ValidationError(
                    {
                        f"{'justification' if field == 'justification' else 'score'}_{criterion.pk}": messages_
                        for field, messages_ in error.message_dict.items()
                    }
                ) from error
    return True


@login_required
def evaluation_scores(request, pk: int, bid_pk: int):
    tender = _tender(pk)
    member = _member_or_403(request, tender)
    bid = _bid(tender, bid_pk)
    if not services.may_see_bid(request.user, bid):
        raise PermissionDenied
    criteria = list(tender.criteria.order_by("order", "pk"))
    mine = {s.criterion_id: s for s in TechnicalScore.objects.filter(member=member, bid=bid)}
    decision = ComplianceDecision.objects.filter(bid=bid).first()
    editable = (
        tender.status == TenderStatus.EVALUATION
        and member.scores_submitted_at is None
        and bid.status == BidStatus.OPENED
        and decision is not None
        and decision.responsive
    )
    form = None
    if editable:
        form = ScoreSheetForm(request.POST or None, criteria=criteria, scores=mine)
        saved = (
            request.method == "POST"
            and form.is_valid()
            and _run_service(form, lambda: _save_sheet(request.user, bid, form))
        )
        if saved:
            messages.success(request, _("Your scores for %(bidder)s are saved.") % {"bidder": bid.vendor})
            return redirect(_workspace_url(tender, f"bid-{bid.pk}"))
    elif request.method == "POST":
        messages.error(request, _("Your scores for this bid can no longer change."))
        return redirect(_workspace_url(tender, f"bid-{bid.pk}"))
    context = {
        "tender": tender,
        "bid": bid,
        "form": form,
        "mine": [{"criterion": c, "score": mine.get(c.pk)} for c in criteria],
        "compliance": decision,
        "technical_url": reverse("procurement:opened_envelope", args=[tender.pk, bid.pk, "technical"]),
    }
    return _page(request, "procurement/evaluation/scores.html", context)


# The award ----------------------------------------------------------------------------------------


def _award_page(request, tender: Tender, *, return_form=None):
    recommendation = _latest_recommendation(tender)
    pending = recommendation is not None and recommendation.status == RecommendationStatus.PENDING
    may_decide = pending and request.user.has_perm("procurement.approve_award", tender)
    context = {
        "tender": tender,
        "recommendation": recommendation,
        "rows": _snapshot_rows(recommendation) if recommendation else [],
        "may_decide": may_decide,
        "sat_on_committee": pending and services.member_of(request.user, tender) is not None,
        "return_form": (return_form or AwardReturnForm()) if may_decide else None,
        "tie_break": recommendation.evaluation.get("tie_break", "") if recommendation else "",
        "progress": evaluation_progress(tender),
        "complaints_url": reverse("procurement:complaint_list", args=[tender.pk])
        if request.user.has_perm("procurement.view_tender_internals", tender)
        else None,
    }
    return _page(request, "procurement/evaluation/award.html", context)


@login_required
def award_detail(request, pk: int):
    tender = _tender(pk)
    _require(request, "procurement.view_evaluation", tender)
    return _award_page(request, tender)


@login_required
@require_POST
def award_approve(request, pk: int):
    tender = _tender(pk)
    _require(request, "procurement.view_evaluation", tender)
    try:
        recommendation = services.award_approve(actor=request.user, tender=tender)
    except ActionRefused as refused:
        _refused(request, refused)
    else:
        messages.success(
            request,
            _("The award is approved. The standstill ends %(when)s; every bidder was told the result.")
            % {"when": recommendation.standstill_ends_at.strftime("%Y-%m-%d %H:%M")},
        )
    return redirect("procurement:award_detail", tender.pk)


@login_required
@require_POST
def award_return(request, pk: int):
    tender = _tender(pk)
    _require(request, "procurement.view_evaluation", tender)
    form = AwardReturnForm(request.POST)
    if form.is_valid():
        returned = _run_service(
            form,
            lambda: services.award_return(actor=request.user, tender=tender, comments=form.cleaned_data["comments"]),
        )
        if returned:
            messages.success(request, _("The recommendation was returned to the committee with your comments."))
            return redirect("procurement:award_detail", tender.pk)
        if form.non_field_errors():  # a refusal (four eyes, a decision already taken): said as a message
            for error in form.non_field_errors():
                messages.error(request, error)
            return redirect("procurement:award_detail", tender.pk)
    return _award_page(request, tender, return_form=form)


# Results for bidders and complaints ----------------------------------------------------------------


def _bidder_bid(request, tender: Tender) -> Bid:
    """The signed-in vendor's bid on the tender (the last one submitted); 403 for everyone else."""
    if not request.user.has_perm("procurement.file_complaint"):
        raise PermissionDenied
    vendor = vendor_of(request.user)
    bid = (
        Bid.objects.filter(tender=tender, vendor=vendor)
        .exclude(status=BidStatus.DRAFT)
        .select_related("vendor")
        .order_by("-id")
        .first()
        if vendor is not None
        else None
    )
    if bid is None:
        raise PermissionDenied
    return bid


def _results_page(request, tender: Tender, bid: Bid, *, complaint_form=None):
    recommendation = _latest_recommendation(tender, *PUBLISHED_RECOMMENDATIONS)
    overturned = _latest_recommendation(tender)
    own = None
    if recommendation is not None:
        own = next((row for row in _snapshot_rows(recommendation) if row.get("bid_id") == bid.pk), None)
    now = tender_services._now()
    may_complain = (
        recommendation is not None
        and recommendation.status == RecommendationStatus.APPROVED
        and tender.status == TenderStatus.STANDSTILL
        and recommendation.standstill_ends_at is not None
        and now < recommendation.standstill_ends_at
    )
    context = {
        "tender": tender,
        "bid": bid,
        "recommendation": recommendation,
        "overturned": overturned is not None and overturned.status == RecommendationStatus.OVERTURNED,
        "own": own,
        "won": recommendation is not None and recommendation.bid_id == bid.pk,
        "compliance": ComplianceDecision.objects.filter(bid=bid).first(),
        "price_review": PriceReview.objects.filter(bid=bid).first(),
        "complaints": list(Complaint.objects.filter(tender=tender, bid__vendor_id=bid.vendor_id).order_by("-id")),
        # A refused complaint is shown again with its reason, even once the standstill is over.
        "complaint_form": complaint_form or (ComplaintForm() if may_complain else None),
    }
    return _page(request, "procurement/evaluation/results.html", context)


@login_required
def award_results(request, pk: int):
    tender = _tender(pk)
    bid = _bidder_bid(request, tender)
    return _results_page(request, tender, bid)


@login_required
@require_POST
def complaint_file(request, pk: int):
    tender = _tender(pk)
    bid = _bidder_bid(request, tender)
    form = ComplaintForm(request.POST)
    if form.is_valid():
        complaint = _run_service(
            form,
            lambda: services.complaint_file(actor=request.user, tender=tender, grounds=form.cleaned_data["grounds"]),
        )
        if complaint:
            messages.success(request, _("Your complaint is filed; the award cannot become final until it is decided."))
            return redirect("procurement:award_results", tender.pk)
    return _results_page(request, tender, bid, complaint_form=form)


@login_required
def complaint_list(request, pk: int):
    tender = _tender(pk)
    _require(request, "procurement.view_tender_internals", tender)
    complaints = Complaint.objects.filter(tender=tender).select_related("bid__vendor", "filed_by", "reviewer")
    page = keyset_page(
        complaints,
        key="id",
        descending=True,
        after=request.GET.get("after"),
        before=request.GET.get("before"),
        size=PAGE_SIZE,
        to_python=int,
    )
    return _page(request, "procurement/evaluation/complaint_list.html", {"tender": tender, "page": page})


def _complaint(tender: Tender, complaint_pk: int) -> Complaint:
    return get_object_or_404(
        Complaint.objects.select_related("bid__vendor", "filed_by", "reviewer", "recommendation__bid__vendor"),
        pk=complaint_pk,
        tender=tender,
    )


def _complaint_page(request, tender: Tender, complaint: Complaint, *, decision_form=None):
    user = request.user
    may_decide = user.has_perm("procurement.decide_complaint", tender)
    under_review = complaint.status == ComplaintStatus.UNDER_REVIEW
    context = {
        "tender": tender,
        "complaint": complaint,
        "may_start_review": may_decide and complaint.status == ComplaintStatus.SUBMITTED,
        "decision_form": (decision_form or ComplaintDecisionForm())
        if may_decide and under_review and complaint.reviewer_id == user.pk
        else None,
    }
    return _page(request, "procurement/evaluation/complaint_detail.html", context)


@login_required
def complaint_detail(request, pk: int, complaint_pk: int):
    tender = _tender(pk)
    _require(request, "procurement.view_tender_internals", tender)
    return _complaint_page(request, tender, _complaint(tender, complaint_pk))


@login_required
@require_POST
def complaint_review_start(request, pk: int, complaint_pk: int):
    tender = _tender(pk)
    _require(request, "procurement.view_tender_internals", tender)
    complaint = _complaint(tender, complaint_pk)
    try:
        services.complaint_review_start(actor=request.user, complaint=complaint)
    except ActionRefused as refused:
        _refused(request, refused)
    else:
        messages.success(request, _("You are reviewing this complaint."))
    return redirect("procurement:complaint_detail", tender.pk, complaint.pk)


@login_required
@require_POST
def complaint_decide(request, pk: int, complaint_pk: int):
    tender = _tender(pk)
    _require(request, "procurement.view_tender_internals", tender)
    complaint = _complaint(tender, complaint_pk)
    form = ComplaintDecisionForm(request.POST)
    if form.is_valid():
        decided = _run_service(
            form,
            lambda: services.complaint_decide(
                actor=request.user,
                complaint=complaint,
                upheld=form.cleaned_data["upheld"],
                decision=form.cleaned_data["decision"],
            ),
        )
        if decided:
            if decided.status == ComplaintStatus.UPHELD:
                messages.success(request, _("The complaint is upheld; the tender returns to evaluation."))
            else:
                messages.success(request, _("The complaint is dismissed; the complainant was told."))
            return redirect("procurement:complaint_detail", tender.pk, complaint.pk)
        if form.non_field_errors():  # a refusal (four eyes, not the reviewer, already decided): said as a message
            for error in form.non_field_errors():
                messages.error(request, error)
            return redirect("procurement:complaint_detail", tender.pk, complaint.pk)
    return _complaint_page(request, tender, complaint, decision_form=form)
