"""Routes of the JSON API's tenders resources and transitions (included by api/urls.py)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
