"""The officers' side of tenders: the list, drafting, the tender page with the actions each person may
take now, addenda, and the workflow diagram. (The public side is the portal's.)

Each view loads the tender, checks the permission (403), binds a form, calls one service, turns a
refusal into a message or form errors, and redirects after a successful POST.
"""

from __future__ import annotations

from types import SimpleNamespace

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_fsm import can_proceed

from audit.models import AuditEvent
from core.exceptions import ActionRefused
from core.i18n import is_arabic, localized
from core.pagination import keyset_page
from core.views_support import require as _require
from core.views_support import run_service as _run_service
from procurement import tender_services as services
from procurement.models import Addendum, Clarification, Tender
from procurement.models.tenders import AddendumStatus, TenderStatus
from procurement.opening_services import opening_committee_errors
from procurement.opening_views import render_page, tender_opening_links
from procurement.tender_filters import TenderFilter, tenders_listed_for
from procurement.tender_forms import (
    AddendumDocumentFormSet,
    AddendumForm,
    AnswerForm,
    CancelForm,
    CriterionFormSet,
    ReturnForm,
    TenderDocumentForm,
    TenderForm,
    UnsuccessfulForm,
    criteria_initial,
    typed_rows,
)
from procurement.workflow import (
    addendum_can_be_approved,
    state_label,
    tender_actions,
    tender_timeline,
    workflow_diagram,
    workflow_graph,
    workflow_mermaid,
)

PAGE_SIZE = 25
HISTORY_LIMIT = 100
#: Audit actions whose actor is the vendor who asked: named to the agency's officers and auditors only.
ASKER_ACTIONS = frozenset({"tender.question_asked", "tender.question_refused"})


def _require_tender_staff(request) -> None:
    if tenders_listed_for(request.user) is None:
        raise PermissionDenied


def _tender(pk: int) -> Tender:
    related = ("agency", "phase__programme", "created_by", "submitted_by", "approved_by")
    return get_object_or_404(Tender.objects.select_related(*related), pk=pk)


def _has_errors(form, *formsets) -> bool:
    return bool(form.errors) or any(formset.total_error_count() for formset in formsets)


def _anchor(tender: Tender, fragment: str) -> str:
    return f"{tender.get_absolute_url()}#{fragment}"


# The list -----------------------------------------------------------------------------------------


@login_required
def tender_list(request):
    tenders = tenders_listed_for(request.user)
    if tenders is None:
        raise PermissionDenied
    filterset = TenderFilter(request.GET, queryset=tenders.select_related("agency", "phase__programme"))
    page = keyset_page(
        filterset.qs,
        key="id",
        descending=True,
        after=request.GET.get("after"),
        before=request.GET.get("before"),
        size=PAGE_SIZE,
        to_python=int,
    )
    can_add = request.user.has_perm("procurement.add_tender") and request.user.agency_id is not None
    return render(request, "procurement/tender_list.html", {"filter": filterset, "page": page, "can_add": can_add})


# Drafting -----------------------------------------------------------------------------------------


def _tender_data(form) -> dict:
    return {name: form.cleaned_data[name] for name in services.TENDER_FIELDS if name in form.cleaned_data}


def _tender_form_page(request, *, form, criteria, tender: Tender | None):
    return render(
        request,
        "procurement/tender_form.html",
        {
            "form": form,
            "criteria": criteria,
            "formsets": [criteria],
            "tender": tender,
            "has_errors": _has_errors(form, criteria),
        },
    )


@login_required
def tender_create(request):
    _require(request, "procurement.add_tender")
    if request.user.agency_id is None:
        raise PermissionDenied
    data = request.POST if request.method == "POST" else None
    form = TenderForm(data, instance=Tender(agency_id=request.user.agency_id, created_by=request.user))
    criteria = CriterionFormSet(data, prefix="criteria")
    if data is not None and all([form.is_valid(), criteria.is_valid()]):
        tender = _run_service(
            form,
            lambda: services.tender_create(
                actor=request.user,
                phase=form.cleaned_data["phase"],
                data=_tender_data(form),
                criteria=criteria.criteria(),
            ),
        )
        if tender:
            messages.success(
                request,
                _("Draft tender %(reference)s was created. Attach its documents, then submit it for approval.")
                % {"reference": tender.reference},
            )
            return redirect(tender)
    return _tender_form_page(request, form=form, criteria=criteria, tender=None)


