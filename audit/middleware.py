"""Auditors' access is itself part of the record.

Every page or download an auditor opens is logged (``audit.page_viewed``), unless the view logged its own, more
specific event (it sets ``request.audit_view_logged``: the trail, exports, bundles, documents). Every attempt by
an auditor to change something — which the views, the admin and the API refuse, since the auditor role holds no
change permission — is logged as ``audit.change_refused`` with the method, path and answer. A refused request
is logged whatever the view did, so that no refusal escapes the log.

The event is written after the response is built, in its own transaction: a refused request has already been
rolled back, and a failure to log never turns a page into an error for anyone but an auditor.
"""

from __future__ import annotations

import re

from accounts.roles import Role
from audit.services import audit_event_append

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Answers that mean "you may not" (403), "not this way" (405), or the admin's redirect to its own sign-in page.
REFUSED = frozenset({401, 403, 405})
MAX_QUERY = 500


#: Addresses that carry a secret in their path (the desk's private tracking links): logged without it.
_SECRET_IN_PATH = re.compile(r"(/desk/track/[^/]+/)[^/]+")


def _redacted(path: str) -> str:
    return _SECRET_IN_PATH.sub(r"\1…", path)


class AuditorAccessMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.has_role(Role.AUDITOR):
            return response
        path = request.path
        admin = "/admin/" in path
        details = {
            "method": request.method,
            "path": _redacted(path)[:500],
            "query": request.META.get("QUERY_STRING", "")[:MAX_QUERY],
            "status": response.status_code,
        }
        if request.method not in SAFE_METHODS:
            refused = response.status_code in REFUSED or (admin and not user.is_staff)
            if refused:
                audit_event_append(action="audit.change_refused", actor=user, payload=details)
        elif not getattr(request, "audit_view_logged", False):
            audit_event_append(action="audit.page_viewed", actor=user, payload=details)
        return response
