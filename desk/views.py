"""The desk's pages: the public form, its confirmation, the private tracking page and the FAQ; the officers'
queue, item page and actions; and the desk's response times.

Views are thin: each loads the item, checks the permission ``accounts/rules.py`` grants, calls one service and
turns its refusal into a message, keeping what was typed.
"""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_fsm import can_proceed

from audit.services import client_address
from core.i18n import is_arabic
from core.pagination import keyset_page
from core.views_support import require, run_service
from desk import services
from desk.charts import response_time_chart, weekly_response_times
from desk.filters import DeskItemFilter, items_listed_for
from desk.forms import AnswerForm, AssignForm, CloseForm, FaqForm, ReopenForm, SubmitForm
from desk.models import PUBLIC_ENTRY_KINDS, DeskItem, FaqEntry, ItemKind, ItemStatus, ItemTopic
from procurement.models import Agency

PAGE_SIZE = 25
#: The session key under which the confirmation page finds the tracking key it shows once.
JUST_SENT = "desk_just_sent"


def _is_id(value: str) -> bool:
    """A primary key as typed in a query string: ASCII digits only, not absurdly long ("²".isdigit() is True)."""
    return re.fullmatch(r"[0-9]{1,18}", value) is not None


def _private(response):
    """Pages that carry a private link are never cached (nor, by the page's meta, indexed), and their address —
    which holds the tracking key — is never sent on as a Referer."""
    add_never_cache_headers(response)
    response["Cache-Control"] += ", private"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


# The public side --------------------------------------------------------------------------------------


def _initial(request) -> dict:
    """What a link to the desk may fill in (``?kind=complaint&topic=tender&reference=…``), and who is signed in."""
    initial = {}
    if request.GET.get("kind") in ItemKind.values:
        initial["kind"] = request.GET["kind"]
    if request.GET.get("topic") in ItemTopic.values:
        initial["topic"] = request.GET["topic"]
    if request.GET.get("reference"):
        initial["reference"] = request.GET["reference"][:60]
    if request.user.is_authenticated:
        initial["sender_name"] = request.user.full_name
        initial["sender_email"] = request.user.email
    return initial