@login_required
def tender_update(request, pk: int):
    tender = _tender(pk)
    _require(request, "procurement.change_tender", tender)
    if tender.status != TenderStatus.DRAFT:
        messages.error(request, _("Only a draft can be edited; a published tender is changed by an addendum."))
        return redirect(tender)
    data = request.POST if request.method == "POST" else None
    # The form edits its own copy, so that a refused POST leaves the page's title and links as stored.
    form = TenderForm(data, instance=Tender.objects.get(pk=tender.pk))
    criteria = CriterionFormSet(data, prefix="criteria", initial=criteria_initial(tender))
    if data is not None and all([form.is_valid(), criteria.is_valid()]):
        saved = _run_service(
            form,
            lambda: services.tender_update(
                actor=request.user, tender=tender, data=_tender_data(form), criteria=criteria.criteria()
            ),
        )
        if saved:
            messages.success(request, _("Tender %(reference)s was saved.") % {"reference": saved.reference})
            return redirect(saved)
    return _tender_form_page(request, form=form, criteria=criteria, tender=tender)


# The tender page ----------------------------------------------------------------------------------


def _download_url(document) -> str | None:
    """Documents are served by the portal, behind its permission check (None until it has that page)."""
    try:
        return reverse("portal:document_download", args=[document.pk])
    except NoReverseMatch:
        return None


def _history(tender: Tender, *, show_askers: bool) -> list[dict]:
    events = AuditEvent.objects.filter(tender_id=tender.pk).order_by("-sequence")[:HISTORY_LIMIT]
    rows = []
    for event in events:
        payload = event.payload if isinstance(event.payload, dict) else {}
        source, target = payload.get("from"), payload.get("to")
        hidden = not show_askers and event.action in ASKER_ACTIONS
        rows.append(
            {
                "event": event,
                "actor": _("a vendor (not shown)") if hidden else (event.actor_label or _("the system")),
                "source": state_label(source) if isinstance(source, str) else None,
                "target": state_label(target) if isinstance(target, str) else None,
            }
        )
    return rows


def _addendum_rows(tender: Tender, user) -> list[dict]:
    addenda = tender.addenda.select_related("created_by", "approved_by").prefetch_related("documents")
    rows = []
    for addendum in addenda.order_by("number"):
        criteria = [
            {"name": localized(SimpleNamespace(**item), "name"), "weight": item.get("weight")}
            for item in (addendum.new_criteria or [])
            if isinstance(item, dict)
        ]
        rows.append(
            {
                "addendum": addendum,
                "criteria": criteria,
                "replaces_criteria": addendum.new_criteria is not None,
                "documents": list(addendum.documents.all()),
                "can_approve": addendum_can_be_approved(addendum, user),
                "pending": addendum.status == AddendumStatus.PENDING_APPROVAL,
            }
        )
    return rows


def _detail_page(request, tender: Tender, *, document_form=None, answer_forms=None):
    """The tender page; a form that was refused is shown again in place, with what was typed."""
    user, now = request.user, timezone.now()
    actions = tender_actions(tender, user, now)
    answer_forms = answer_forms or {}
    show_askers = user.has_perm("procurement.answer_clarification", tender) or user.has_perm("audit.view_auditevent")
    questions = []
    for clarification in tender.clarifications.select_related("asked_by", "answered_by").order_by("number"):
        form = answer_forms.get(clarification.pk)
        if form is None and actions.answer_questions and not clarification.is_answered:
            form = AnswerForm(prefix=f"q{clarification.number}")
        questions.append({"clarification": clarification, "form": form})
    documents = [
        {"document": document, "url": _download_url(document)}
        for document in tender.documents.select_related("addendum", "uploaded_by").order_by("uploaded_at", "id")
    ]
    criteria = list(tender.criteria.order_by("order", "id"))
    if document_form is None and actions.add_document:
        document_form = TenderDocumentForm()
    context = {
        "tender": tender,
        "actions": actions,
        "now": now,
        "readiness": [*tender.readiness_errors(), *opening_committee_errors(tender)] if actions.submit else [],
        "opening_links": tender_opening_links(request, tender),
        "criteria": criteria,
        "criteria_total": sum(c.weight for c in criteria),
        "timeline": tender_timeline(tender, now=now, rtl=is_arabic()),
        "documents": documents,
        "document_form": document_form,
        "questions": questions,
        "show_askers": show_askers,
        "addenda": _addendum_rows(tender, user),
        "history": _history(tender, show_askers=show_askers),
        "history_limit": HISTORY_LIMIT,
    }
    return render(request, "procurement/tender_detail.html", context)


