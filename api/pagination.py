"""Keyset (cursor) pagination: each page is found from the last key seen, never by OFFSET or COUNT(*)."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination

_INTEGER = re.compile(r"-?[0-9]+")


class KeysetPagination(CursorPagination):
    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        # The schema says ``page_size`` is one integer: anything else is a 400, not silently the default size.
        values = request.query_params.getlist(self.page_size_query_param)
        if len(values) > 1 or (values and not _INTEGER.fullmatch(values[0])):
            raise ValidationError({self.page_size_query_param: [_("Send one whole number.")]})
        return super().get_page_size(request)


class AuditEventPagination(KeysetPagination):
    ordering = "-sequence"
