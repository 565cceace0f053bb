"""Vendor pages: public registration and debarment list, the company page for its members, and the
officers' list and vendor page. Views load, check the permission (403), bind a form, call one service,
turn a refusal into a message or form errors, and redirect after a successful POST.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_fsm import can_proceed

from core.exceptions import ActionRefused
from core.pagination import keyset_page
from core.views_support import require as _require
from core.views_support import run_service as _run_service
from vendors import services
from vendors.filters import VendorFilter
from vendors.forms import (
    DebarForm,
    InvitationAcceptForm,
    InviteForm,
    SuspendForm,
    VendorDocumentForm,
    VendorRegistrationForm,
)
from vendors.models import MANDATORY_KINDS, Debarment, DocumentKind, Vendor, VendorDocument, VendorMembership

PAGE_SIZE = 25


# Registration (public) ---------------------------------------------------------------------------


def register(request):
    form = VendorRegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        vendor = _run_service(
            form,
            lambda: services.vendor_register(
                company=form.company_data(),
                categories=form.cleaned_data["categories"],
                email=form.cleaned_data["user_email"],
                full_name=form.cleaned_data["full_name"],
                password=form.cleaned_data["password"],
                language=get_language() or "ar",
            ),
        )
        if vendor:
            request.session["vendors_registered_email"] = form.cleaned_data["user_email"]
            return redirect("vendors:register_done")
    return render(request, "vendors/register.html", {"form": form})


def register_done(request):
    return render(request, "vendors/register_done.html", {"email": request.session.get("vendors_registered_email")})


def confirm_email(request, token: str):
    """GET shows a button (mail scanners that follow links activate nothing); POST confirms."""
    if request.method == "POST":
        try:
            services.vendor_confirm_email(token=token)
        except ActionRefused as refusal:
            return render(request, "vendors/confirm_email.html", {"problem": refusal.message}, status=400)
        messages.success(request, _("Your e-mail address is confirmed. You can sign in now."))
        return redirect("accounts:login")
    return render(request, "vendors/confirm_email.html", {"problem": None})


# Invitations -------------------------------------------------------------------------------------


def invitation_accept(request, token: str):
    if request.user.is_authenticated:
        raise PermissionDenied
    try:
        invitation = services.open_invitation(token)
    except ActionRefused as refusal:
        return render(request, "vendors/invitation_accept.html", {"problem": refusal.message}, status=400)
    form = InvitationAcceptForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = _run_service(
            form,
            lambda: services.vendor_invitation_accept(
                token=token,
                full_name=form.cleaned_data["full_name"],
                password=form.cleaned_data["password"],
                actor=request.user,
            ),
        )
        if user:
            messages.success(
                request, _("Welcome. Sign in with %(email)s and your new password.") % {"email": user.email}
            )
            return redirect("accounts:login")
    return render(request, "vendors/invitation_accept.html", {"form": form, "invitation": invitation, "problem": None})


# The company page (its members) -------------------------------------------------------------------


@login_required
def my_company(request):
    membership = VendorMembership.objects.filter(user=request.user).first()
    if membership is None:
        raise Http404
    return redirect("vendors:company", pk=membership.vendor_id)


def _company_page(request, vendor: Vendor, *, document_form=None, invite_form=None, status: int = 200):
    today = timezone.localdate()
    documents = list(vendor.current_documents().select_related("uploaded_by").order_by("kind", "-uploaded_at", "-id"))
    held = {document.kind for document in documents if not document.is_expired(today)}
    can_invite = request.user.has_perm("vendors.change_vendor", vendor)
    can_upload = request.user.has_perm("vendors.upload_vendor_document", vendor)
    return render(
        request,
        "vendors/company.html",
        {
            "vendor": vendor,
            "today": today,
            "documents": [{"document": d, "expired": d.is_expired(today)} for d in documents],
            "missing_kinds": [DocumentKind(kind).label for kind in MANDATORY_KINDS if kind not in held],
            "may_bid": vendor.may_bid(today),
            "debarment": vendor.active_debarment(today),
            "colleagues": vendor.memberships.select_related("user").order_by("joined_at", "id"),
            "document_form": (document_form or VendorDocumentForm(prefix="document")) if can_upload else None,
            "invite_form": (invite_form or InviteForm(prefix="invite")) if can_invite else None,
        },
        status=status,
    )


def _member_vendor(request, pk: int) -> Vendor:
    vendor = get_object_or_404(Vendor.objects.prefetch_related("categories"), pk=pk)
    if not request.user.has_perm("vendors.view_vendor", vendor):
        raise PermissionDenied
    return vendor


@login_required
def company(request, pk: int):
    vendor = _member_vendor(request, pk)
    if not request.user.has_perm("vendors.upload_vendor_document", vendor):
        # Staff see the vendor on the officers' page.
        return redirect(vendor)
    return _company_page(request, vendor)


@login_required
@require_POST
def document_upload(request, pk: int):
    vendor = _member_vendor(request, pk)
    _require(request, "vendors.upload_vendor_document", vendor)
    form = VendorDocumentForm(request.POST, request.FILES, prefix="document")
    if form.is_valid():
        document = _run_service(
            form,
            lambda: services.vendor_document_upload(
                actor=request.user,
                vendor=vendor,
                kind=form.cleaned_data["kind"],
                uploaded_file=form.cleaned_data["file"],
                issued_on=form.cleaned_data["issued_on"],
                expires_on=form.cleaned_data["expires_on"],
            ),
            fallback_field="file",
        )
        if document:
            messages.success(request, _("“%(kind)s” was uploaded.") % {"kind": document.get_kind_display()})
            return redirect(vendor.get_company_url() + "#documents")
    return _company_page(request, vendor, document_form=form)


@login_required
@require_POST
def invite(request, pk: int):
    vendor = _member_vendor(request, pk)
    _require(request, "vendors.change_vendor", vendor)
    form = InviteForm(request.POST, prefix="invite")
    if form.is_valid():
        invitation = _run_service(
            form,
            lambda: services.vendor_invite_colleague(
                actor=request.user, vendor=vendor, email=form.cleaned_data["email"]
            ),
        )
        if invitation:
            messages.success(request, _("An invitation was sent to %(email)s.") % {"email": invitation.email})
            return redirect(vendor.get_company_url() + "#colleagues")
    return _company_page(request, vendor, invite_form=form)


@login_required
def document_download(request, pk: int):
    document = get_object_or_404(VendorDocument.objects.select_related("vendor"), pk=pk)
    _require(request, "vendors.view_vendor", document.vendor)
    try:
        handle = document.file.open("rb")
    except FileNotFoundError as error:
        raise Http404 from error
    response = FileResponse(
        handle, as_attachment=True, filename=document.original_name, content_type=document.content_type
    )
    response["X-Content-SHA256"] = document.sha256
    patch_cache_control(response, private=True)
    return response


# The officers' side ------------------------------------------------------------------------------


@login_required
def vendor_list(request):
    _require(request, "vendors.view_vendor")
    filterset = VendorFilter(request.GET, queryset=Vendor.objects.prefetch_related("categories"))
    page = keyset_page(
        filterset.qs.distinct(),
        key="id",
        descending=True,
        after=request.GET.get("after"),
        before=request.GET.get("before"),
        size=PAGE_SIZE,
        to_python=int,
    )
    return render(request, "vendors/vendor_list.html", {"filter": filterset, "page": page})


def _actions(user, vendor: Vendor, debarment: Debarment | None) -> dict:
    return {
        "verify": can_proceed(vendor.verify) and user.has_perm("vendors.verify_vendor", vendor),
        "suspend": can_proceed(vendor.suspend) and user.has_perm("vendors.suspend_vendor", vendor),
        "reinstate": can_proceed(vendor.reinstate) and user.has_perm("vendors.reinstate_vendor", vendor),
        "debar": can_proceed(vendor.debar) and user.has_perm("vendors.debar_vendor", vendor),
        "lift": debarment is not None and user.has_perm("vendors.lift_debarment", debarment),
    }


def _performance(vendor: Vendor, today) -> dict:
    """The vendor's contracts with their monitoring scores, and its overall score (contracts/performance.py)."""
    from contracts.models import Contract
    from contracts.performance import MONITORED, contract_scores, vendor_scores

    contracts = list(
        Contract.objects.filter(vendor=vendor, status__in=MONITORED)
        .select_related("tender")
        .order_by("-activated_at", "-id")[:50]
    )
    scores = contract_scores(contracts, today=today)
    return {
        "overall": vendor_scores([vendor.pk], today=today).get(vendor.pk),
        "contracts": [{"contract": c, "score": scores[c.pk]} for c in contracts],
    }