@login_required
def tender_detail(request, pk: int):
    tender = _tender(pk)
    _require(request, "procurement.view_tender_internals", tender)
    return _detail_page(request, tender)


@login_required
@require_POST
def tender_document_add(request, pk: int):
    tender = _tender(pk)
    _require(request, "procurement.change_tender", tender)
    form = TenderDocumentForm(request.POST, request.FILES)
    if form.is_valid():
        document = _run_service(
            form,
            lambda: services.tender_document_add(
                actor=request.user,
                tender=tender,
                uploaded_file=form.cleaned_data["file"],
                title=form.cleaned_data["title"],
            ),
            fallback_field="file",
        )
        if document:
            messages.success(request, _("Document “%(title)s” was attached.") % {"title": document.title})
            return redirect(_anchor(tender, "documents"))
    return _detail_page(request, tender, document_form=form)


@login_required
@require_POST
def clarification_answer(request, pk: int, number: int):
    tender = _tender(pk)
    clarification = get_object_or_404(Clarification, tender=tender, number=number)
    _require(request, "procurement.answer_clarification", tender)
    form = AnswerForm(request.POST, prefix=f"q{number}")
    if form.is_valid():
        answered = _run_service(
            form,
            lambda: services.clarification_answer(
                actor=request.user, clarification=clarification, answer=form.cleaned_data["answer"]
            ),
        )
        if answered:
            messages.success(request, _("The answer to question %(number)s was published.") % {"number": number})
            return redirect(_anchor(tender, f"q{number}"))
    return _detail_page(request, tender, answer_forms={clarification.pk: form})


# Transitions --------------------------------------------------------------------------------------


def _act(request, pk: int, call, success: str):
    """A transition that needs nothing typed: the service checks who, when and the state."""
    tender = get_object_or_404(Tender, pk=pk)
    try:
        call(tender)
    except ActionRefused as refused:
        messages.error(request, refused.message)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, success % {"reference": tender.reference})
    return redirect(tender)


@login_required
@require_POST
def tender_submit(request, pk: int):
    return _act(
        request,
        pk,
        lambda tender: services.tender_submit_for_approval(actor=request.user, tender=tender),
        _("Tender %(reference)s was submitted to the steering committee for approval."),
    )


@login_required
@require_POST
def tender_approve(request, pk: int):
    """Approve and publish; the page that answers shows the tender's recovery share, once.

    The share is rendered (never redirected to, put in a message or the session, stored or logged) and the
    response must not be cached, so that it exists only on the approver's screen and printout.
    """
    tender = get_object_or_404(Tender, pk=pk)
    try:
        tender = services.tender_approve(actor=request.user, tender=tender)
    except ActionRefused as refused:
        messages.error(request, refused.message)
        return redirect(tender)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(tender)
    response = render_page(
        request,
        "procurement/opening/recovery_share.html",
        {"tender": tender, "recovery_share": tender.recovery_share},
    )
    patch_cache_control(response, no_cache=True, no_store=True, must_revalidate=True, private=True)
    return response


@login_required
@require_POST
def tender_close(request, pk: int):
    return _act(
        request,
        pk,
        lambda tender: services.tender_close(actor=request.user, tender=tender),
        _("Tender %(reference)s is closed for bids."),
    )


