"""Routes of the JSON API's opening, evaluation, award and complaint endpoints (included by api/urls.py)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
