"""Exports of the evaluation (matrix CSV/XLSX) and its report PDF."""

urlpatterns: list = []
