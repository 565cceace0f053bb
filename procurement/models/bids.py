"""Sealed bids: the opening committee and its key shares, bids with their versions, sealed envelopes and
files, receipts, and the opening ceremony.

What is stored before opening is ciphertext and hashes only (see ``procurement/sealing.py``): a bid's
prices, lines, answers and documents exist in readable form nowhere but in the vendor's own draft, which is
itself encrypted with a server key while it is being prepared and erased when the bid is submitted. Every
write goes through ``procurement/bid_services.py`` or ``procurement/opening_services.py``.
"""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from procurement.models.tenders import ProtectedStateMixin, Tender


class OpeningCommitteeMember(models.Model):
    """A person named, before publication, to hold a share of the tender's key and open its bids."""

    tender = models.ForeignKey(Tender, on_delete=models.PROTECT, related_name="opening_committee")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("member"), on_delete=models.PROTECT, related_name="opening_seats"
    )
    nominated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    nominated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("opening committee member")
        verbose_name_plural = _("opening committee members")
        ordering = ["tender", "nominated_at", "id"]
        constraints = [models.UniqueConstraint(fields=["tender", "user"], name="opening_member_once")]
        indexes = [models.Index(fields=["user", "tender"], name="opening_member_user")]

    def __str__(self) -> str:
        return f"{self.tender} · {self.user}"

    def audit_scope(self) -> dict:
        return self.tender.audit_scope()


class TenderKey(models.Model):
    """The tender's public key (bids are sealed to it) and its private key encrypted under a key-encryption
    key that exists only as Shamir shares: one per committee member (below) and one recovery share that was
    shown once to the approver who published the tender and is stored nowhere."""

    tender = models.OneToOneField(Tender, on_delete=models.PROTECT, related_name="sealing_key")
    public_key = models.BinaryField(max_length=32)
    fingerprint = models.CharField(_("fingerprint"), max_length=64, unique=True)
    encrypted_private_key = models.BinaryField()
    threshold = models.PositiveSmallIntegerField(default=2)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("tender key")
        verbose_name_plural = _("tender keys")

    def __str__(self) -> str:
        return f"{self.tender} · {self.fingerprint[:16]}"

    def audit_scope(self) -> dict:
        return self.tender.audit_scope()


class TenderKeyShare(models.Model):
    """One member's share of the tender key, encrypted to that member's personal public key."""

    tender_key = models.ForeignKey(TenderKey, on_delete=models.PROTECT, related_name="shares")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    personal_key = models.ForeignKey("accounts.PersonalKey", on_delete=models.PROTECT, related_name="+")
    blob = models.BinaryField()

    class Meta:
        verbose_name = _("key share")
        verbose_name_plural = _("key shares")
        constraints = [models.UniqueConstraint(fields=["tender_key", "member"], name="tender_key_share_once")]

    def __str__(self) -> str:
        return f"{self.tender_key} · {self.member}"


class BidStatus(models.TextChoices):
    DRAFT = "draft", _("Draft (not submitted)")
    SUBMITTED = "submitted", _("Submitted (sealed)")
    NEEDS_RECONFIRMATION = "needs_reconfirmation", _("Needs re-confirmation after an addendum")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    OPENED = "opened", _("Opened")
    DISQUALIFIED = "disqualified", _("Disqualified")
    QUALIFIED = "qualified", _("Qualified")
    AWARDED = "awarded", _("Awarded")
    NOT_AWARDED = "not_awarded", _("Not awarded")


#: A bid in these states is the vendor's one live bid on the tender.
LIVE_BID_STATES = [s for s in BidStatus.values if s != BidStatus.WITHDRAWN]
#: Sealed: submitted and not yet opened.
SEALED_STATES = [BidStatus.SUBMITTED, BidStatus.NEEDS_RECONFIRMATION]


