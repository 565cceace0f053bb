"""What the API reads and writes for vendors and their bids.

A bid is shown to its own vendor's people as the web's bid page shows it: its state, the versions submitted
with each sealed envelope's SHA-256 and size, the receipts, and the draft being prepared (the vendor's own
working copy). Nothing sealed is ever readable: once a version is submitted its prices, lines, answers and
document names are not returned (the draft is erased by the submission), only the envelopes' hashes.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers import StrictInputMixin
from procurement import bid_services
from procurement.bid_forms import MAX_CONSORTIUM_ROWS
from procurement.bid_services import MAX_LINE_TEXT, MAX_TEXT
from procurement.models import Bid, BidFile, BidReceipt, Tender
from procurement.models.bids import BidStatus, EnvelopeKind, EnvelopeState, ReceiptAction
from procurement.opening_views import UNOPENED_STATES
from vendors.models import Vendor, VendorCategory, VendorStatus

# Vendors ----------------------------------------------------------------------------------------------------


class VendorCategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = VendorCategory
        fields = ["code", "name_en", "name_ar"]


def _state_field(choices) -> serializers.CharField:
    """A state as text (its values listed), so that it does not collide with the other resources' ``status``
    enums in the OpenAPI description."""
    return serializers.CharField(read_only=True, help_text=_("One of: ") + ", ".join(choices.values))


class VendorSerializer(serializers.ModelSerializer):
    status = _state_field(VendorStatus)
    categories = VendorCategorySerializer(many=True, read_only=True)
    debarred = serializers.BooleanField(
        read_only=True, help_text=_("Whether the vendor is debarred today (the public debarment list).")
    )

    class Meta:
        model = Vendor
        fields = [
            "id",
            "legal_name_en",
            "legal_name_ar",
            "commercial_registration_number",
            "status",
            "categories",
            "verified_at",
            "debarred",
        ]


class MyVendorSerializer(VendorSerializer):
    """The caller's own company, with what the company page says about whether it may bid today."""

    may_bid = serializers.BooleanField(read_only=True)
    eligibility_problems = serializers.ListField(child=serializers.CharField(), read_only=True)
    is_administrator = serializers.BooleanField(read_only=True)

    class Meta(VendorSerializer.Meta):
        fields = [
            *VendorSerializer.Meta.fields,
            "tax_number",
            "address",
            "phone",
            "email",
            "website",
            "suspension_reason",
            "may_bid",
            "eligibility_problems",
            "is_administrator",
        ]


# Receipts ---------------------------------------------------------------------------------------------------


class ReceiptEnvelopeSerializer(serializers.Serializer):
    envelope = serializers.CharField(help_text=_("technical, financial or file"))
    label = serializers.CharField()
    sha256 = serializers.CharField(help_text=_("SHA-256 of the sealed envelope."))
    size = serializers.IntegerField()


