"""Loading WeasyPrint, which needs system libraries (pango, pangoft2, harfbuzz-subset) and a font with
Arabic glyphs. Everything that renders a PDF goes through ``load_weasyprint`` so that a machine without
them gets one clear message instead of a stack trace from a C library loader."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

SYSTEM_PACKAGES = "libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core"


def load_weasyprint():
    try:
        import weasyprint
    except (OSError, ImportError) as error:
        raise ImproperlyConfigured(
            "PDF rendering needs WeasyPrint's system libraries, which could not be loaded "
            f"({error}). On Debian or Ubuntu install them with: apt-get install {SYSTEM_PACKAGES}"
        ) from error
    return weasyprint
