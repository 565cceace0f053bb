"""RSS and Atom feeds of newly published tenders and newly signed contracts: all agencies, or one by its code."""

from __future__ import annotations

from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _

from core.i18n import localized
from core.templatetags.core import money
from portal.selectors import public_contracts
from procurement.models import Agency, Tender

FEED_SIZE = 50


class NewTendersFeed(Feed):
    """The 50 tenders published most recently, newest first."""

    def title(self) -> str:
        return _("New tenders of every agency")

    def link(self) -> str:
        return reverse("portal:tender_list")

    def description(self) -> str:
        return _("Tenders newly published on the public procurement portal, by every ministry and agency.")

    def tenders(self):
        return (
            Tender.objects.public()
            .filter(published_at__isnull=False)
            .select_related("agency")
            .order_by("-published_at", "-pk")
        )

    def items(self):
        return self.tenders()[:FEED_SIZE]

    def item_title(self, item: Tender) -> str:
        return f"{item.reference} — {item.title}"

    def item_link(self, item: Tender) -> str:
        return item.get_public_url()

    def item_description(self, item: Tender) -> str:
        deadline = timezone.localtime(item.submission_deadline)
        return _("Agency: %(agency)s. Bids until %(deadline)s (UTC%(offset)s). Estimated value: %(value)s.") % {
            "agency": item.agency.name,
            "deadline": format_date(deadline, "Y-m-d H:i"),
            "offset": format_date(deadline, "O"),
            "value": money(item.estimated_value, item.currency),
        }

    def item_pubdate(self, item: Tender):
        return item.published_at

    def item_updateddate(self, item: Tender):
        return item.updated_at

    def item_author_name(self, item: Tender) -> str:
        return item.agency.name

    def item_categories(self, item: Tender) -> list[str]:
        return [item.get_category_display()]


class NewTendersAtomFeed(NewTendersFeed):
    feed_type = Atom1Feed

    def subtitle(self) -> str:
        return self.description()


class AgencyTendersFeed(NewTendersFeed):
    """The same, for one agency (``/feeds/agencies/MCIT/tenders.rss``)."""

    def get_object(self, request, code: str) -> Agency:
        return get_object_or_404(Agency, code=code)

    def title(self, obj: Agency) -> str:
        return _("New tenders of %(agency)s") % {"agency": obj.name}

    def link(self, obj: Agency) -> str:
        return f"{reverse('portal:tender_list')}?agency={obj.code}"

    def description(self, obj: Agency) -> str:
        return _("Tenders newly published on the public procurement portal by %(agency)s.") % {"agency": obj.name}

    def items(self, obj: Agency):
        return self.tenders().filter(agency=obj)[:FEED_SIZE]


class AgencyTendersAtomFeed(AgencyTendersFeed):
    feed_type = Atom1Feed

    def subtitle(self, obj: Agency) -> str:
        return self.description(obj)


# Awards ------------------------------------------------------------------------------------------


class NewAwardsFeed(Feed):
    """The 50 contracts signed most recently (a contract is public once both parties have signed it)."""

    def title(self) -> str:
        return _("New contracts awarded by every agency")

    def link(self) -> str:
        return reverse("portal:search")

    def description(self) -> str:
        return _("Contracts newly signed with private partners, by every ministry and agency.")

    def contracts(self):
        return public_contracts().filter(activated_at__isnull=False).order_by("-activated_at", "-pk")

    def items(self):
        return self.contracts()[:FEED_SIZE]

    def item_title(self, item) -> str:
        return f"{item.tender.reference} — {localized(item, 'title')}"

    def item_link(self, item) -> str:
        return reverse("portal:contract_detail", args=[item.number])

    def item_description(self, item) -> str:
        return _("Agency: %(agency)s. Contractor: %(vendor)s. Value: %(value)s.") % {
            "agency": item.agency.name,
            "vendor": item.vendor.legal_name,
            "value": money(item.value, item.currency),
        }

    def item_pubdate(self, item):
        return item.activated_at

    def item_author_name(self, item) -> str:
        return item.agency.name


class NewAwardsAtomFeed(NewAwardsFeed):
    feed_type = Atom1Feed

    def subtitle(self) -> str:
        return self.description()


class AgencyAwardsFeed(NewAwardsFeed):
    """The same, for one agency (``/feeds/agencies/MCIT/awards.rss``)."""

    def get_object(self, request, code: str) -> Agency:
        return get_object_or_404(Agency, code=code)

    def title(self, obj: Agency) -> str:
        return _("New contracts awarded by %(agency)s") % {"agency": obj.name}

    def link(self, obj: Agency) -> str:
        return reverse("portal:agency_detail", args=[obj.code])

    def description(self, obj: Agency) -> str:
        return _("Contracts newly signed with private partners by %(agency)s.") % {"agency": obj.name}

    def items(self, obj: Agency):
        return self.contracts().filter(agency=obj)[:FEED_SIZE]


class AgencyAwardsAtomFeed(AgencyAwardsFeed):
    feed_type = Atom1Feed

    def subtitle(self, obj: Agency) -> str:
        return self.description(obj)
