from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.simple_tag(takes_context=True)
def query_replace(context, **changes) -> str:
    """The current query string with some parameters replaced (None removes one)."""
    query = context["request"].GET.copy()
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    return query.urlencode()


@register.filter
def money(value, currency: str = "") -> str:
    if value is None:
        return ""
    return f"{value:,.2f} {currency}".strip()


_STATUS_LABELS = {
    "upcoming": lambda: _("Upcoming"),
    "in_progress": lambda: _("In progress"),
    "completed": lambda: _("Completed"),
}


@register.filter
def status_label(value: str) -> str:
    label = _STATUS_LABELS.get(str(value))
    return label() if label else str(value)


@register.filter
def pretty_json(value) -> str:
    """A JSON value indented for reading (autoescaped by the template)."""
    import json

    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)