class Bid(ProtectedStateMixin, models.Model):
    """A vendor's bid on a tender: the draft it is preparing and the sealed versions it has submitted."""

    tender = models.ForeignKey(Tender, verbose_name=_("tender"), on_delete=models.PROTECT, related_name="bids")
    vendor = models.ForeignKey(
        "vendors.Vendor", verbose_name=_("bidder"), on_delete=models.PROTECT, related_name="bids"
    )
    status = FSMField(_("status"), max_length=24, choices=BidStatus.choices, default=BidStatus.DRAFT, protected=True)
    version = models.PositiveIntegerField(_("submitted version"), default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    opened_at = models.DateTimeField(_("opened"), null=True, blank=True)
    disqualification_reason = models.TextField(_("reason for disqualification"), blank=True)
    #: The draft being prepared (first submission or a modification), as a token encrypted with a key
    #: derived from the server's secret key; erased when it is submitted. Never the sealed bid.
    draft = models.TextField(blank=True, editable=False)
    draft_saved_at = models.DateTimeField(_("draft saved"), null=True, blank=True)

    class Meta:
        verbose_name = _("bid")
        verbose_name_plural = _("bids")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tender", "vendor"], condition=~Q(status=BidStatus.WITHDRAWN), name="bid_one_live_per_vendor"
            )
        ]
        indexes = [
            models.Index(fields=["tender", "status", "id"], name="bid_tender_status"),
            models.Index(fields=["vendor", "id"], name="bid_vendor"),
        ]

    def __str__(self) -> str:
        return _("Bid %(id)s by %(vendor)s") % {"id": self.pk, "vendor": self.vendor}

    def get_absolute_url(self) -> str:
        return reverse("procurement:bid_detail", args=[self.pk])

    def audit_scope(self) -> dict:
        return self.tender.audit_scope()

    @property
    def is_sealed(self) -> bool:
        return self.status in SEALED_STATES

    @property
    def has_draft(self) -> bool:
        return bool(self.draft)

    @property
    def is_editable(self) -> bool:
        """A first draft, or a submitted bid whose modification has been started."""
        return self.status == BidStatus.DRAFT or (self.status in SEALED_STATES and self.has_draft)

    def current_version(self) -> BidVersion | None:
        return self.versions.filter(number=self.version).first() if self.version else None

    @transition(field=status, source=[BidStatus.DRAFT, *SEALED_STATES], target=BidStatus.SUBMITTED)
    def submit(self, *, now: datetime.datetime) -> None:
        self.version += 1
        self.submitted_at = now
        self.draft = ""
        self.draft_saved_at = None

    @transition(field=status, source=BidStatus.NEEDS_RECONFIRMATION, target=BidStatus.SUBMITTED)
    def reconfirm(self) -> None:
        pass

    @transition(field=status, source=BidStatus.SUBMITTED, target=BidStatus.NEEDS_RECONFIRMATION)
    def require_reconfirmation(self) -> None:
        pass

    @transition(field=status, source=[BidStatus.DRAFT, *SEALED_STATES], target=BidStatus.WITHDRAWN)
    def withdraw(self, *, now: datetime.datetime) -> None:
        self.withdrawn_at = now
        self.draft = ""
        self.draft_saved_at = None

    @transition(field=status, source=BidStatus.SUBMITTED, target=BidStatus.OPENED)
    def open(self, *, now: datetime.datetime) -> None:
        self.opened_at = now

    @transition(field=status, source=BidStatus.OPENED, target=BidStatus.QUALIFIED)
    def qualify(self) -> None:
        self.disqualification_reason = ""

    @transition(field=status, source=[BidStatus.OPENED, BidStatus.QUALIFIED], target=BidStatus.DISQUALIFIED)
    def disqualify(self, *, reason: str) -> None:
        self.disqualification_reason = reason

    @transition(field=status, source=[BidStatus.QUALIFIED, BidStatus.DISQUALIFIED], target=BidStatus.OPENED)
    def reopen(self) -> None:
        """An upheld complaint: the bid is evaluated again (compliance, scores, conclusion)."""
        self.disqualification_reason = ""

    @transition(field=status, source=BidStatus.QUALIFIED, target=BidStatus.AWARDED)
    def award(self) -> None:
        pass

    @transition(field=status, source=BidStatus.QUALIFIED, target=BidStatus.NOT_AWARDED)
    def lose(self) -> None:
        pass


class BidConsortiumMember(models.Model):
    """A member of the consortium that the bid's vendor leads, with its share of the work (%)."""

    bid = models.ForeignKey(Bid, on_delete=models.PROTECT, related_name="consortium_members")
    vendor = models.ForeignKey("vendors.Vendor", verbose_name=_("member"), on_delete=models.PROTECT, related_name="+")
    share = models.DecimalField(
        _("share (%)"),
        max_digits=5,
        decimal_places=2,
        validators=[
            MinValueValidator(Decimal("0.01"), message=_("A member's share is more than 0%%.")),
            MaxValueValidator(Decimal("99.99"), message=_("A member's share is less than 100%%.")),
        ],
    )

    class Meta:
        verbose_name = _("consortium member")
        verbose_name_plural = _("consortium members")
        ordering = ["bid", "id"]
        constraints = [
            models.UniqueConstraint(fields=["bid", "vendor"], name="consortium_member_once"),
            models.CheckConstraint(condition=Q(share__gt=0) & Q(share__lt=100), name="consortium_share_range"),
        ]

    def __str__(self) -> str:
        return f"{self.vendor} ({self.share}%)"


