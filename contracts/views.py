"""The contract pages: the contract itself (terms, versions, signatures and their verification), the
officers' draft actions, signing, the approvers' completion and termination, and the public verifier.

Views are thin: each loads the contract, checks the permission ``accounts/rules.py`` grants, calls one
service and turns its refusal into a message, keeping what was typed.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_fsm import can_proceed

from contracts import pki, services
from contracts.forms import (
    ContractDraftForm,
    KpiForm,
    MilestoneForm,
    SignerKeyForm,
    SignForm,
    TerminateForm,
    VerifyForm,
)
from contracts.models import (
    RISK_CATEGORIES,
    Contract,
    ContractSignature,
    ContractStatus,
    ContractVersion,
    RenderStatus,
    RiskBearer,
    SignerKey,
)
from contracts.signing import UnreadablePdf, validation_report
from contracts.trust import trust_roots
from core.exceptions import ActionRefused
from core.views_support import require as _require
from core.views_support import run_service as _run_service
from procurement.models import Tender

#: Seconds between reloads of a contract page whose PDF is being rendered.
RENDER_REFRESH_SECONDS = 5


def _contract(pk: int) -> Contract:
    return get_object_or_404(
        Contract.objects.select_related("tender", "agency", "vendor", "phase", "created_by"), pk=pk
    )


def _url(contract: Contract, fragment: str = "") -> str:
    return reverse("contracts:contract_detail", args=[contract.pk]) + (f"#{fragment}" if fragment else "")


def _report(pdf: bytes | None):
    """The verification report of ``pdf``, or ``(None, message)`` when it cannot be read."""
    if pdf is None:
        return None, ""
    try:
        return validation_report(pdf, trust_roots()), ""
    except UnreadablePdf as error:
        return None, str(error)


def _refused(request, call, success: str | None = None):
    """Run a service whose refusal is shown as a message (for the one-button actions)."""
    try:
        result = call()
    except ActionRefused as refusal:
        messages.error(request, refusal.message)
        return None
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return None
    if success:
        messages.success(request, success)
    return result


def _amendment_to_sign(user, contract: Contract):
    """The approved amendment the user may sign now, if any."""
    if contract.status != ContractStatus.ACTIVE:
        return None
    version = services.turn_to_sign(user, contract)
    return version.amendment if version is not None else None


def _detail_context(request, contract: Contract, **forms) -> dict:
    user = request.user
    versions = list(contract.versions.select_related("frozen_by", "amendment").prefetch_related("signatures__signer"))
    # The contract's own text (amendments have their own pages and verification).
    own = [v for v in versions if v.amendment_id is None]
    latest = own[-1] if own else None
    rendering = any(v.status == RenderStatus.RENDERING for v in versions)
    report, report_problem = (None, "")
    if latest is not None and latest.signatures.exists():
        report, report_problem = _report(services.signed_pdf(contract))
    is_draft = contract.status == ContractStatus.DRAFT
    can_change = is_draft and user.has_perm("contracts.change_contract", contract)
    can_sign = (
        contract.status == ContractStatus.AWAITING_SIGNATURES and services.turn_to_sign(user, contract) is not None
    )
    may_complete = can_proceed(contract.complete) and user.has_perm("contracts.complete_contract", contract)
    completion_problem = services.completion_problem(contract) if may_complete else ""
    can_terminate = can_proceed(contract.terminate) and user.has_perm("contracts.terminate_contract", contract)
    allocation = contract.risk_allocation or {}
    risks = [
        {"title_en": titles[0], "title_ar": titles[1], "bearer": RiskBearer(allocation[code]).label}
        for code, titles in RISK_CATEGORIES.items()
        if allocation.get(code) in RiskBearer.values
    ]
    context = {
        "contract": contract,
        "versions": versions,
        "latest": latest,
        "rendering": rendering,
        "refresh": RENDER_REFRESH_SECONDS,
        "kpis": contract.kpis.order_by("order", "id"),
        "milestones": contract.milestones.order_by("order", "due_date", "id"),
        "documents": contract.documents.order_by("order", "id"),
        "risks": risks,
        "report": report,
        "report_problem": report_problem,
        "can_change": can_change,
        "can_freeze": is_draft and user.has_perm("contracts.freeze_contract", contract),
        "can_sign": can_sign,
        "readiness": services.readiness_errors(contract) if can_change else [],
        "can_complete": may_complete and not completion_problem,
        "completion_problem": completion_problem,
        "can_terminate": can_terminate,
        "amendments": list(contract.amendments.order_by("number")),
        "can_amend": contract.status == ContractStatus.ACTIVE and user.has_perm("contracts.amend_contract", contract),
        "amendment_to_sign": _amendment_to_sign(user, contract),
    }
    if can_change:
        context["draft_form"] = forms.get("draft_form") or ContractDraftForm(instance=contract)
        context["kpi_form"] = forms.get("kpi_form") or KpiForm(prefix="kpi")
        context["milestone_form"] = forms.get("milestone_form") or MilestoneForm(prefix="milestone")
    # A refused termination keeps its form (and its error) even when the contract can no longer be terminated.
    if can_terminate or forms.get("terminate_form"):
        context["terminate_form"] = forms.get("terminate_form") or TerminateForm(prefix="terminate")
    return context


def _detail_page(request, contract: Contract, *, status: int = 200, **forms):
    response = render(
        request, "contracts/contract_detail.html", _detail_context(request, contract, **forms), status=status
    )
    patch_cache_control(response, private=True, no_store=True)
    return response


@login_required
def contract_detail(request, pk: int):
    contract = _contract(pk)
    _require(request, "contracts.view_contract", contract)
    return _detail_page(request, contract)


@login_required
@require_POST
def contract_create(request, pk: int):
    tender = get_object_or_404(Tender.objects.select_related("agency"), pk=pk)
    _require(request, "contracts.add_contract", tender)
    contract = _refused(
        request,
        lambda: services.contract_create_from_award(actor=request.user, tender=tender),
        _("The contract was drafted from the award. Complete its terms, then freeze it for signature."),
    )
    if contract is None:
        return redirect(tender.get_absolute_url())
    return redirect(_url(contract))


@login_required
@require_POST
def contract_edit(request, pk: int):
    contract = _contract(pk)
    _require(request, "contracts.change_contract", contract)
    form = ContractDraftForm(request.POST, instance=contract)
    if form.is_valid() and _run_service(
        form,
        lambda: services.contract_update_draft(actor=request.user, contract=contract, data=form.service_data()),
    ):
        messages.success(request, _("The draft's terms were saved."))
        return redirect(_url(contract, "terms"))
    contract.refresh_from_db()
    return _detail_page(request, contract, status=400, draft_form=form)


@login_required
@require_POST
def contract_kpi_add(request, pk: int):
    contract = _contract(pk)
    _require(request, "contracts.change_contract", contract)
    form = KpiForm(request.POST, prefix="kpi")
    if form.is_valid() and _run_service(
        form, lambda: services.contract_kpi_add(actor=request.user, contract=contract, **form.cleaned_data)
    ):
        messages.success(request, _("The indicator was added."))
        return redirect(_url(contract, "kpis"))
    return _detail_page(request, contract, status=400, kpi_form=form)


@login_required
@require_POST
def contract_milestone_add(request, pk: int):
    contract = _contract(pk)
    _require(request, "contracts.change_contract", contract)
    form = MilestoneForm(request.POST, prefix="milestone")
    if form.is_valid() and _run_service(
        form, lambda: services.contract_milestone_add(actor=request.user, contract=contract, **form.cleaned_data)
    ):
        messages.success(request, _("The milestone was added."))
        return redirect(_url(contract, "milestones"))
    return _detail_page(request, contract, status=400, milestone_form=form)


@login_required
@require_POST
def contract_freeze(request, pk: int):
    contract = _contract(pk)
    _require(request, "contracts.freeze_contract", contract)
    _refused(
        request,
        lambda: services.contract_freeze(actor=request.user, contract=contract),
        _("The contract is frozen; its PDF is being prepared for signature."),
    )
    return redirect(_url(contract))


@login_required
@require_POST
def contract_complete(request, pk: int):
    contract = _contract(pk)
    _require(request, "contracts.complete_contract", contract)
    _refused(
        request,
        lambda: services.contract_complete(actor=request.user, contract=contract),
        _("The contract is marked completed."),
    )
    return redirect(_url(contract))


@login_required
@require_POST
def contract_terminate(request, pk: int):
    contract = _contract(pk)
    _require(request, "contracts.terminate_contract", contract)
    form = TerminateForm(request.POST, prefix="terminate")
    if form.is_valid() and _run_service(
        form,
        lambda: services.contract_terminate(actor=request.user, contract=contract, reason=form.cleaned_data["reason"]),
    ):
        messages.success(request, _("The contract is terminated."))
        return redirect(_url(contract))
    return _detail_page(request, contract, status=400, terminate_form=form)


def _may_sign(user, contract: Contract) -> bool:
    return user.has_perm("contracts.sign_contract_for_vendor", contract) or user.has_perm(
        "contracts.sign_contract_for_agency", contract
    )


def _current_key(user) -> SignerKey | None:
    return SignerKey.objects.filter(user=user, retired_at__isnull=True).first()


def _sign_page(request, contract: Contract, *, form=None, key_form=None, status: int = 200):
    key = _current_key(request.user)
    certificate = pki.load_certificate(key.certificate_pem.encode("ascii")) if key else None
    awaiting = services.awaiting_signature(contract)
    context = {
        "contract": contract,
        "amendment": awaiting.amendment if awaiting is not None and awaiting.amendment_id else None,
        "form": form or SignForm(),
        "key_form": key_form or SignerKeyForm(prefix="key"),
        "key": key,
        "certificate": certificate,
        "certificate_subject": certificate.subject.rfc4514_string() if certificate else "",
    }
    response = render(request, "contracts/contract_sign.html", context, status=status)
    patch_cache_control(response, private=True, no_store=True)
    return response


def _password_on_its_field(call):
    """A wrong signing password is the person's input: its refusal is shown on the form's password field."""

    def run():
        try:
            return call()
        except services.WrongSigningPassword as refusal:
            raise ValidationError({"password": [refusal.message]}) from None

    return run


@login_required
def contract_sign(request, pk: int):
    contract = _contract(pk)
    _require(request, "contracts.view_contract", contract)
    if not _may_sign(request.user, contract):
        raise PermissionDenied
    if request.method != "POST":
        return _sign_page(request, contract)
    form = SignForm(request.POST, request.FILES)
    if form.is_valid():
        uploaded = form.cleaned_data.get("pkcs12")
        signature = _run_service(
            form,
            _password_on_its_field(
                lambda: services.contract_sign(
                    actor=request.user,
                    contract=contract,
                    password=form.cleaned_data["password"],
                    pkcs12=uploaded.read() if uploaded else None,
                    pkcs12_password=form.cleaned_data.get("pkcs12_password") or None,
                )
            ),
            fallback_field=None,
        )
        if signature is not None and signature.version.amendment_id:
            messages.success(request, _("The amendment is signed. The signed PDF is below, with its verification."))
            return redirect(
                reverse("contracts:amendment_detail", args=[contract.pk, signature.version.amendment.number]) + "#pdf"
            )
        if signature is not None:
            messages.success(request, _("The contract is signed. The signed PDF is below, with its verification."))
            return redirect(_url(contract, "signatures"))
    return _sign_page(request, contract, form=form, status=400)


@login_required
@require_POST
def signer_key_create(request, pk: int):
    contract = _contract(pk)
    _require(request, "contracts.manage_signer_key")
    _require(request, "contracts.view_contract", contract)
    form = SignerKeyForm(request.POST, prefix="key")
    if form.is_valid() and _run_service(
        form,
        _password_on_its_field(
            lambda: services.signer_key_issue(user=request.user, password=form.cleaned_data["password"])
        ),
    ):
        messages.success(request, _("Your signing certificate was issued. You can now sign."))
        return redirect(reverse("contracts:contract_sign", args=[contract.pk]))
    return _sign_page(request, contract, key_form=form, status=400)


def _file_response(field_file, filename: str) -> FileResponse:
    field_file.open("rb")
    response = FileResponse(field_file, as_attachment=True, filename=filename, content_type="application/pdf")
    patch_cache_control(response, private=True, no_store=True)
    return response


@login_required
def version_pdf(request, pk: int, number: int):
    contract = _contract(pk)
    _require(request, "contracts.view_contract", contract)
    version = get_object_or_404(ContractVersion, contract=contract, number=number)
    if version.status != RenderStatus.RENDERED or not version.pdf:
        raise Http404
    return _file_response(version.pdf, f"{contract.reference}-v{version.number}.pdf")


@login_required
def signature_pdf(request, pk: int, signature_pk: int):
    contract = _contract(pk)
    _require(request, "contracts.view_contract", contract)
    signature = get_object_or_404(
        ContractSignature.objects.select_related("version"), pk=signature_pk, version__contract=contract
    )
    return _file_response(
        signature.pdf, f"{contract.reference}-v{signature.version.number}-signed-{signature.party}.pdf"
    )


def verify(request):
    """The public verifier: anyone may upload a signed PDF; it is read in memory and never stored."""
    report, problem = None, ""
    status = 200
    if request.method == "POST":
        form = VerifyForm(request.POST, request.FILES)
        if form.is_valid():
            report, problem = _report(form.cleaned_data["pdf"].read())
        else:
            status = 400
    else:
        form = VerifyForm()
    response = render(
        request,
        "contracts/verify.html",
        {"form": form, "report": report, "report_problem": problem, "has_ca": bool(trust_roots())},
        status=status,
    )
    patch_cache_control(response, private=True, no_store=True)
    return response


@login_required
def contract_list(request):
    """Contracts, newest first, filtered: every agency's for auditors and administrators, the agency's for its
    officers and approvers, the company's own for a vendor's people. Keyset pages, no COUNT."""
    from contracts.filters import ContractFilter, contracts_listed_for
    from core.pagination import keyset_page

    contracts = contracts_listed_for(request.user)
    if contracts is None:
        raise PermissionDenied
    filterset = ContractFilter(request.GET, queryset=contracts.select_related("tender", "vendor", "agency"))
    page = keyset_page(
        filterset.qs,
        key="id",
        descending=True,
        after=request.GET.get("after"),
        before=request.GET.get("before"),
        size=25,
        to_python=int,
    )
    return render(
        request,
        "contracts/contract_list.html",
        {"filter": filterset, "page": page, "is_auditor": request.user.has_perm("audit.view_auditevent")},
    )