def home(request):
    """The desk's front page: send an inquiry, a suggestion or a complaint."""
    form = SubmitForm(request.POST or None, initial=_initial(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        result = run_service(
            form,
            lambda: services.item_submit(
                kind=data["kind"],
                topic=data["topic"],
                agency=data.get("agency"),
                tender=data.get("tender"),
                contract=data.get("contract"),
                subject=data["subject"],
                message=data["message"],
                sender_name=data["sender_name"],
                sender_email=data["sender_email"],
                sender_phone=data["sender_phone"],
                language=get_language(),
                address=client_address(request),
                sender_user=request.user,
            ),
            fallback_field="message",
        )
        if result is not None:
            item, key = result
            request.session[JUST_SENT] = {"reference": item.reference, "key": key}
            return redirect("desk:sent", reference=item.reference)
    return render(request, "desk/home.html", {"form": form})


def sent(request, reference: str):
    """The confirmation: the reference and the private tracking link, shown this once (it is also e-mailed)."""
    shown = request.session.pop(JUST_SENT, None)
    if not shown or shown.get("reference") != reference:
        return redirect("desk:home")
    context = {"reference": reference, "tracking_url": reverse("desk:track", args=[reference, shown["key"]])}
    return _private(render(request, "desk/sent.html", context))


def _tracked(reference: str, key: str) -> DeskItem:
    item = services.item_for_tracking(reference, key)
    if item is None:
        raise Http404
    return item


def _track_page(request, item: DeskItem, key: str, reopen_form=None):
    now = timezone.now()
    can_reopen = item.can_reopen(now)
    context = {
        "item": item,
        "key": key,
        "entries": item.entries.filter(kind__in=PUBLIC_ENTRY_KINDS).order_by("created_at", "id"),
        "can_reopen": can_reopen,
        "reopen_until": item.reopen_until(),
        "reopen_form": reopen_form or (ReopenForm() if can_reopen else None),
    }
    return _private(render(request, "desk/track.html", context))


def track(request, reference: str, key: str):
    """The sender's private page: where the item stands, its answer, and reopening within the period."""
    return _track_page(request, _tracked(reference, key), key)


@require_POST
def reopen(request, reference: str, key: str):
    item = _tracked(reference, key)
    form = ReopenForm(request.POST)
    if form.is_valid() and run_service(
        form, lambda: services.item_reopen(item=item, reason=form.cleaned_data["reason"]), fallback_field="reason"
    ):
        messages.success(request, _("Your message is reopened. The agency will answer it again."))
        return redirect("desk:track", reference=reference, key=key)
    item.refresh_from_db()
    return _track_page(request, item, key, reopen_form=form)


def faq(request):
    """Answered inquiries that the agencies published, newest first; by agency if chosen."""
    entries = FaqEntry.objects.published().select_related("agency")
    agency = None
    if _is_id(request.GET.get("agency", "")):
        agency = Agency.objects.filter(pk=int(request.GET["agency"])).first()
        if agency is not None:
            entries = entries.filter(agency=agency)
    page = keyset_page(
        entries,
        key="id",
        descending=True,
        after=request.GET.get("after"),
        before=request.GET.get("before"),
        size=PAGE_SIZE,
        to_python=int,
    )
    agencies = Agency.objects.filter(faq_entries__is_published=True).distinct().order_by("name_en")
    return render(request, "desk/faq.html", {"page": page, "agency": agency, "agencies": agencies})


# The agency's side ----------------------------------------------------------------------------------


def _sees_all_agencies(user) -> bool:
    from accounts.roles import Role

    return user.is_superuser or user.has_role(Role.ADMINISTRATOR) or user.has_role(Role.AUDITOR)


@login_required
def queue(request):
    items = items_listed_for(request.user)
    if items is None:
        raise PermissionDenied
    filterset = DeskItemFilter(
        request.GET,
        queryset=items.select_related("agency", "assigned_to").defer("message", "answer", "closing_note"),
        show_agency=_sees_all_agencies(request.user),
    )
    page = keyset_page(
        filterset.qs,
        key="id",
        descending=True,
        after=request.GET.get("after"),
        before=request.GET.get("before"),
        size=PAGE_SIZE,
        to_python=int,
    )
    return render(request, "desk/queue.html", {"filter": filterset, "page": page, "now": timezone.now()})


def _item(request, pk: int) -> DeskItem:
    item = get_object_or_404(
        DeskItem.objects.select_related("agency", "tender", "contract__tender", "assigned_to", "answered_by"), pk=pk
    )
    require(request, "desk.view_deskitem", item)
    return item


def _item_page(request, item: DeskItem, **forms):
    user = request.user
    can_handle = user.has_perm("desk.handle_item", item)
    context = {
        "item": item,
        "entries": item.entries.select_related("actor").order_by("created_at", "id"),
        "now": timezone.now(),
        "can_handle": can_handle,
        "assign_form": forms.get("assign_form")
        or (AssignForm(item=item, actor=user) if can_handle and can_proceed(item.assign) else None),
        "answer_form": forms.get("answer_form")
        or (AnswerForm() if can_handle and item.status in (ItemStatus.RECEIVED, ItemStatus.ASSIGNED) else None),
        "close_form": forms.get("close_form") or (CloseForm() if can_handle and can_proceed(item.close) else None),
        "can_publish": user.has_perm("desk.publish_faq", item)
        and item.kind == ItemKind.INQUIRY
        and item.first_answered_at is not None,
        "faq_entry": getattr(item, "faq_entry", None),
    }
    return render(request, "desk/item_detail.html", context)


@login_required
def item_detail(request, pk: int):
    return _item_page(request, _item(request, pk))


def _act(request, item, *, form, form_key: str, service, done: str, fallback_field: str):
    """Bind the form, run the service (one transaction, its refusals shown on the form), then redirect with
    ``done`` — or show the item again with the bound form, so nothing typed is lost."""
    require(request, "desk.handle_item", item)
    if form.is_valid() and run_service(form, lambda: service(form.cleaned_data), fallback_field=fallback_field):
        messages.success(request, done)
        return redirect("desk:item", pk=item.pk)
    item.refresh_from_db()
    return _item_page(request, item, **{form_key: form})


@login_required
@require_POST
def item_assign(request, pk: int):
    item = _item(request, pk)
    return _act(
        request,
        item,
        form=AssignForm(request.POST, item=item, actor=request.user),
        form_key="assign_form",
        service=lambda data: services.item_assign(actor=request.user, item=item, assignee=data["assignee"]),
        done=_("The item is assigned."),
        fallback_field="assignee",
    )


@login_required
@require_POST
def item_answer(request, pk: int):
    item = _item(request, pk)
    return _act(
        request,
        item,
        form=AnswerForm(request.POST),
        form_key="answer_form",
        service=lambda data: services.item_answer(actor=request.user, item=item, answer=data["answer"]),
        done=_("The answer is recorded and e-mailed to the sender."),
        fallback_field="answer",
    )


@login_required
@require_POST
def item_close(request, pk: int):
    item = _item(request, pk)
    return _act(
        request,
        item,
        form=CloseForm(request.POST),
        form_key="close_form",
        service=lambda data: services.item_close(actor=request.user, item=item, note=data["note"]),
        done=_("The item is closed."),
        fallback_field="note",
    )


@login_required
def faq_publish(request, pk: int):
    """Edit an answered inquiry into a public question and answer, and publish it."""
    item = _item(request, pk)
    require(request, "desk.publish_faq", item)
    form = FaqForm(request.POST or None, item=item)
    if request.method == "POST" and form.is_valid():
        entry = run_service(form, lambda: services.faq_publish(actor=request.user, item=item, **form.cleaned_data))
        if entry is not None:
            messages.success(request, _("The question and its answer are published."))
            return redirect("desk:item", pk=item.pk)
    return render(request, "desk/faq_form.html", {"item": item, "form": form})


@login_required
@require_POST
def faq_withdraw(request, pk: int):
    item = _item(request, pk)
    entry = get_object_or_404(FaqEntry, item=item)
    require(request, "desk.publish_faq", entry)
    services.faq_withdraw(actor=request.user, entry=entry)
    messages.success(request, _("The question is no longer published."))
    return redirect("desk:item", pk=item.pk)


@login_required
def dashboard(request):
    """The desk's response times over the last weeks, for the person's agency (auditors: any, or all)."""
    items = items_listed_for(request.user)
    if items is None:
        raise PermissionDenied
    require(request, "desk.view_dashboard")
    agency = None
    if _sees_all_agencies(request.user) and _is_id(request.GET.get("agency", "")):
        agency = Agency.objects.filter(pk=int(request.GET["agency"])).first()
        if agency is not None:
            items = items.filter(agency=agency)
    elif not _sees_all_agencies(request.user):
        agency = request.user.agency
    today = timezone.now().date()
    weeks = weekly_response_times(items, today=today)
    context = {
        "weeks": weeks,
        "chart": response_time_chart(weeks, rtl=is_arabic()),
        "agency": agency,
        "agencies": Agency.objects.order_by("name_en") if _sees_all_agencies(request.user) else None,
        "targets": [(ItemKind(kind).label, hours) for kind, hours in _targets()],
    }
    return render(request, "desk/dashboard.html", context)


def _targets():
    from django.conf import settings

    return [(kind, settings.DESK_RESPONSE_HOURS[kind]) for kind in ItemKind.values]
