"""Desk items made the way the public makes them: through ``desk.services.item_submit``."""

from __future__ import annotations

import itertools

from desk import services
from desk.models import DeskItem

_addresses = itertools.count(1)


def submit(*, agency, kind: str = "inquiry", language: str = "en", **overrides) -> tuple[DeskItem, str]:
    """An item about one of ``agency``'s services, each from its own address (so no test trips the throttle)."""
    number = next(_addresses)
    fields = {
        "kind": kind,
        "topic": "service",
        "agency": agency,
        "subject": "Renewing a commercial licence online",
        "message": "How do I renew my commercial licence on the portal?",
        "sender_name": "Huda Salem",
        "sender_email": f"sender{number}@example.com",
        "language": language,
        "address": f"198.51.100.{number % 250}",
        **overrides,
    }
    return services.item_submit(**fields)
