from django import template

from core.i18n import is_arabic, localized

register = template.Library()


@register.filter
def bilingual(obj, field: str) -> str:
    """``obj.<field>_en`` or ``obj.<field>_ar``, in the page's language (falling back to the other)."""
    return localized(obj, field)


@register.filter
def member_name(member: dict) -> str:
    """A consortium member's name as the contract recorded it (``{"name_en": …, "name_ar": …}``)."""
    first, second = ("name_ar", "name_en") if is_arabic() else ("name_en", "name_ar")
    return member.get(first) or member.get(second) or ""
