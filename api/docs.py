"""The OpenAPI description and its browsable documentation, served from our own static files (no CDN).

The Swagger UI page loads its start-up script from a separate URL instead of an inline ``<script>``, and has
no inline style, so that it works under the site's Content-Security-Policy (``script-src 'self'``).
"""

from __future__ import annotations

import threading

from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

# drf-spectacular resolves its extensions' target classes lazily and not thread-safely: two first requests at
# once could fail with a 500 (``'NoneType' object has no attribute 'startswith'``). One schema at a time.
_SCHEMA_LOCK = threading.Lock()


class SchemaView(SpectacularAPIView):
    def dispatch(self, request, *args, **kwargs):
        with _SCHEMA_LOCK:
            return super().dispatch(request, *args, **kwargs)


class DocsView(SpectacularSwaggerSplitView):
    url_name = "api:schema"
    template_name = "api/swagger_ui.html"


def only_api_paths(endpoints, **kwargs):
    """drf-spectacular preprocessing hook: describe the versioned API only."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/api/v1/")]
