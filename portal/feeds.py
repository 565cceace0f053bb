"""RSS and Atom feeds of newly published tenders: all agencies, or one agency by its code."""

from __future__ import annotations

from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _

from core.templatetags.core import money
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
