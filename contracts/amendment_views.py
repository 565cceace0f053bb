"""The amendment pages: drafting a change order, the four-eyes decision, and the amendment as signed.

Views are thin: each loads the contract and the amendment, checks the permission ``accounts/rules.py``
grants, calls one service of ``contracts.amendments`` and turns its refusal into a message or a form error,
keeping what was typed. Signing goes through the contract's own signing page.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from contracts import amendments as services
from contracts import services as contract_services
from contracts.amendment_forms import AmendmentForm, KpiChangeForm, MilestoneChangeForm, ReturnForm
from contracts.models import AmendmentStatus, Contract, ContractAmendment, ContractStatus, ContractVersion, RenderStatus
from contracts.signing import UnreadablePdf, validation_report
from contracts.trust import trust_roots
from core.exceptions import ActionRefused
from core.views_support import require as _require
from core.views_support import run_service as _run_service

RENDER_REFRESH_SECONDS = 5


def _load(pk: int, number: int) -> tuple[Contract, ContractAmendment]:
    contract = get_object_or_404(Contract.objects.select_related("tender", "agency", "vendor"), pk=pk)
    amendment = get_object_or_404(
        ContractAmendment.objects.select_related("drafted_by", "approved_by"), contract=contract, number=number
    )
    amendment.contract = contract
    return contract, amendment


def _url(amendment: ContractAmendment, fragment: str = "") -> str:
    url = reverse("contracts:amendment_detail", args=[amendment.contract_id, amendment.number])
    return url + (f"#{fragment}" if fragment else "")


def _signed_report(version: ContractVersion | None):
    if version is None:
        return None, "", None
    last = version.signatures.order_by("-signed_at", "-id").first()
    if last is None:
        return None, "", None
    last.pdf.open("rb")
    try:
        content = last.pdf.read()
    finally:
        last.pdf.close()
    try:
        return validation_report(content, trust_roots()), "", last
    except UnreadablePdf as error:
        return None, str(error), last


def _page(request, contract: Contract, amendment: ContractAmendment, *, status: int = 200, **forms):
    user = request.user
    version = ContractVersion.objects.filter(amendment=amendment).prefetch_related("signatures__signer").first()
    report, report_problem, last_signature = _signed_report(version)
    is_draft = amendment.status == AmendmentStatus.DRAFT
    can_edit = is_draft and user.has_perm("contracts.amend_contract", contract)
    can_decide = (
        amendment.status == AmendmentStatus.PENDING_APPROVAL
        and user.has_perm("contracts.approve_amendment", contract)
        and user.pk != amendment.drafted_by_id
    )
    can_withdraw = amendment.status in (
        AmendmentStatus.DRAFT,
        AmendmentStatus.PENDING_APPROVAL,
        AmendmentStatus.AWAITING_SIGNATURES,
    ) and (
        user.has_perm("contracts.amend_contract", contract) or user.has_perm("contracts.approve_amendment", contract)
    )
    if version is not None and version.signatures.exists():
        can_withdraw = False
    context = {
        "contract": contract,
        "amendment": amendment,
        "version": version,
        "terms": services.resulting_terms(contract, amendment),
        "original_value": services.original_value(contract),
        "limit": services.max_percent(),
        "problems": services.amendment_problems(contract, amendment) if is_draft else [],
        "rendering": version is not None and version.status == RenderStatus.RENDERING,
        "refresh": RENDER_REFRESH_SECONDS,
        "report": report,
        "report_problem": report_problem,
        "last_signature": last_signature,
        "can_edit": can_edit,
        "can_decide": can_decide,
        "can_withdraw": can_withdraw,
        "can_sign": (
            amendment.status == AmendmentStatus.AWAITING_SIGNATURES
            and version is not None
            and getattr(contract_services.turn_to_sign(user, contract), "pk", None) == version.pk
        ),
        "drafter_sees_decision": amendment.status == AmendmentStatus.PENDING_APPROVAL
        and user.pk == amendment.drafted_by_id,
    }
    # A refused form that the page no longer offers (the amendment moved on meanwhile): its errors become
    # messages, so the refusal is still explained.
    hidden = [name for name in ("form", "milestone_form", "kpi_form") if not can_edit and forms.get(name)]
    hidden += ["return_form"] if not can_decide and forms.get("return_form") else []
    for name in hidden:
        for errors in forms[name].errors.values():
            for error in errors:
                messages.error(request, error)
    if can_edit:
        context["form"] = forms.get("form") or AmendmentForm(
            initial={
                "reason": amendment.reason,
                "new_value": amendment.new_value,
                "new_end_date": amendment.new_end_date,
            }
        )
        context["milestone_form"] = forms.get("milestone_form") or MilestoneChangeForm(
            contract=contract, prefix="milestone"
        )
        context["kpi_form"] = forms.get("kpi_form") or KpiChangeForm(contract=contract, prefix="kpi")
    if can_decide:
        context["return_form"] = forms.get("return_form") or ReturnForm(prefix="return")
    response = render(request, "contracts/amendment_detail.html", context, status=status)
    patch_cache_control(response, private=True, no_store=True)
    return response


def _one_button(request, call, success: str):
    try:
        call()
    except ActionRefused as refusal:
        messages.error(request, refusal.message)
        return False
    messages.success(request, success)
    return True


@login_required
def amendment_create(request, pk: int):
    contract = get_object_or_404(Contract.objects.select_related("tender", "agency", "vendor"), pk=pk)
    _require(request, "contracts.amend_contract", contract)
    if contract.status != ContractStatus.ACTIVE:
        messages.error(request, _("Only a contract in force can be amended."))
        return redirect(reverse("contracts:contract_detail", args=[contract.pk]))
    form = AmendmentForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            amendment = _run_service(
                form, lambda: services.amendment_create(actor=request.user, contract=contract, **form.cleaned_data)
            )
            if amendment is not None:
                messages.success(request, _("The amendment was drafted. Add its changes, then send it for approval."))
                return redirect(_url(amendment))
        status = 400
    response = render(
        request,
        "contracts/amendment_new.html",
        {
            "contract": contract,
            "form": form,
            "original_value": services.original_value(contract),
            "limit": services.max_percent(),
        },
        status=status,
    )
    patch_cache_control(response, private=True, no_store=True)
    return response


@login_required
def amendment_detail(request, pk: int, number: int):
    contract, amendment = _load(pk, number)
    _require(request, "contracts.view_contract", contract)
    return _page(request, contract, amendment)


@login_required
@require_POST
def amendment_edit(request, pk: int, number: int):
    contract, amendment = _load(pk, number)
    _require(request, "contracts.amend_contract", contract)
    form = AmendmentForm(request.POST)
    if form.is_valid() and _run_service(
        form, lambda: services.amendment_update(actor=request.user, amendment=amendment, **form.cleaned_data)
    ):
        messages.success(request, _("The amendment was saved."))
        return redirect(_url(amendment))
    amendment.refresh_from_db()
    amendment.contract = contract
    return _page(request, contract, amendment, status=400, form=form)


@login_required
@require_POST
def amendment_milestone(request, pk: int, number: int):
    contract, amendment = _load(pk, number)
    _require(request, "contracts.amend_contract", contract)
    form = MilestoneChangeForm(request.POST, contract=contract, prefix="milestone")
    if form.is_valid() and _run_service(
        form,
        lambda: services.amendment_change_milestone(actor=request.user, amendment=amendment, **form.service_data()),
    ):
        messages.success(request, _("The milestone change was added to the amendment."))
        return redirect(_url(amendment, "changes"))
    amendment.refresh_from_db()
    amendment.contract = contract
    return _page(request, contract, amendment, status=400, milestone_form=form)


@login_required
@require_POST
def amendment_kpi(request, pk: int, number: int):
    contract, amendment = _load(pk, number)
    _require(request, "contracts.amend_contract", contract)
    form = KpiChangeForm(request.POST, contract=contract, prefix="kpi")
    if form.is_valid() and _run_service(
        form, lambda: services.amendment_change_kpi(actor=request.user, amendment=amendment, **form.service_data())
    ):
        messages.success(request, _("The indicator change was added to the amendment."))
        return redirect(_url(amendment, "changes"))
    amendment.refresh_from_db()
    amendment.contract = contract
    return _page(request, contract, amendment, status=400, kpi_form=form)


@login_required
@require_POST
def amendment_remove_change(request, pk: int, number: int):
    contract, amendment = _load(pk, number)
    _require(request, "contracts.amend_contract", contract)
    kind = request.POST.get("kind", "")
    try:
        index = int(request.POST.get("index", ""))
    except ValueError:
        index = -1
    _one_button(
        request,
        lambda: services.amendment_remove_change(actor=request.user, amendment=amendment, kind=kind, index=index),
        _("The change was removed from the amendment."),
    )
    return redirect(_url(amendment, "changes"))


@login_required
@require_POST
def amendment_submit(request, pk: int, number: int):
    contract, amendment = _load(pk, number)
    _require(request, "contracts.amend_contract", contract)
    _one_button(
        request,
        lambda: services.amendment_submit(actor=request.user, amendment=amendment),
        _("The amendment was sent for approval."),
    )
    return redirect(_url(amendment))


@login_required
@require_POST
def amendment_approve(request, pk: int, number: int):
    contract, amendment = _load(pk, number)
    _require(request, "contracts.approve_amendment", contract)
    _one_button(
        request,
        lambda: services.amendment_approve(actor=request.user, amendment=amendment),
        _("The amendment is approved; its PDF is being prepared for both parties to sign."),
    )
    return redirect(_url(amendment))


@login_required
@require_POST
def amendment_return(request, pk: int, number: int):
    contract, amendment = _load(pk, number)
    _require(request, "contracts.approve_amendment", contract)
    form = ReturnForm(request.POST, prefix="return")
    if form.is_valid() and _run_service(
        form,
        lambda: services.amendment_return(actor=request.user, amendment=amendment, reason=form.cleaned_data["reason"]),
    ):
        messages.success(request, _("The amendment went back to its drafter with your reason."))
        return redirect(_url(amendment))
    amendment.refresh_from_db()
    amendment.contract = contract
    return _page(request, contract, amendment, status=400, return_form=form)


@login_required
@require_POST
def amendment_withdraw(request, pk: int, number: int):
    contract, amendment = _load(pk, number)
    if not (
        request.user.has_perm("contracts.amend_contract", contract)
        or request.user.has_perm("contracts.approve_amendment", contract)
    ):
        raise PermissionDenied
    _one_button(
        request,
        lambda: services.amendment_withdraw(actor=request.user, amendment=amendment),
        _("The amendment was withdrawn."),
    )
    return redirect(_url(amendment))


urlpatterns = [
    path("<int:pk>/amendments/new/", amendment_create, name="amendment_create"),
    path("<int:pk>/amendments/<int:number>/", amendment_detail, name="amendment_detail"),
    path("<int:pk>/amendments/<int:number>/edit/", amendment_edit, name="amendment_edit"),
    path("<int:pk>/amendments/<int:number>/milestones/", amendment_milestone, name="amendment_milestone"),
    path("<int:pk>/amendments/<int:number>/kpis/", amendment_kpi, name="amendment_kpi"),
    path("<int:pk>/amendments/<int:number>/remove/", amendment_remove_change, name="amendment_remove_change"),
    path("<int:pk>/amendments/<int:number>/submit/", amendment_submit, name="amendment_submit"),
    path("<int:pk>/amendments/<int:number>/approve/", amendment_approve, name="amendment_approve"),
    path("<int:pk>/amendments/<int:number>/return/", amendment_return, name="amendment_return"),
    path("<int:pk>/amendments/<int:number>/withdraw/", amendment_withdraw, name="amendment_withdraw"),
]