def _reason_page(request, pk: int, *, permission: str, transition: str, form_class, act, texts: dict):
    """A transition that needs a text (comments or a reason): a confirmation page with one field."""
    tender = _tender(pk)
    _require(request, permission, tender)
    texts = {key: text % {"reference": tender.reference} for key, text in texts.items()}
    if not can_proceed(getattr(tender, transition)):
        messages.error(
            request,
            _("The tender is now “%(status)s”: this is not possible.") % {"status": tender.get_status_display()},
        )
        return redirect(tender)
    form = form_class(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        text = next(iter(form.cleaned_data.values()))
        if _run_service(form, lambda: act(tender, text)):
            messages.success(request, texts["success"])
            return redirect(tender)
    return render(request, "procurement/tender_reason_form.html", {"tender": tender, "form": form, **texts})


@login_required
def tender_return(request, pk: int):
    return _reason_page(
        request,
        pk,
        permission="procurement.approve_tender",
        transition="return_to_draft",
        form_class=ReturnForm,
        act=lambda tender, text: services.tender_return(actor=request.user, tender=tender, comments=text),
        texts={
            "heading": _("Return tender %(reference)s with comments"),
            "intro": _("The tender goes back to its officers as a draft, with your comments."),
            "button": _("Return to the officer"),
            "success": _("Tender %(reference)s was returned to draft with your comments."),
        },
    )


@login_required
def tender_cancel(request, pk: int):
    return _reason_page(
        request,
        pk,
        permission="procurement.cancel_tender",
        transition="cancel",
        form_class=CancelForm,
        act=lambda tender, text: services.tender_cancel(actor=request.user, tender=tender, reason=text),
        texts={
            "heading": _("Cancel tender %(reference)s"),
            "intro": _("A cancelled tender cannot be reopened. Nothing is deleted: the record stays, with the reason."),
            "button": _("Cancel the tender"),
            "success": _("Tender %(reference)s was cancelled."),
        },
    )


@login_required
def tender_mark_unsuccessful(request, pk: int):
    return _reason_page(
        request,
        pk,
        permission="procurement.mark_unsuccessful_tender",
        transition="mark_unsuccessful",
        form_class=UnsuccessfulForm,
        act=lambda tender, text: services.tender_mark_unsuccessful(actor=request.user, tender=tender, reason=text),
        texts={
            "heading": _("Declare tender %(reference)s unsuccessful"),
            "intro": _("The procurement ends without an award; bidders are told the reason."),
            "button": _("Declare unsuccessful"),
            "success": _("Tender %(reference)s was declared unsuccessful."),
        },
    )


# Addenda ------------------------------------------------------------------------------------------


@login_required
def addendum_create(request, pk: int):
    tender = _tender(pk)
    _require(request, "procurement.add_addendum", tender)
    if not tender.is_open_for_bids(timezone.now()):
        messages.error(request, _("Addenda can be issued only while the tender is open for bids."))
        return redirect(tender)
    posted = request.method == "POST"
    form = AddendumForm(request.POST if posted else None, tender=tender)
    documents = AddendumDocumentFormSet(
        request.POST if posted else None, request.FILES if posted else None, prefix="documents"
    )
    replace = posted and bool(form["replace_criteria"].value())
    if replace:
        criteria = CriterionFormSet(request.POST, prefix="criteria")
    else:
        # Not replacing: the rows are shown again as typed, but neither checked nor sent.
        initial = typed_rows(request.POST, "criteria") if posted else criteria_initial(tender)
        criteria = CriterionFormSet(prefix="criteria", initial=initial)
    if posted and all([form.is_valid(), documents.is_valid(), criteria.is_valid() if replace else True]):
        addendum = _run_service(
            form,
            lambda: services.addendum_create(
                actor=request.user,
                tender=tender,
                data=form.service_data(criteria.criteria() if replace else None),
                files=documents.files_for_service(),
            ),
        )
        if addendum:
            if addendum.status == AddendumStatus.PENDING_APPROVAL:
                text = _("Addendum %(number)s was prepared; it is issued when an approver approves it.")
            else:
                text = _("Addendum %(number)s was issued.")
            messages.success(request, text % {"number": addendum.number})
            return redirect(_anchor(tender, f"addendum-{addendum.number}"))
    checked = [documents, criteria] if replace else [documents]
    return render(
        request,
        "procurement/tender_addendum_form.html",
        {
            "tender": tender,
            "form": form,
            "criteria": criteria,
            "documents": documents,
            "formsets": checked,
            "has_errors": _has_errors(form, *checked),
        },
    )


@login_required
@require_POST
def addendum_approve(request, pk: int, number: int):
    addendum = get_object_or_404(Addendum.objects.select_related("tender"), tender_id=pk, number=number)
    try:
        services.addendum_approve(actor=request.user, addendum=addendum)
    except ActionRefused as refused:
        messages.error(request, refused.message)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Addendum %(number)s was approved and issued.") % {"number": number})
    return redirect(_anchor(addendum.tender, f"addendum-{number}"))


# The workflow -------------------------------------------------------------------------------------


@login_required
def tender_workflow(request):
    _require_tender_staff(request)
    graph = workflow_graph()
    transitions = [
        {"edge": edge, "source": state_label(edge.source), "target": state_label(edge.target)} for edge in graph.edges
    ]
    return render(
        request,
        "procurement/tender_workflow.html",
        {
            "graph": graph,
            "states": [{"value": state, "label": state_label(state)} for state in graph.states],
            "transitions": transitions,
            "diagram": workflow_diagram(graph, rtl=is_arabic()),
            "mermaid": workflow_mermaid(graph),
        },
    )
