"""Bilingual fields: every record that people read has an Arabic and an English text."""

from django.utils.translation import get_language


def is_arabic() -> bool:
    return (get_language() or "en").startswith("ar")


def localized(obj, field: str) -> str:
    """The text of ``field`` in the active language, falling back to the other one."""
    arabic = getattr(obj, f"{field}_ar", "") or ""
    english = getattr(obj, f"{field}_en", "") or ""
    if is_arabic():
        return arabic or english
    return english or arabic


class BilingualNameMixin:
    """Gives models with ``name_ar``/``name_en`` a ``name`` in the active language."""

    @property
    def name(self) -> str:
        return localized(self, "name")

    def __str__(self) -> str:
        return self.name