class BidReceiptSerializer(serializers.ModelSerializer):
    """The receipt the web gives for a submission, modification, re-confirmation or withdrawal."""

    action = _state_field(ReceiptAction)

    bid = serializers.IntegerField(source="bid_id", read_only=True)
    envelopes = serializers.SerializerMethodField()
    digest = serializers.SerializerMethodField(help_text=_("The check value printed on the receipt."))
    url = serializers.SerializerMethodField(help_text=_("The receipt's page on the web."))
    pdf_url = serializers.SerializerMethodField(help_text=_("The receipt's PDF on the web (rendered shortly after)."))

    class Meta:
        model = BidReceipt
        fields = [
            "number",
            "bid",
            "action",
            "version",
            "server_time",
            "envelopes",
            "audit_sequence",
            "audit_hash",
            "digest",
            "url",
            "pdf_url",
        ]

    @extend_schema_field(ReceiptEnvelopeSerializer(many=True))
    def get_envelopes(self, receipt: BidReceipt) -> list:
        return [
            {key: envelope.get(key) for key in ("envelope", "label", "sha256", "size")}
            for envelope in receipt.envelopes
            if isinstance(envelope, dict)
        ]

    def get_digest(self, receipt: BidReceipt) -> str:
        return bid_services.receipt_digest(receipt)

    def _absolute(self, path: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    def get_url(self, receipt: BidReceipt) -> str:
        return self._absolute(reverse("procurement:bid_receipt", args=[receipt.number]))

    def get_pdf_url(self, receipt: BidReceipt) -> str:
        return self._absolute(reverse("procurement:bid_receipt_pdf", args=[receipt.number]))


# Bids -------------------------------------------------------------------------------------------------------


class PriceLineSerializer(StrictInputMixin, serializers.Serializer):
    description = serializers.CharField(max_length=MAX_LINE_TEXT, allow_blank=True, required=False, default="")
    quantity = serializers.CharField(max_length=40, allow_blank=True, required=False, default="")
    unit = serializers.CharField(max_length=40, allow_blank=True, required=False, default="")
    unit_price = serializers.CharField(max_length=40, allow_blank=True, required=False, default="")


class ConsortiumMemberSerializer(StrictInputMixin, serializers.Serializer):
    registration_number = serializers.CharField(
        max_length=40, help_text=_("The member's commercial registration number in the vendor register.")
    )
    share = serializers.CharField(max_length=20, help_text=_("Its share of the work, in per cent."))


class BidDraftSerializer(StrictInputMixin, serializers.Serializer):
    """The draft as typed. Like the web form it judges nothing but lengths: submission judges the content
    (prices positive with two decimals, the tender's currency, the schedule adding up, …) field by field."""

    answers = serializers.DictField(
        child=serializers.CharField(max_length=MAX_TEXT, allow_blank=True, trim_whitespace=False),
        required=False,
        help_text=_("The technical answers, by criterion id."),
    )
    total_price = serializers.CharField(max_length=40, allow_blank=True, required=False)
    currency = serializers.CharField(max_length=3, allow_blank=True, required=False)
    validity_days = serializers.CharField(max_length=10, allow_blank=True, required=False)
    lines = PriceLineSerializer(many=True, required=False, help_text=_("The price schedule."))
    consortium = ConsortiumMemberSerializer(many=True, required=False, max_length=MAX_CONSORTIUM_ROWS)


class BidStartSerializer(StrictInputMixin, serializers.Serializer):
    tender = serializers.PrimaryKeyRelatedField(
        queryset=Tender.objects.public(), help_text=_("The published tender to bid on.")
    )
    draft = BidDraftSerializer(required=False, help_text=_("The draft's first content (optional)."))


class BidDocumentUploadSerializer(StrictInputMixin, serializers.Serializer):
    title = serializers.CharField(max_length=200)
    document = serializers.FileField(help_text=_("PDF, Word (.docx), Excel (.xlsx), PNG, JPEG or ZIP."))


class BidDocumentSerializer(serializers.ModelSerializer):
    """A document of the draft. Its title is the vendor's until the draft is submitted; from then on it is
    sealed ("Sealed document"), as on the web; null in a replayed answer (``Idempotent-Replayed``)."""

    title = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = BidFile
        fields = ["id", "label", "title", "content_type", "size", "sealed_sha256", "sealed_version", "uploaded_at"]


class DraftLineOutSerializer(serializers.Serializer):
    description = serializers.CharField()
    quantity = serializers.CharField()
    unit = serializers.CharField()
    unit_price = serializers.CharField()


class DraftOutSerializer(serializers.Serializer):
    answers = serializers.DictField(child=serializers.CharField())
    total_price = serializers.CharField()
    currency = serializers.CharField()
    validity_days = serializers.CharField()
    lines = DraftLineOutSerializer(many=True)
    consortium = ConsortiumMemberSerializer(many=True)


class EnvelopeSerializer(serializers.Serializer):
    kind = serializers.CharField()
    sha256 = serializers.CharField()
    size = serializers.IntegerField()


class BidVersionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    submitted_at = serializers.DateTimeField()
    envelopes = EnvelopeSerializer(many=True)
    documents = serializers.IntegerField(help_text=_("How many sealed documents the version has."))


class BidSerializer(serializers.ModelSerializer):
    """A bid in the lists: no content at all."""

    tender_reference = serializers.CharField(source="tender.reference", read_only=True)
    status = _state_field(BidStatus)

    class Meta:
        model = Bid
        fields = [
            "id",
            "tender",
            "tender_reference",
            "vendor",
            "status",
            "version",
            "created_at",
            "submitted_at",
            "withdrawn_at",
            "draft_saved_at",
        ]


class BidDetailSerializer(BidSerializer):
    """A bid as its vendor's bid page shows it. ``draft`` is the working copy being prepared (before the
    first submission or during a modification), null otherwise; the sealed versions show only hashes."""

    has_draft = serializers.BooleanField(read_only=True)
    draft = serializers.SerializerMethodField()
    documents = serializers.SerializerMethodField()
    versions = serializers.SerializerMethodField()
    receipts = serializers.SerializerMethodField()

    class Meta(BidSerializer.Meta):
        fields = [*BidSerializer.Meta.fields, "has_draft", "draft", "documents", "versions", "receipts"]

    @extend_schema_field(DraftOutSerializer(allow_null=True))
    def get_draft(self, bid: Bid) -> dict | None:
        if not bid.has_draft:
            return None
        draft = bid_services.read_draft(bid)
        ids = [int(row["vendor_id"]) for row in draft["consortium"] if str(row.get("vendor_id", "")).isdigit()]
        numbers = dict(Vendor.objects.filter(pk__in=ids).values_list("pk", "commercial_registration_number"))
        return {
            "answers": draft["answers"],
            "total_price": draft["total_price"],
            "currency": draft["currency"],
            "validity_days": draft["validity_days"],
            "lines": [
                {key: row.get(key, "") for key in ("description", "quantity", "unit", "unit_price")}
                for row in draft["lines"]
            ],
            "consortium": [
                {
                    "registration_number": numbers.get(int(row["vendor_id"]), "")
                    if str(row["vendor_id"]).isdigit()
                    else "",
                    "share": row.get("share", ""),
                }
                for row in draft["consortium"]
            ],
        }

    @extend_schema_field(BidDocumentSerializer(many=True, allow_null=True))  # null in a replayed answer
    def get_documents(self, bid: Bid) -> list:
        files = bid.files.filter(in_draft=True).order_by("id")
        return BidDocumentSerializer(files, many=True).data

    @extend_schema_field(BidVersionSerializer(many=True))
    def get_versions(self, bid: Bid) -> list:
        versions = bid.versions.prefetch_related("envelopes", "files").order_by("-number")
        return [
            {
                "number": version.number,
                "submitted_at": version.submitted_at,
                "envelopes": [{"kind": e.kind, "sha256": e.sha256, "size": e.size} for e in version.envelopes.all()],
                "documents": len(version.files.all()),
            }
            for version in versions
        ]

    @extend_schema_field(BidReceiptSerializer(many=True))
    def get_receipts(self, bid: Bid) -> list:
        from procurement.bid_views import RECEIPTS_SHOWN

        receipts = bid.receipts.order_by("-id")[:RECEIPTS_SHOWN]
        return BidReceiptSerializer(receipts, many=True, context=self.context).data


# Transitions ------------------------------------------------------------------------------------------------


class BidTransitionSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    required_fields = serializers.ListField(child=serializers.CharField())


class WithdrawSerializer(StrictInputMixin, serializers.Serializer):
    confirm = serializers.BooleanField(
        help_text=_("true: I understand that the bid is withdrawn and cannot be submitted again in this form.")
    )

    def validate_confirm(self, value: bool) -> bool:
        if not value:
            raise serializers.ValidationError(_("Confirm the withdrawal."))
        return value


class EmptySerializer(StrictInputMixin, serializers.Serializer):
    pass


class BidTransitionResultSerializer(serializers.Serializer):
    bid = BidDetailSerializer(
        allow_null=True,
        help_text=_(
            "The bid after the transition; null when the answer is a replay (Idempotent-Replayed): a stored "
            "answer never keeps the draft, so read the bid again."
        ),
    )
    receipt = BidReceiptSerializer(allow_null=True)


# The tender's bid register (officers, approvers, auditors, administrators, the opening committee) -----------


class RegisterEnvelopeSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text=_("technical or financial"))
    state = serializers.CharField(help_text=_("sealed, opened or tampered"))
    sha256 = serializers.CharField(help_text=_("SHA-256 of the sealed envelope, as on the bidder's receipt."))


