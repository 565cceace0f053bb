"""Exports of a tender's evaluation: the evaluation matrix (CSV and XLSX) for its officers and auditors, and
the evaluation report PDF.

The matrix shows every member's scores, so it is exported only once every member has submitted their
sheet: before that the export answers 403, as it does to anyone without ``procurement.export_evaluation``,
and says nothing of what it would contain.
"""

from __future__ import annotations

import csv
import io
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template import engines
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _

from procurement import evaluation_services, scoring
from procurement.models import Recommendation, Tender
from procurement.models.evaluation import RecommendationStatus
from procurement.opening_views import FORMULA_STARTS
from procurement.tasks import render_evaluation_report

#: Seconds between reloads of the "being prepared" page of the evaluation report.
REPORT_REFRESH_SECONDS = 3
_CENT = Decimal("0.01")
#: Recommendations whose ranking is the tender's current one (the others were returned or overturned).
_LIVE = [RecommendationStatus.PENDING, RecommendationStatus.APPROVED, RecommendationStatus.FINAL]


def _tender(pk: int) -> Tender:
    return get_object_or_404(Tender.objects.select_related("agency"), pk=pk)


def _may_export(request, tender: Tender) -> None:
    """403 unless the person may export the evaluation and every member has submitted their scores."""
    if not request.user.has_perm("procurement.export_evaluation", tender):
        raise PermissionDenied
    if not evaluation_services.all_scores_in(tender):
        raise PermissionDenied


def _number(value) -> Decimal | None:
    """A score or price as exported: two decimal places (the arithmetic keeps more until the end)."""
    if value is None or value == "":
        return None
    return Decimal(str(value)).quantize(_CENT, rounding=ROUND_HALF_UP)


def _results(tender: Tender) -> dict[int, dict]:
    """Technical, price, financial, combined score and rank per bid: as recorded with the live recommendation,
    or else as they stand now (blank where they cannot be computed yet, e.g. a consensus still missing)."""
    recommendation = Recommendation.objects.filter(tender=tender, status__in=_LIVE).order_by("-id").first()
    if recommendation is not None:
        return {r["bid_id"]: r for r in recommendation.evaluation.get("results", [])}
    facts = evaluation_services.bid_facts(tender)
    prices = {f.bid_id: f.price for f in facts}
    try:
        results = scoring.evaluate(evaluation_services.rules_of(tender), facts)
    except ValueError:  # a responsive bid without an agreed score on every criterion
        return {bid_id: {"price": price} for bid_id, price in prices.items()}
    return {
        r.bid_id: {
            "technical": r.technical,
            "financial": r.financial,
            "combined": r.combined,
            "rank": r.rank,
            "price": prices.get(r.bid_id),
        }
        for r in results
    }


MATRIX_COLUMNS = [
    ("bid", lambda: _("Bid")),
    ("bidder", lambda: _("Bidder")),
    ("member", lambda: _("Member")),
    ("criterion", lambda: _("Criterion")),
    ("score", lambda: _("Score")),
    ("justification", lambda: _("Justification")),
    ("consensus", lambda: _("Consensus")),
    ("agreed", lambda: _("Agreed score")),
    ("technical", lambda: _("Technical score")),
    ("price", lambda: _("Price")),
    ("financial", lambda: _("Financial score")),
    ("combined", lambda: _("Combined score")),
    ("rank", lambda: _("Rank")),
]


def matrix_rows(tender: Tender) -> list[list]:
    """One row per member's score of a bid on a criterion, each with the bid's results; one row for a bid that
    nobody scored (not responsive, or every member recused). Numbers as ``Decimal``, blanks as ``None``."""
    matrix = evaluation_services.score_matrix(tender)
    results = _results(tender)
    rows = []
    for row in matrix["rows"]:
        bid = row["bid"]
        result = results.get(bid.pk, {})
        tail = [
            _number(result.get("technical")),
            _number(result.get("price")),
            _number(result.get("financial")),
            _number(result.get("combined")),
            result.get("rank"),
        ]
        scored = False
        for cell in row["cells"]:
            criterion = cell["criterion"]
            consensus = cell["consensus"]
            for score in cell["scores"]:
                scored = True
                rows.append(
                    [
                        bid.pk,
                        bid.vendor.legal_name,
                        str(score.member.user),
                        criterion.name,
                        score.score,
                        score.justification,
                        consensus.score if consensus else None,
                        _number(cell["agreed"]),
                        *tail,
                    ]
                )
        if not scored:
            rows.append([bid.pk, bid.vendor.legal_name, None, None, None, None, None, None, *tail])
    return rows


