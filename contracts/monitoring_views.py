"""The monitoring page of a contract in force: the milestones on a timeline against plan, reports and their
decisions, payments and penalties against the value (each with its calculation), KPI trends against their
targets; and the actions of the contractor (report, submit a measurement) and of the agency's officers
(decide, confirm, record a payment). Views are thin: each checks the permission, calls one service of
``contracts.monitoring`` and turns a refusal into an error on the form, which keeps what was typed."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from contracts import charts, monitoring
from contracts.models import (
    Contract,
    ContractKpi,
    ContractMilestone,
    ContractStatus,
    KpiMeasurement,
    MeasurementStatus,
    MilestoneStatus,
    ProgressEvidence,
    ProgressReport,
    ReportDecision,
)
from contracts.monitoring_forms import (
    DecisionForm,
    MeasurementDecisionForm,
    MeasurementForm,
    PaymentForm,
    ProgressReportForm,
)
from core.views_support import require as _require
from core.views_support import run_service as _run_service

REPORTABLE = (MilestoneStatus.PLANNED, MilestoneStatus.REJECTED)


def _contract(pk: int) -> Contract:
    return get_object_or_404(Contract.objects.select_related("tender", "agency", "vendor"), pk=pk)


def _url(contract: Contract, fragment: str = "") -> str:
    return reverse("contracts:monitoring", args=[contract.pk]) + (f"#{fragment}" if fragment else "")


def _page(request, contract: Contract, *, status: int = 200, bound: tuple | None = None):
    """The page; ``bound`` is (kind, object id, form) of a refused form, shown where it was typed."""
    user = request.user
    can_report = contract.status == ContractStatus.ACTIVE and user.has_perm("contracts.report_progress", contract)
    can_monitor = contract.status == ContractStatus.ACTIVE and user.has_perm("contracts.monitor_contract", contract)
    reports = ProgressReport.objects.select_related("submitted_by", "decided_by").prefetch_related("evidence")
    milestones = list(
        contract.milestones.order_by("order", "due_date", "id")
        .select_related("payment")
        .prefetch_related(Prefetch("reports", queryset=reports.order_by("-number")))
    )
    today = monitoring.local_date(monitoring._now())
    bound_kind, bound_id, bound_form = bound or (None, None, None)

    placed = []

    def form_for(kind: str, pk: int, factory):
        if (bound_kind, bound_id) == (kind, pk):
            placed.append(kind)
            return bound_form
        return factory(prefix=f"{kind}-{pk}")

    rows = []
    for milestone in milestones:
        latest = milestone.reports.all()[0] if milestone.reports.all() else None
        row = {
            "milestone": milestone,
            "latest": latest,
            "overdue": milestone.overdue_since is not None,
            # Its weight in the schedule: its payment's share of the contract's value.
            "weight": round(float(milestone.payment_amount / contract.value) * 100, 1) if contract.value else None,
        }
        if can_report and milestone.status in REPORTABLE:
            row["report_form"] = form_for("report", milestone.pk, ProgressReportForm)
        if can_monitor and latest is not None and latest.decision == ReportDecision.PENDING:
            row["decision_form"] = form_for("decide", latest.pk, DecisionForm)
        if can_monitor and milestone.status == MilestoneStatus.ACCEPTED:
            row["payment_form"] = form_for("pay", milestone.pk, PaymentForm)
        rows.append(row)
    kpis = list(
        contract.kpis.order_by("order", "id").prefetch_related(
            Prefetch("measurements", queryset=KpiMeasurement.objects.order_by("period_start", "id"))
        )
    )
    rtl = translation.get_language_bidi()
    kpi_rows = []
    for kpi in kpis:
        measurements = list(kpi.measurements.all())
        row = {"kpi": kpi, "measurements": measurements, "trend": charts.kpi_trend(kpi, measurements, rtl=rtl)}
        if can_report or can_monitor:
            row["measure_form"] = form_for("measure", kpi.pk, MeasurementForm)
        if can_monitor:
            row["pending"] = [
                {"measurement": m, "form": form_for("confirm", m.pk, MeasurementDecisionForm)}
                for m in measurements
                if m.status == MeasurementStatus.SUBMITTED
            ]
        kpi_rows.append(row)
    if bound_form is not None and not placed:
        # Refused, and the page no longer offers that form (a double click, a stale tab): say why anyway.
        for errors in bound_form.errors.values():
            for error in errors:
                messages.error(request, error)
    paid = monitoring.paid_total(contract)
    penalty_total = monitoring.penalties_total(contract)
    context = {
        "contract": contract,
        "rows": rows,
        "kpi_rows": kpi_rows,
        "payments": list(contract.payments.select_related("milestone").order_by("paid_on", "id")),
        "penalties": list(contract.penalties.select_related("milestone").order_by("created_at", "id")),
        "paid": paid,
        "penalty_total": penalty_total,
        "outstanding": monitoring.outstanding_penalties(contract),
        "remaining": contract.value - paid,
        "timeline": charts.milestone_timeline(contract, milestones, today=today, rtl=rtl),
        "money": charts.money_bar(value=contract.value, paid=paid, penalties=penalty_total, rtl=rtl),
        "can_report": can_report,
        "can_monitor": can_monitor,
        "today": today,
    }
    response = render(request, "contracts/monitoring.html", context, status=status)
    patch_cache_control(response, private=True, no_store=True)
    return response


@login_required
def monitoring_page(request, pk: int):
    contract = _contract(pk)
    _require(request, "contracts.view_contract", contract)
    return _page(request, contract)


@login_required
@require_POST
def report_submit(request, pk: int, milestone_pk: int):
    contract = _contract(pk)
    _require(request, "contracts.report_progress", contract)
    milestone = get_object_or_404(ContractMilestone, pk=milestone_pk, contract=contract)
    prefix = f"report-{milestone.pk}"
    form = ProgressReportForm(request.POST, request.FILES, prefix=prefix)
    if form.is_valid():
        evidence = [(uploaded.name, uploaded) for uploaded in form.cleaned_data["evidence"]]
        done = _run_service(
            form,
            lambda: monitoring.progress_report_submit(
                actor=request.user,
                milestone=milestone,
                narrative=form.cleaned_data["narrative"],
                percent_complete=form.cleaned_data["percent_complete"],
                evidence=evidence,
            ),
        )
        if done is not None:
            messages.success(request, _("Your report was sent to the agency."))
            return redirect(_url(contract, f"milestone-{milestone.pk}"))
    return _page(request, contract, status=400, bound=("report", milestone.pk, form))


@login_required
@require_POST
def report_decide(request, pk: int, report_pk: int):
    contract = _contract(pk)
    _require(request, "contracts.monitor_contract", contract)
    report = get_object_or_404(ProgressReport, pk=report_pk, milestone__contract=contract)
    form = DecisionForm(request.POST, prefix=f"decide-{report.pk}")
    if form.is_valid():
        accept = form.cleaned_data["decision"] == "accept"
        done = _run_service(
            form,
            lambda: monitoring.progress_report_decide(
                actor=request.user, report=report, accept=accept, reason=form.cleaned_data["reason"]
            ),
        )
        if done is not None:
            messages.success(request, _("The milestone was accepted.") if accept else _("The milestone was rejected."))
            return redirect(_url(contract, f"milestone-{report.milestone_id}"))
    return _page(request, contract, status=400, bound=("decide", report.pk, form))


@login_required
@require_POST
def payment_record(request, pk: int, milestone_pk: int):
    contract = _contract(pk)
    _require(request, "contracts.monitor_contract", contract)
    milestone = get_object_or_404(ContractMilestone, pk=milestone_pk, contract=contract)
    form = PaymentForm(request.POST, prefix=f"pay-{milestone.pk}")
    if form.is_valid():
        done = _run_service(
            form,
            lambda: monitoring.payment_record(actor=request.user, milestone=milestone, **form.cleaned_data),
        )
        if done is not None:
            messages.success(request, _("The payment was recorded."))
            return redirect(_url(contract, "payments"))
    return _page(request, contract, status=400, bound=("pay", milestone.pk, form))


@login_required
@require_POST
def measurement_enter(request, pk: int, kpi_pk: int):
    contract = _contract(pk)
    if not (
        request.user.has_perm("contracts.monitor_contract", contract)
        or request.user.has_perm("contracts.report_progress", contract)
    ):
        _require(request, "contracts.monitor_contract", contract)
    kpi = get_object_or_404(ContractKpi, pk=kpi_pk, contract=contract)
    form = MeasurementForm(request.POST, prefix=f"measure-{kpi.pk}")
    if form.is_valid():
        done = _run_service(
            form, lambda: monitoring.kpi_measurement_enter(actor=request.user, kpi=kpi, **form.cleaned_data)
        )
        if done is not None:
            messages.success(request, _("The measurement was recorded."))
            return redirect(_url(contract, f"kpi-{kpi.pk}"))
    return _page(request, contract, status=400, bound=("measure", kpi.pk, form))


@login_required
@require_POST
def measurement_decide(request, pk: int, measurement_pk: int):
    contract = _contract(pk)
    _require(request, "contracts.monitor_contract", contract)
    measurement = get_object_or_404(KpiMeasurement, pk=measurement_pk, contract=contract)
    form = MeasurementDecisionForm(request.POST, prefix=f"confirm-{measurement.pk}")
    if form.is_valid():
        confirm = form.cleaned_data["decision"] == "confirm"
        done = _run_service(
            form,
            lambda: monitoring.kpi_measurement_confirm(
                actor=request.user, measurement=measurement, confirm=confirm, reason=form.cleaned_data["reason"]
            ),
        )
        if done is not None:
            messages.success(
                request, _("The measurement was confirmed.") if confirm else _("The measurement was rejected.")
            )
            return redirect(_url(contract, f"kpi-{measurement.kpi_id}"))
    return _page(request, contract, status=400, bound=("confirm", measurement.pk, form))


@login_required
def evidence_download(request, pk: int, evidence_pk: int):
    contract = _contract(pk)
    _require(request, "contracts.view_contract", contract)
    document = get_object_or_404(ProgressEvidence, pk=evidence_pk, report__milestone__contract=contract)
    document.file.open("rb")
    response = FileResponse(
        document.file, as_attachment=True, filename=document.original_name, content_type=document.content_type
    )
    patch_cache_control(response, private=True, no_store=True)
    return response


urlpatterns = [
    path("<int:pk>/monitoring/", monitoring_page, name="monitoring"),
    path("<int:pk>/milestones/<int:milestone_pk>/report/", report_submit, name="report_submit"),
    path("<int:pk>/reports/<int:report_pk>/decide/", report_decide, name="report_decide"),
    path("<int:pk>/milestones/<int:milestone_pk>/payment/", payment_record, name="payment_record"),
    path("<int:pk>/kpis/<int:kpi_pk>/measurements/", measurement_enter, name="measurement_enter"),
    path("<int:pk>/measurements/<int:measurement_pk>/decide/", measurement_decide, name="measurement_decide"),
    path("<int:pk>/evidence/<int:evidence_pk>/", evidence_download, name="evidence_download"),
]
