"""Pages for agencies, programmes and phases. Views load, bind, call one service, and redirect."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from core.i18n import is_arabic
from core.pagination import keyset_page
from core.views_support import require as _require
from core.views_support import run_service as _run_service
from procurement import services
from procurement.filters import AgencyFilter, ProgrammeFilter
from procurement.forms import AgencyForm, PhaseForm, ProgrammeForm
from procurement.models import Agency, Phase, Programme
from procurement.selectors import programme_budget_chart, programme_contracts, programme_timeline

# Agencies -----------------------------------------------------------------------------------------


def agency_list(request):
    filterset = AgencyFilter(request.GET, queryset=Agency.objects.select_related("parent"))
    page = keyset_page(filterset.qs, key="code", after=request.GET.get("after"), before=request.GET.get("before"))
    return render(
        request,
        "procurement/agency_list.html",
        {"filter": filterset, "page": page, "can_add": request.user.has_perm("procurement.add_agency")},
    )


def agency_detail(request, pk: int):
    agency = get_object_or_404(Agency.objects.select_related("parent"), pk=pk)
    return render(
        request,
        "procurement/agency_detail.html",
        {
            "agency": agency,
            "departments": agency.children.order_by("code")[:100],
            "programmes": agency.programmes.order_by("code")[:50],
            "can_change": request.user.has_perm("procurement.change_agency", agency),
        },
    )


@login_required
def agency_create(request):
    _require(request, "procurement.add_agency")
    form = AgencyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        agency = _run_service(form, lambda: services.agency_create(actor=request.user, data=form.cleaned_data))
        if agency:
            messages.success(request, _("Agency %(name)s was created.") % {"name": agency.name})
            return redirect(agency)
    return render(request, "procurement/agency_form.html", {"form": form, "agency": None})


@login_required
def agency_update(request, pk: int):
    agency = get_object_or_404(Agency, pk=pk)
    _require(request, "procurement.change_agency", agency)
    # The form edits its own copy, so that a refused POST leaves the page's title and links as stored.
    form = AgencyForm(request.POST or None, instance=Agency.objects.get(pk=agency.pk))
    if request.method == "POST" and form.is_valid():
        saved = _run_service(
            form, lambda: services.agency_update(actor=request.user, agency=agency, data=form.cleaned_data)
        )
        if saved:
            messages.success(request, _("Agency %(name)s was saved.") % {"name": saved.name})
            return redirect(saved)
    return render(request, "procurement/agency_form.html", {"form": form, "agency": agency})


# Programmes ---------------------------------------------------------------------------------------


def programme_list(request):
    filterset = ProgrammeFilter(request.GET, queryset=Programme.objects.select_related("sponsor_agency"))
    page = keyset_page(filterset.qs, key="code", after=request.GET.get("after"), before=request.GET.get("before"))
    return render(
        request,
        "procurement/programme_list.html",
        {"filter": filterset, "page": page, "can_add": request.user.has_perm("procurement.add_programme")},
    )


def programme_detail(request, pk: int):
    programme = get_object_or_404(Programme.objects.select_related("sponsor_agency"), pk=pk)
    phases = list(programme.phases.order_by("order"))
    today = timezone.localdate()
    rtl = is_arabic()
    return render(
        request,
        "procurement/programme_detail.html",
        {
            "programme": programme,
            "phases": phases,
            "steering_committee": programme.steering_committee.order_by("full_name"),
            "timeline": programme_timeline(programme, phases, today=today, rtl=rtl),
            "budget_chart": programme_budget_chart(programme, phases, rtl=rtl),
            "contracts_chart": programme_contracts(programme, phases, today=today, rtl=rtl),
            "today": today,
            "can_change": request.user.has_perm("procurement.change_programme", programme),
            "can_add_phase": request.user.has_perm("procurement.add_phase", programme),
        },
    )


def _programme_data(form) -> tuple[dict, list]:
    data = {k: v for k, v in form.cleaned_data.items() if k != "steering_committee"}
    return data, list(form.cleaned_data.get("steering_committee") or [])


@login_required
def programme_create(request):
    _require(request, "procurement.add_programme")
    form = ProgrammeForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data, committee = _programme_data(form)
        programme = _run_service(
            form,
            lambda: services.programme_create(actor=request.user, data=data, steering_committee=committee),
        )
        if programme:
            messages.success(request, _("Programme %(name)s was created.") % {"name": programme.name})
            return redirect(programme)
    return render(request, "procurement/programme_form.html", {"form": form, "programme": None})


@login_required
def programme_update(request, pk: int):
    programme = get_object_or_404(Programme, pk=pk)
    _require(request, "procurement.change_programme", programme)
    form = ProgrammeForm(request.POST or None, instance=Programme.objects.get(pk=programme.pk), user=request.user)
    if request.method == "POST" and form.is_valid():
        data, committee = _programme_data(form)
        saved = _run_service(
            form,
            lambda: services.programme_update(
                actor=request.user, programme=programme, data=data, steering_committee=committee
            ),
        )
        if saved:
            messages.success(request, _("Programme %(name)s was saved.") % {"name": saved.name})
            return redirect(saved)
    return render(request, "procurement/programme_form.html", {"form": form, "programme": programme})


# Phases -------------------------------------------------------------------------------------------


@login_required
def phase_create(request, programme_pk: int):
    programme = get_object_or_404(Programme, pk=programme_pk)
    _require(request, "procurement.add_phase", programme)
    next_order = (programme.phases.order_by("-order").values_list("order", flat=True).first() or 0) + 1
    form = PhaseForm(
        request.POST or None,
        instance=Phase(programme=programme),
        initial={"order": next_order, "start_date": programme.start_date, "end_date": programme.end_date},
    )
    if request.method == "POST" and form.is_valid():
        phase = _run_service(
            form, lambda: services.phase_create(actor=request.user, programme=programme, data=form.cleaned_data)
        )
        if phase:
            messages.success(request, _("Phase %(name)s was added.") % {"name": phase.name})
            return redirect(phase)
    return render(request, "procurement/phase_form.html", {"form": form, "programme": programme, "phase": None})


@login_required
def phase_update(request, pk: int):
    phase = get_object_or_404(Phase.objects.select_related("programme"), pk=pk)
    _require(request, "procurement.change_phase", phase)
    form = PhaseForm(request.POST or None, instance=Phase.objects.select_related("programme").get(pk=phase.pk))
    if request.method == "POST" and form.is_valid():
        saved = _run_service(
            form, lambda: services.phase_update(actor=request.user, phase=phase, data=form.cleaned_data)
        )
        if saved:
            messages.success(request, _("Phase %(name)s was saved.") % {"name": saved.name})
            return redirect(saved)
    return render(request, "procurement/phase_form.html", {"form": form, "programme": phase.programme, "phase": phase})
