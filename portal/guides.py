"""The guides that teach vendors and citizens to use the portal, and the real pages their screenshots show.

``manage.py guide_screenshots`` renders each ``Screenshot`` from the demo data, in English and in Arabic, into
``static/guides/<language>/<name>.png``; the guide templates show them with their ``alt`` text.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Guide:
    slug: str
    title: str
    summary: str
    audience: str


GUIDES = (
    Guide(
        "register",
        _("Register your company"),
        _("Open an account for your company and have it verified."),
        _("Vendors"),
    ),
    Guide(
        "bid",
        _("Find a tender and submit a bid"),
        _("Read a tender, ask a question and send a sealed bid."),
        _("Vendors"),
    ),
    Guide("sign", _("Sign your contract"), _("Sign the contract PDF with your personal signing key."), _("Vendors")),
    Guide(
        "track",
        _("Follow tenders, contracts and the programme"),
        _("See what every agency buys, who won, and how the work is delivered."),
        _("Citizens"),
    ),
)
GUIDE_SLUGS = frozenset(guide.slug for guide in GUIDES)


@dataclass(frozen=True)
class Screenshot:
    """A real page of the demo: its name, who is signed in (a demo account, or nobody) and how to find it."""

    name: str
    page: str
    account: str | None = None


#: ``page`` names a function of ``portal.management.commands.guide_screenshots`` that finds the path.
SCREENSHOTS = (
    Screenshot("register", "register"),
    Screenshot("tenders", "tender_list"),
    Screenshot("tender", "tender"),
    Screenshot("bids", "bids", account="vendor@demo.gov"),
    Screenshot("contract", "vendor_contract", account="vendor@demo.gov"),
    Screenshot("home", "home"),
    Screenshot("public-contract", "public_contract"),
)
