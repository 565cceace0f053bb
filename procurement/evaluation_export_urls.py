"""Exports of the evaluation (matrix CSV/XLSX) and its report PDF."""

from django.urls import path

from procurement import evaluation_exports

urlpatterns = [
    path(
        "tenders/<int:pk>/evaluation/matrix.csv",
        evaluation_exports.evaluation_matrix_csv,
        name="evaluation_matrix_csv",
    ),
    path(
        "tenders/<int:pk>/evaluation/matrix.xlsx",
        evaluation_exports.evaluation_matrix_xlsx,
        name="evaluation_matrix_xlsx",
    ),
    path(
        "tenders/<int:pk>/evaluation/report.pdf",
        evaluation_exports.evaluation_report_pdf,
        name="evaluation_report_pdf",
    ),
]
