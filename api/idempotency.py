"""``Idempotency-Key`` for POSTs: a retried request gets the first answer, never a second effect.

A view opts in by decorating its ``post`` with :func:`idempotent` (or calls :func:`run_idempotently` itself when
the person is known only inside the view, as on the token endpoint). The first request with a key inserts the
record, performs the action and stores the answer in the same transaction; a second request with the same key
waits on the record's unique constraint until the first has committed, then replays the stored answer
(``Idempotent-Replayed: true``). The same key with a different body is refused (422). Only successful answers
are stored: a refused request leaves nothing behind and may be corrected and sent again with the same key.

Records are kept ``API_IDEMPOTENCY_RETENTION_HOURS``: a retry after that is a new request. The deadline scheduler
deletes the older ones (:func:`purge_expired_idempotency_records`, also ``manage.py purge_idempotency_keys``).
"""

from __future__ import annotations

import datetime
import functools
import json
import re
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from api.models import IdempotencyRecord
from api.problems import PROBLEM_CONTENT_TYPE, problem, problem_response

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
#: Expired records deleted per statement by the purge (each batch is its own short transaction).
PURGE_BATCH_SIZE = 1000
_KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")


def retention() -> datetime.timedelta:
    """How long an answer is kept for the retries of its request; a retry after that is a new request."""
    return datetime.timedelta(hours=settings.API_IDEMPOTENCY_RETENTION_HOURS)


def purge_expired_idempotency_records(
    *, now: datetime.datetime | None = None, batch_size: int = PURGE_BATCH_SIZE
) -> int:
    """Delete the records older than the retention, ``batch_size`` rows at a time (by the ``created_at`` index),
    so that no statement holds many row locks or a long transaction; return how many were deleted."""
    cutoff = (now or timezone.now()) - retention()
    expired = IdempotencyRecord.objects.filter(created_at__lt=cutoff)
    deleted = 0
    while True:
        batch = list(expired.order_by("created_at").values_list("pk", flat=True)[:batch_size])
        if not batch:
            return deleted
        count, _by_model = IdempotencyRecord.objects.filter(pk__in=batch, created_at__lt=cutoff).delete()
        deleted += count
        if len(batch) < batch_size:
            return deleted


def request_fingerprint(body: bytes) -> str:
    """A keyed SHA-256 of the body: it identifies the body without letting anyone brute-force a password in it."""
    return salted_hmac("api.idempotency", body, algorithm="sha256").hexdigest()


def _is_multipart(request) -> bool:
    return (request.content_type or "").startswith("multipart/form-data")


def _fingerprinted_body(request) -> bytes:
    """What identifies the request's body: the raw bytes, or for a multipart upload its fields and each file's
    name, size and SHA-256 (a client's retry picks a new boundary, and files are not held in memory)."""
    if not _is_multipart(request):
        return request.body
    import hashlib

    parts = []
    for name, values in sorted(request.data.lists()):
        for value in values:
            if hasattr(value, "chunks"):
                digest = hashlib.sha256()
                for chunk in value.chunks():
                    digest.update(chunk)
                value.seek(0)
                parts.append([name, value.name, value.size, digest.hexdigest()])
            else:
                parts.append([name, str(value)])
    return json.dumps(parts, ensure_ascii=False).encode()


def idempotency_key(request) -> str | None:
    return request.headers.get(HEADER)