class TenderBidSerializer(serializers.ModelSerializer):
    """A row of the web's bid register: who bid, when, which version, and the SHA-256 of each sealed envelope
    of that version — metadata only, before and after the opening (the content is never in it)."""

    status = _state_field(BidStatus)
    bidder = serializers.CharField(source="vendor.legal_name_en", read_only=True)
    bidder_ar = serializers.CharField(source="vendor.legal_name_ar", read_only=True)
    opened = serializers.SerializerMethodField(help_text=_("Whether the bid has been opened."))
    envelopes = serializers.SerializerMethodField()

    class Meta:
        model = Bid
        fields = [
            "id",
            "vendor",
            "bidder",
            "bidder_ar",
            "status",
            "version",
            "submitted_at",
            "withdrawn_at",
            "opened",
            "envelopes",
        ]

    def get_opened(self, bid: Bid) -> bool:
        return bid.status not in UNOPENED_STATES

    @extend_schema_field(RegisterEnvelopeSerializer(many=True))
    def get_envelopes(self, bid: Bid) -> list:
        # The envelopes are prefetched with their versions (see ``TenderBidListView``): no query per row.
        return [
            {"kind": e.kind, "state": e.state, "sha256": e.sha256}
            for e in bid.envelopes.all()
            if e.version.number == bid.version
        ]