def sealed_upload_to(instance, filename: str) -> str:
    # Generated names only; sealed blobs live apart from every other upload.
    return f"sealed/{instance.bid.tender_id}/{uuid.uuid4().hex}"


def opened_upload_to(instance, filename: str) -> str:
    return f"opened/{instance.bid.tender_id}/{uuid.uuid4().hex}"


class BidFile(models.Model):
    """A document of the technical envelope, sealed to the tender key the moment it is uploaded.

    ``label`` and ``sealed_version`` are the sealing context (with the tender and the bid), so a file kept
    from one version to the next is never re-encrypted. The plaintext is stored only after the opening.
    """

    bid = models.ForeignKey(Bid, on_delete=models.PROTECT, related_name="files")
    label = models.CharField(max_length=64, unique=True)
    sealed_version = models.PositiveIntegerField()
    #: The title and file name the vendor gave, encrypted with the server key (a name can say what a document
    #: holds); the sealed technical envelope carries them too, and that copy is what the opening reveals.
    title_token = models.TextField(editable=False, default="")
    name_token = models.TextField(editable=False, default="")
    #: The title and file name sealed to the tender key like the document itself (kind ``<label>-names``): what
    #: the opening reveals. The server-key tokens above serve the vendor's draft and are erased on submission.
    names_sealed = models.BinaryField(editable=False, default=b"")
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    sealed = models.FileField(upload_to=sealed_upload_to, max_length=255)
    sealed_sha256 = models.CharField(_("SHA-256 of the sealed file"), max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)
    in_draft = models.BooleanField(_("in the draft"), default=True)
    opened = models.FileField(upload_to=opened_upload_to, max_length=255, blank=True)
    opened_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("bid document")
        verbose_name_plural = _("bid documents")
        ordering = ["bid", "id"]

    def __str__(self) -> str:
        return self.label

    def audit_scope(self) -> dict:
        return self.bid.audit_scope()

    def _purpose(self) -> str:
        return f"bid-file-meta:{self.bid_id}:{self.label}"

    def set_names(self, *, title: str, original_name: str) -> None:
        from core import secrets

        self.title_token = secrets.encrypt(title.encode(), purpose=self._purpose()).decode("ascii")
        self.name_token = secrets.encrypt(original_name.encode(), purpose=self._purpose()).decode("ascii")

    def _read(self, token: str) -> str:
        from core import secrets

        try:
            return secrets.decrypt(token.encode("ascii"), purpose=self._purpose()).decode()
        except (secrets.InvalidToken, ValueError):
            return ""

    @property
    def title(self) -> str:
        from django.utils.translation import gettext

        return self._read(self.title_token) if self.title_token else gettext("Sealed document")

    @property
    def original_name(self) -> str:
        return (self._read(self.name_token) if self.name_token else "") or "document"

    def forget_names(self) -> None:
        """Once submitted, the names are readable only from the sealed copy (after the opening)."""
        self.title_token = ""
        self.name_token = ""


