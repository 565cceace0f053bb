"""Keyset pagination: pages found by the last key seen, never by OFFSET, never with COUNT(*)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

DEFAULT_PAGE_SIZE = 25


@dataclass
class KeysetPage:
    items: list[Any]
    next_cursor: str | None
    previous_cursor: str | None
    is_first: bool

    @property
    def has_other_pages(self) -> bool:
        return bool(self.next_cursor or self.previous_cursor)


def keyset_page(
    queryset: QuerySet,
    *,
    key: str,
    descending: bool = False,
    after: str | None = None,
    before: str | None = None,
    size: int = DEFAULT_PAGE_SIZE,
    to_python=str,
) -> KeysetPage:
    """One page of ``queryset`` ordered by the unique field ``key``.

    ``after`` gives the page following the item with that key, ``before`` the page preceding it.
    One query fetches ``size + 1`` rows to learn whether there is a further page.
    """
    forward_lookup = "lt" if descending else "gt"
    backward_lookup = "gt" if descending else "lt"
    order = f"-{key}" if descending else key
    reverse_order = key if descending else f"-{key}"

    def cursor_value(raw):
        try:
            return to_python(raw)
        except (TypeError, ValueError):
            return None

    going_back = False
    if before is not None and cursor_value(before) is not None:
        rows = list(
            queryset.filter(**{f"{key}__{backward_lookup}": cursor_value(before)}).order_by(reverse_order)[: size + 1]
        )
        going_back = True
    elif after is not None and cursor_value(after) is not None:
        rows = list(queryset.filter(**{f"{key}__{forward_lookup}": cursor_value(after)}).order_by(order)[: size + 1])
    else:
        rows = list(queryset.order_by(order)[: size + 1])
        after = None

    more = len(rows) > size
    rows = rows[:size]
    if going_back:
        rows.reverse()
        next_cursor = str(getattr(rows[-1], key)) if rows else None
        previous_cursor = str(getattr(rows[0], key)) if rows and more else None
        is_first = not more
    else:
        next_cursor = str(getattr(rows[-1], key)) if rows and more else None
        previous_cursor = str(getattr(rows[0], key)) if rows and after is not None else None
        is_first = after is None
    return KeysetPage(items=rows, next_cursor=next_cursor, previous_cursor=previous_cursor, is_first=is_first)
