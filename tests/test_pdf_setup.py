import builtins

import pytest
from django.core.exceptions import ImproperlyConfigured

from core.pdf import SYSTEM_PACKAGES, load_weasyprint


def test_weasyprint_loads_with_the_system_libraries_installed():
    weasyprint = load_weasyprint()
    pdf = weasyprint.HTML(string='<html lang="ar" dir="rtl"><body><p>عقد شراكة Contract</p></body></html>').write_pdf()
    assert pdf.startswith(b"%PDF-")


def test_missing_libraries_give_a_clear_message(monkeypatch):
    real_import = builtins.__import__

    def failing_import(name, *args, **kwargs):
        if name == "weasyprint":
            raise OSError("cannot load library 'libpango-1.0-0'")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(__import__("sys").modules, "weasyprint", raising=False)
    monkeypatch.setattr(builtins, "__import__", failing_import)
    with pytest.raises(ImproperlyConfigured) as error:
        load_weasyprint()
    assert SYSTEM_PACKAGES in str(error.value)
    assert "libpango" in str(error.value)