class BidVersion(models.Model):
    """One submission (or modification) of a bid: what was sealed and when."""

    bid = models.ForeignKey(Bid, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    submitted_at = models.DateTimeField(_("submitted"))
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    files = models.ManyToManyField(BidFile, related_name="versions", blank=True)

    class Meta:
        verbose_name = _("bid version")
        verbose_name_plural = _("bid versions")
        ordering = ["bid", "number"]
        constraints = [models.UniqueConstraint(fields=["bid", "number"], name="bid_version_once")]

    def __str__(self) -> str:
        return _("version %(number)s") % {"number": self.number}


class EnvelopeKind(models.TextChoices):
    TECHNICAL = "technical", _("Technical envelope")
    FINANCIAL = "financial", _("Financial envelope")


class EnvelopeState(models.TextChoices):
    SEALED = "sealed", _("Sealed")
    OPENED = "opened", _("Opened, matches the receipt")
    TAMPERED = "tampered", _("Does not match the receipt")


class BidEnvelope(models.Model):
    """A sealed envelope of one version: the ciphertext (in the file store) and its SHA-256 (the receipt's)."""

    version = models.ForeignKey(BidVersion, on_delete=models.PROTECT, related_name="envelopes")
    bid = models.ForeignKey(Bid, on_delete=models.PROTECT, related_name="envelopes")
    kind = models.CharField(_("envelope"), max_length=20, choices=EnvelopeKind.choices)
    sealed = models.FileField(upload_to=sealed_upload_to, max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    state = models.CharField(max_length=20, choices=EnvelopeState.choices, default=EnvelopeState.SEALED)
    opened_at = models.DateTimeField(null=True, blank=True)
    #: The envelope's JSON once opened (never before).
    content = models.JSONField(null=True, blank=True)
    problem = models.TextField(blank=True)

    class Meta:
        verbose_name = _("envelope")
        verbose_name_plural = _("envelopes")
        ordering = ["version", "kind"]
        constraints = [models.UniqueConstraint(fields=["version", "kind"], name="envelope_kind_once")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.sha256[:12]}"


class ReceiptAction(models.TextChoices):
    SUBMITTED = "submitted", _("Submission")
    MODIFIED = "modified", _("Modification")
    RECONFIRMED = "reconfirmed", _("Re-confirmation")
    WITHDRAWN = "withdrawn", _("Withdrawal")


class BidReceipt(models.Model):
    """What the vendor is given for every submission, modification, re-confirmation and withdrawal."""

    number = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    bid = models.ForeignKey(Bid, on_delete=models.PROTECT, related_name="receipts")
    action = models.CharField(_("action"), max_length=20, choices=ReceiptAction.choices)
    version = models.PositiveIntegerField(_("bid version"))
    server_time = models.DateTimeField(_("server time"))
    issued_to = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    #: [{"envelope": "technical" | "financial" | "file", "label": …, "sha256": …, "size": …}]
    envelopes = models.JSONField(default=list)
    audit_sequence = models.BigIntegerField(_("audit log entry"), null=True, blank=True)
    audit_hash = models.CharField(max_length=64, blank=True)
    pdf = models.FileField(upload_to="receipts/", max_length=255, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    pdf_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("bid receipt")
        verbose_name_plural = _("bid receipts")
        ordering = ["-server_time", "-id"]
        indexes = [models.Index(fields=["bid", "-id"], name="receipt_bid")]

    def __str__(self) -> str:
        return str(self.number)

    def get_absolute_url(self) -> str:
        return reverse("procurement:bid_receipt", args=[self.number])


class OpeningStage(models.TextChoices):
    TECHNICAL = "technical", _("Technical envelopes")
    FINANCIAL = "financial", _("Financial envelopes")
    BOTH = "both", _("Technical and financial envelopes")


class OpeningStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting for a second member")
    COMPLETED = "completed", _("Completed")
    EXPIRED = "expired", _("Expired (the second member did not confirm in time)")


class BidOpening(models.Model):
    """The opening ceremony: two distinct members confirm within a time window; then the key is rebuilt in
    memory and the envelopes of the stage are opened and checked against their receipts."""

    tender = models.ForeignKey(Tender, on_delete=models.PROTECT, related_name="openings")
    stage = models.CharField(_("what is opened"), max_length=20, choices=OpeningStage.choices)
    status = models.CharField(max_length=20, choices=OpeningStatus.choices, default=OpeningStatus.WAITING)
    first_member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    first_confirmed_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    #: The first member's unlocked share while waiting for the second, encrypted to the personal public key of
    #: each person who may complete the opening ({user id: base64 blob}): only their password opens it, so
    #: nothing the server holds is enough. Erased when the ceremony completes or expires.
    pending_shares = models.JSONField(default=dict, blank=True, editable=False)
    second_member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    #: The published opening record: bidders, times, versions, envelope checks (and prices, once opened).
    record = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("bid opening")
        verbose_name_plural = _("bid openings")
        ordering = ["tender", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tender"],
                condition=Q(status="completed", stage__in=["technical", "both"]),
                name="opening_technical_once",
            ),
            models.UniqueConstraint(
                fields=["tender"], condition=Q(status="waiting"), name="opening_one_waiting_per_tender"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tender} · {self.get_stage_display()} · {self.get_status_display()}"

    def audit_scope(self) -> dict:
        return self.tender.audit_scope()

    def is_waiting(self, now: datetime.datetime) -> bool:
        return self.status == OpeningStatus.WAITING and now < self.expires_at