def run_idempotently(request, *, user, perform: Callable[[], Response], withheld_fields: tuple[str, ...] = ()):
    """Perform ``perform`` at most once for ``user`` and the request's ``Idempotency-Key``.

    ``withheld_fields`` are top-level fields of the answer that are never stored (a secret shown once): a
    replay gives them as null.
    """
    key = idempotency_key(request)
    if key is None:
        return perform()
    if not _KEY_PATTERN.match(key):
        return problem_response(
            request,
            status_code=status.HTTP_400_BAD_REQUEST,
            code="invalid_idempotency_key",
            title=_("The Idempotency-Key header is not valid."),
            detail=_("Use 1 to 255 visible ASCII characters, e.g. a UUID."),
        )
    fingerprint = request_fingerprint(_fingerprinted_body(request))
    error: Exception | None = None
    # The record's row is held from its creation to the stored answer: a concurrent request with the same key
    # waits on it, then replays the answer.
    with transaction.atomic():
        IdempotencyRecord.objects.filter(user=user, key=key, created_at__lt=timezone.now() - retention()).delete()
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    user=user, key=key, method=request.method, path=request.path[:500], request_fingerprint=fingerprint
                )
        except IntegrityError:
            record = IdempotencyRecord.objects.select_for_update().get(user=user, key=key)
            return _replay(request, record, fingerprint)
        try:
            response = perform()
        except Exception as exc:
            if transaction.get_rollback():  # the transaction itself is broken: nothing of it can be kept
                raise
            error = exc
        if error is not None or not status.is_success(response.status_code):
            # A refusal is not remembered (the request may be corrected and sent again with the same key).
            # The services roll back their own work when they refuse, and what they keep on purpose — the
            # audit record of a refusal, written in a transaction of its own — must stay: so this transaction
            # commits, without the record.
            record.delete()
        else:
            body = response.data
            if isinstance(body, dict) and withheld_fields:
                body = {name: (None if name in withheld_fields else value) for name, value in body.items()}
            record.response_status = response.status_code
            record.response_body = _json_safe(body)
            record.save(update_fields=["response_status", "response_body"])
    if error is not None:
        raise error
    return response


def _json_safe(data):
    """The answer as the JSON renderer would write it (dates, decimals and UUIDs as text)."""
    return json.loads(json.dumps(data, cls=JSONEncoder))


def _replay(request, record: IdempotencyRecord, fingerprint: str) -> Response:
    if (
        record.method != request.method
        or record.path != request.path[:500]
        or record.request_fingerprint != fingerprint
    ):
        return Response(
            problem(
                status_code=status.HTTP_422_UNPROCESSABLE_ENTITY,
                code="idempotency_key_reused",
                title=_("This Idempotency-Key was used for a different request."),
                detail=_("Send a new Idempotency-Key with a changed request."),
                instance=request.path,
            ),
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
            content_type=PROBLEM_CONTENT_TYPE,
        )
    if record.response_status is None:  # cannot be seen outside its transaction; defensive
        return problem_response(
            request,
            status_code=status.HTTP_409_CONFLICT,
            code="idempotency_in_progress",
            title=_("A request with this Idempotency-Key is still being processed."),
            detail=_("Try again in a moment."),
        )
    replay = Response(record.response_body, status=record.response_status, headers={REPLAYED_HEADER: "true"})
    # One caller's stored answer: never kept by a browser or a proxy (the first answer may have said so too).
    patch_cache_control(replay, private=True, no_store=True)
    return replay


def idempotent(method=None, *, withheld_fields: tuple[str, ...] = ()):
    """Decorate a view's ``post`` so that it runs at most once per caller and ``Idempotency-Key``::

    class TenderTransitionView(APIView):
        @idempotent
        def post(self, request, pk, name): ...
    """

    def decorate(view_method):
        @functools.wraps(view_method)
        def wrapper(self, request, *args, **kwargs):
            if idempotency_key(request) is not None and not _is_multipart(request):
                _read_raw_body(request)
            return run_idempotently(
                request,
                user=request.user,
                perform=lambda: view_method(self, request, *args, **kwargs),
                withheld_fields=withheld_fields,
            )

        return wrapper

    return decorate(method) if method is not None else decorate


def _read_raw_body(request) -> None:
    """Keep the raw body (Django caches it) before DRF's parsers consume the stream, to fingerprint it."""
    request._request.body  # noqa: B018


class IdempotentPostMixin:
    """For a view that reads ``request.data`` before it calls :func:`run_idempotently` itself (the token
    endpoint must check the password first): reads the raw body before anything else does."""

    def initial(self, request, *args, **kwargs):
        if request.method == "POST" and idempotency_key(request) is not None:
            _read_raw_body(request)
        super().initial(request, *args, **kwargs)
