"""Keyset (cursor) pagination: each page is found from the last key seen, never by OFFSET or COUNT(*)."""

from __future__ import annotations

from rest_framework.pagination import CursorPagination


class KeysetPagination(CursorPagination):
    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class AuditEventPagination(KeysetPagination):
    ordering = "-sequence"