def _detail_page(request, vendor: Vendor, *, suspend_form=None, debar_form=None, status: int = 200):
    today = timezone.localdate()
    debarment = vendor.debarments.filter(lifted_at__isnull=True).select_related("decided_by").first()
    actions = _actions(request.user, vendor, debarment)
    documents = list(vendor.documents.select_related("uploaded_by").order_by("kind", "-uploaded_at", "-id")[:100])
    return render(
        request,
        "vendors/vendor_detail.html",
        {
            "vendor": vendor,
            "today": today,
            "actions": actions,
            "any_action": any(actions.values()),
            "debarment": debarment,
            "documents": [{"document": d, "expired": d.is_expired(today)} for d in documents],
            "missing_kinds": [DocumentKind(kind).label for kind in vendor.expired_mandatory_kinds(today)],
            "may_bid": vendor.may_bid(today),
            "members": vendor.memberships.select_related("user").order_by("joined_at", "id"),
            "performance": _performance(vendor, today),
            "suspend_form": (suspend_form or SuspendForm(prefix="suspend")) if actions["suspend"] else None,
            "debar_form": (debar_form or DebarForm(prefix="debar", initial={"starts_on": today}))
            if actions["debar"]
            else None,
        },
        status=status,
    )


def _staff_vendor(request, pk: int) -> Vendor:
    vendor = get_object_or_404(Vendor.objects.prefetch_related("categories").select_related("verified_by"), pk=pk)
    _require(request, "vendors.view_vendor", vendor)
    return vendor