# An opened envelope, as the web's envelope page shows it (``procurement.opening_views.opened_envelope``) ------


class OpenedAnswerSerializer(serializers.Serializer):
    criterion_id = serializers.IntegerField(allow_null=True, help_text=_("The criterion's id in the tender."))
    criterion = serializers.CharField(help_text=_("The criterion's name, as sealed in the envelope."))
    answer = serializers.CharField()


class OpenedConsortiumMemberSerializer(serializers.Serializer):
    vendor_id = serializers.IntegerField(allow_null=True)
    vendor = serializers.CharField()
    share = serializers.CharField(help_text=_("Per cent."))


class OpenedDocumentSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True, help_text=_("null when the sealed file is missing."))
    label = serializers.CharField()
    title = serializers.CharField()
    name = serializers.CharField(help_text=_("The file name, restored from its sealed copy at the opening."))
    content_type = serializers.CharField()
    size = serializers.IntegerField(allow_null=True)
    opened = serializers.BooleanField(
        help_text=_("Whether the document was opened (it matched its receipt); only then can it be downloaded.")
    )
    sha256 = serializers.CharField(allow_null=True, help_text=_("SHA-256 of the opened document."))
    download = serializers.CharField(allow_null=True)


class OpenedTechnicalSerializer(serializers.Serializer):
    answers = OpenedAnswerSerializer(many=True)
    consortium = OpenedConsortiumMemberSerializer(many=True)
    documents = OpenedDocumentSerializer(many=True)


class OpenedPriceLineSerializer(serializers.Serializer):
    description = serializers.CharField()
    quantity = serializers.CharField()
    unit = serializers.CharField()
    unit_price = serializers.CharField()
    amount = serializers.CharField()


class OpenedFinancialSerializer(serializers.Serializer):
    total_price = serializers.CharField()
    currency = serializers.CharField()
    validity_days = serializers.IntegerField(allow_null=True)
    lines = OpenedPriceLineSerializer(many=True)


