"""What the system tells people: an in-app list, and the same message by e-mail in their language."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from notifications.messages import render_message


class NotificationQuerySet(models.QuerySet):
    def for_user(self, user) -> NotificationQuerySet:
        return self.filter(recipient=user)

    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=60)
    tender = models.ForeignKey(
        "procurement.Tender", on_delete=models.PROTECT, null=True, blank=True, related_name="notifications"
    )
    context = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-id"]
        indexes = [models.Index(fields=["recipient", "read_at", "id"], name="notification_inbox")]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient_id}"

    @property
    def subject(self) -> str:
        return render_message(self.kind, self.tender, self.context)[0]

    @property
    def body(self) -> str:
        return render_message(self.kind, self.tender, self.context)[1]

    def _vendor_link(self) -> str:
        """Vendor notifications lead members to their company page and staff to the vendor's record."""
        vendor_id = self.context.get("vendor_id")
        if not self.kind.startswith("vendor.") or not isinstance(vendor_id, int):
            return ""
        from django.urls import NoReverseMatch, reverse

        try:
            if getattr(getattr(self.recipient, "vendor_membership", None), "vendor_id", None) == vendor_id:
                return reverse("vendors:company", args=[vendor_id])
            return reverse("vendors:vendor_detail", args=[vendor_id])
        except NoReverseMatch:
            return ""

    def _bid_link(self) -> str:
        """Bid notifications lead the vendor's people to their latest bid on the tender."""
        vendor_id = getattr(getattr(self.recipient, "vendor_membership", None), "vendor_id", None)
        if vendor_id is None:
            return ""
        from django.urls import NoReverseMatch

        from procurement.models import Bid

        bid = Bid.objects.filter(tender=self.tender, vendor_id=vendor_id).order_by("-id").first()
        if bid is None:
            return ""
        try:
            return bid.get_absolute_url()
        except NoReverseMatch:
            return ""

    def _sealed_bids_link(self) -> str:
        """The page a notification about sealed bids is for, or "" to fall back on the tender's page."""
        from django.urls import NoReverseMatch, reverse

        if self.kind.startswith("bid."):
            return self._bid_link()
        names = {
            "opening.key_needed": ("accounts:personal_key", []),
            "opening.awaiting_second": ("procurement:opening_ceremony", [self.tender.pk]),
            "tender.bids_opened": ("procurement:opening_record", [self.tender.pk]),
        }
        if self.kind not in names:
            return ""
        name, args = names[self.kind]
        try:
            return reverse(name, args=args)
        except NoReverseMatch:
            return ""

    #: The pages of the evaluation and award a notification leads to, first the page for the tender's staff and
    #: committee, then the page for bidders; each a list of URL names tried in turn (the first that exists).
    EVALUATION_PAGES = {
        "evaluation.appointed": (["procurement:evaluation_workspace"], None),
        "evaluation.started": (["procurement:evaluation_workspace"], None),
        "evaluation.member_recused": (["procurement:evaluation_committee", "procurement:evaluation_workspace"], None),
        "evaluation.all_scores_in": (["procurement:evaluation_workspace"], None),
        "evaluation.none_qualified": (["procurement:evaluation_workspace"], None),
        "award.recommended": (["procurement:award_detail"], None),
        "award.returned": (["procurement:evaluation_workspace"], None),
        "award.result": (None, ["procurement:award_results", "procurement:evaluation_results"]),
        "complaint.filed": (["procurement:complaint_list", "procurement:award_detail"], None),
        "complaint.upheld": (
            ["procurement:evaluation_workspace"],
            ["procurement:award_results", "procurement:evaluation_results"],
        ),
        "complaint.dismissed": (None, ["procurement:award_results", "procurement:evaluation_results"]),
        "tender.awarded": (
            ["procurement:award_detail"],
            ["procurement:award_results", "procurement:evaluation_results"],
        ),
    }

    def _evaluation_link(self) -> str:
        """The evaluation or award page a notification is about, or "" to fall back on the tender's page."""
        from django.urls import NoReverseMatch, reverse

        pages = self.EVALUATION_PAGES.get(self.kind)
        if pages is None:
            return ""
        staff_pages, bidder_pages = pages
        is_bidder = getattr(self.recipient, "vendor_membership", None) is not None
        for name in (bidder_pages if is_bidder else staff_pages) or []:
            try:
                return reverse(name, args=[self.tender.pk])
            except NoReverseMatch:
                continue
        return ""

    def _contract_link(self) -> str:
        """The contract's page (or its amendment's) for the contract's notifications."""
        from django.urls import NoReverseMatch, reverse

        if not self.kind.startswith("contract.") or not self.context.get("contract_id"):
            return ""
        try:
            if self.context.get("amendment"):
                return reverse(
                    "contracts:amendment_detail", args=[self.context["contract_id"], self.context["amendment"]]
                )
            return reverse("contracts:contract_detail", args=[self.context["contract_id"]])
        except NoReverseMatch:
            return ""

    @property
    def link(self) -> str:
        """The page about the bid, the opening, the evaluation or the award for those notifications; otherwise
        the tender's internal page for its staff and its public page for everyone else (vendors)."""
        if self.tender is None:
            return self._vendor_link()
        special = self._contract_link() or self._sealed_bids_link() or self._evaluation_link()
        if special:
            return special
        if self.recipient.has_perm("procurement.view_tender_internals", self.tender):
            return self.tender.get_absolute_url()
        return self.tender.get_public_url()