@login_required
def vendor_detail(request, pk: int):
    return _detail_page(request, _staff_vendor(request, pk))


def _refused(request, vendor: Vendor, call, success: str):
    try:
        call()
    except ActionRefused as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, success)
    return redirect(vendor)


@login_required
@require_POST
def vendor_verify(request, pk: int):
    vendor = _staff_vendor(request, pk)
    _require(request, "vendors.verify_vendor", vendor)
    return _refused(
        request, vendor, lambda: services.vendor_verify(actor=request.user, vendor=vendor), _("The vendor is verified.")
    )


@login_required
@require_POST
def vendor_reinstate(request, pk: int):
    vendor = _staff_vendor(request, pk)
    _require(request, "vendors.reinstate_vendor", vendor)
    return _refused(
        request,
        vendor,
        lambda: services.vendor_reinstate(actor=request.user, vendor=vendor),
        _("The vendor is reinstated."),
    )


@login_required
@require_POST
def vendor_suspend(request, pk: int):
    vendor = _staff_vendor(request, pk)
    _require(request, "vendors.suspend_vendor", vendor)
    form = SuspendForm(request.POST, prefix="suspend")
    if form.is_valid():
        done = _run_service(
            form,
            lambda: services.vendor_suspend(actor=request.user, vendor=vendor, reason=form.cleaned_data["reason"]),
        )
        if done:
            messages.success(request, _("The vendor is suspended."))
            return redirect(vendor)
    return _detail_page(request, vendor, suspend_form=form, status=400)


@login_required
@require_POST
def vendor_debar(request, pk: int):
    vendor = _staff_vendor(request, pk)
    _require(request, "vendors.debar_vendor", vendor)
    form = DebarForm(request.POST, prefix="debar", instance=Debarment(vendor=vendor, decided_by=request.user))
    if form.is_valid():
        done = _run_service(
            form,
            lambda: services.vendor_debar(
                actor=request.user,
                vendor=vendor,
                reason=form.cleaned_data["reason"],
                legal_reference=form.cleaned_data["legal_reference"],
                starts_on=form.cleaned_data["starts_on"],
                ends_on=form.cleaned_data["ends_on"],
            ),
        )
        if done:
            messages.success(request, _("The vendor is debarred and listed publicly."))
            return redirect(vendor)
    return _detail_page(request, vendor, debar_form=form, status=400)


@login_required
@require_POST
def debarment_lift(request, pk: int):
    debarment = get_object_or_404(Debarment.objects.select_related("vendor"), pk=pk)
    _require(request, "vendors.lift_debarment", debarment)
    return _refused(
        request,
        debarment.vendor,
        lambda: services.vendor_debarment_lift(actor=request.user, debarment=debarment),
        _("The debarment is lifted."),
    )


# Public ------------------------------------------------------------------------------------------


def debarment_list(request):
    _require(request, "vendors.view_debarment")
    today = timezone.localdate()
    page = keyset_page(
        Debarment.objects.active(today).select_related("vendor"),
        key="id",
        descending=True,
        after=request.GET.get("after"),
        before=request.GET.get("before"),
        size=PAGE_SIZE,
        to_python=int,
    )
    return render(request, "vendors/debarment_list.html", {"page": page, "today": today})