def _text(value) -> str:
    """A cell as text, with a leading formula character neutralised so that no spreadsheet runs it."""
    text = "" if value is None else (f"{value:f}" if isinstance(value, Decimal) else str(value))
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _attachment(response, filename: str):
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    patch_cache_control(response, private=True, no_store=True)
    return response


@login_required
def evaluation_matrix_csv(request, pk: int):
    tender = _tender(pk)
    _may_export(request, tender)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response.write("\ufeff")  # so that spreadsheets read the Arabic names as UTF-8
    writer = csv.writer(response)
    writer.writerow([label() for _key, label in MATRIX_COLUMNS])
    for row in matrix_rows(tender):
        writer.writerow([_text(value) for value in row])
    return _attachment(response, f"{tender.reference}-evaluation-matrix.csv")


@login_required
def evaluation_matrix_xlsx(request, pk: int):
    from openpyxl import Workbook

    tender = _tender(pk)
    _may_export(request, tender)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Evaluation matrix")[:31]
    sheet.append([label() for _key, label in MATRIX_COLUMNS])
    for row in matrix_rows(tender):
        sheet.append([value if isinstance(value, int | Decimal) else _text(value) for value in row])
        for cell in sheet[sheet.max_row]:
            if cell.data_type == "f":  # text that openpyxl took for a formula: keep it as text
                cell.data_type = "s"
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return _attachment(response, f"{tender.reference}-evaluation-matrix.xlsx")


_WAITING = """{% extends "base.html" %}{% load i18n %}
{% block title %}{% translate "Evaluation report" %}{% endblock %}
{% block head %}{% if not failed %}<meta http-equiv="refresh" content="{{ refresh }}">{% endif %}{% endblock %}
{% block content %}
{% if failed %}
  <h1>{% translate "The evaluation report could not be prepared" %}</h1>
  <p>{% translate "The recommendation is recorded; only its report could not be made. Try again." %}</p>
  <form method="post">{% csrf_token %}<button type="submit" class="button">{% translate "Try again" %}</button></form>
{% else %}
  <h1>{% translate "The evaluation report is being prepared" %}</h1>
  <p>{% blocktranslate trimmed with seconds=refresh %}
    This page reloads itself every {{ seconds }} seconds and the download starts when the PDF is ready.
  {% endblocktranslate %}</p>
{% endif %}
<p><a href="{{ tender.get_absolute_url }}">{% translate "Back to the tender" %}</a></p>
{% endblock %}"""


def _recused_on(user, tender: Tender) -> bool:
    from procurement.models import ConflictDeclaration

    return ConflictDeclaration.objects.filter(member__tender=tender, member__user=user, has_conflict=True).exists()


@login_required
def evaluation_report_pdf(request, pk: int):
    """The evaluation report of the tender's latest recommendation (or of ``?recommendation=<id>``) once
    rendered; until then a page that reloads itself. A failed rendering can be tried again (POST)."""
    tender = _tender(pk)
    if not request.user.has_perm("procurement.view_evaluation", tender):
        raise PermissionDenied
    if _recused_on(request.user, tender):
        # The report holds every bid's scores and justifications: a member recused from a bid never reads it.
        raise PermissionDenied
    recommendations = Recommendation.objects.filter(tender=tender).order_by("-id")
    wanted = request.GET.get("recommendation", "")
    if wanted:
        if not (wanted.isascii() and wanted.isdigit()) or len(wanted) > 18:
            raise Http404
        recommendations = recommendations.filter(pk=int(wanted))
    recommendation = recommendations.first()
    if recommendation is None:
        raise Http404
    if request.method == "POST" and not recommendation.report:
        Recommendation.objects.filter(pk=recommendation.pk).update(report_error="")
        render_evaluation_report.enqueue(recommendation.pk)
        return redirect(request.get_full_path())
    if recommendation.report:
        response = FileResponse(
            recommendation.report.open("rb"),
            as_attachment=True,
            filename=f"{tender.reference}-evaluation-report-{recommendation.pk}.pdf",
            content_type="application/pdf",
        )
        patch_cache_control(response, private=True, no_store=True)
        return response
    page = engines["django"].from_string(_WAITING)
    context = {"tender": tender, "refresh": REPORT_REFRESH_SECONDS, "failed": bool(recommendation.report_error)}
    response = HttpResponse(page.render(context, request))
    patch_cache_control(response, private=True, no_store=True)
    return response
