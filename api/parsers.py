"""A JSON parser that refuses oversized bodies (413) before reading them."""

from __future__ import annotations

import codecs
import json

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from api.exceptions import PayloadTooLarge


def max_body_bytes() -> int:
    """The largest JSON body the API accepts: ``API_MAX_BODY_BYTES``, or Django's own request limit."""
    return getattr(settings, "API_MAX_BODY_BYTES", None) or settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2_621_440


class LimitedJSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = max_body_bytes()
        request = (parser_context or {}).get("request")
        if request is not None:
            try:
                declared = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                declared = 0
            if declared > limit:
                raise PayloadTooLarge()
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLarge()
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.decode(raw, encoding)
            return json.loads(text, parse_constant=_refuse_constant)
        except (ValueError, LookupError) as error:
            raise ParseError(f"JSON parse error - {error}") from error


def _refuse_constant(name: str):
    """NaN and Infinity are not JSON."""
    raise ValueError(f"{name} is not valid JSON")


class CappedMultiPartParser(parsers.MultiPartParser):
    """A multipart upload larger than ``max_files`` files of the largest accepted size (and a margin for the
    form's fields) is refused (413) before it is read, so before any permission check can be reached with it."""

    max_files = 1

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
        except ValueError:
            declared = 0
        if declared > self.max_files * settings.UPLOAD_MAX_BYTES + 64 * 1024:
            raise PayloadTooLarge()
        return super().parse(stream, media_type, parser_context)