def _text(value) -> str:
    return "" if value is None else str(value)


def _number(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class OpenedEnvelopeSerializer(serializers.Serializer):
    """One envelope of a bid after its opening: its hash and check against the receipt, and its decrypted
    content — ``technical`` or ``financial`` after its kind; both null when the envelope does not match the
    bidder's receipt (``state`` tampered, ``problem`` says why: its content is never shown)."""

    tender = serializers.IntegerField(source="bid.tender_id")
    bid = serializers.IntegerField(source="bid.pk")
    vendor = serializers.IntegerField(source="bid.vendor_id")
    bidder = serializers.CharField(source="bid.vendor.legal_name_en")
    bidder_ar = serializers.CharField(source="bid.vendor.legal_name_ar")
    version = serializers.IntegerField(source="bid.version")
    submitted_at = serializers.DateTimeField(source="bid.submitted_at")
    kind = serializers.CharField(source="envelope.kind", help_text=_("technical or financial"))
    sha256 = serializers.CharField(
        source="envelope.sha256", help_text=_("SHA-256 of the sealed envelope, as on the bidder's receipt.")
    )
    state = serializers.CharField(source="envelope.state", help_text=_("opened or tampered"))
    opened_at = serializers.DateTimeField(source="envelope.opened_at")
    problem = serializers.CharField(
        source="envelope.problem", help_text=_("Why the envelope does not match its receipt (tampered only).")
    )
    technical = serializers.SerializerMethodField()
    financial = serializers.SerializerMethodField()

    def _shown(self, opened, kind: str) -> bool:
        return opened.envelope.kind == kind and opened.envelope.state == EnvelopeState.OPENED

    @extend_schema_field(OpenedTechnicalSerializer(allow_null=True))
    def get_technical(self, opened) -> dict | None:
        if not self._shown(opened, EnvelopeKind.TECHNICAL):
            return None
        answers = opened.content.get("answers")
        answers = answers if isinstance(answers, dict) else {}
        consortium = opened.content.get("consortium")
        return {
            "answers": [
                {
                    "criterion_id": _number(key),
                    "criterion": _text(value.get("criterion")),
                    "answer": _text(value.get("answer")),
                }
                for key, value in answers.items()
                if isinstance(value, dict)
            ],
            "consortium": [
                {
                    "vendor_id": _number(member.get("vendor_id")),
                    "vendor": _text(member.get("vendor")),
                    "share": _text(member.get("share")),
                }
                for member in (consortium if isinstance(consortium, list) else [])
                if isinstance(member, dict)
            ],
            "documents": [self._document(opened, row) for row in opened.files],
        }

    def _document(self, opened, row: dict) -> dict:
        item, stored = row["item"], row["file"]
        download = None
        if row["opened"]:
            path = reverse("api:tender-bid-document", args=[opened.bid.tender_id, opened.bid.pk, stored.pk])
            request = self.context.get("request")
            download = request.build_absolute_uri(path) if request is not None else path
        return {
            "id": stored.pk if stored is not None else None,
            "label": _text(item.get("label")),
            "title": _text(item.get("title")),
            "name": _text(item.get("name")),
            "content_type": _text(item.get("content_type")),
            "size": _number(item.get("size")),
            "opened": row["opened"],
            "sha256": (stored.opened_sha256 or None) if stored is not None else None,
            "download": download,
        }

    @extend_schema_field(OpenedFinancialSerializer(allow_null=True))
    def get_financial(self, opened) -> dict | None:
        if not self._shown(opened, EnvelopeKind.FINANCIAL):
            return None
        content = opened.content
        lines = content.get("lines")
        keys = ("description", "quantity", "unit", "unit_price", "amount")
        return {
            "total_price": _text(content.get("total_price")),
            "currency": _text(content.get("currency")),
            "validity_days": _number(content.get("validity_days")),
            "lines": [
                {key: _text(line.get(key)) for key in keys}
                for line in (lines if isinstance(lines, list) else [])
                if isinstance(line, dict)
            ],
        }
