"""Forms of the vendors' bid pages.

They keep what was typed as text and judge nothing: a draft may be incomplete or wrong, and submission
(``bid_services.validate_for_submission``) is where it is judged, field by field. The only thing checked
here is what the service cannot know: which registered vendor a commercial registration number names.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from procurement.bid_services import MAX_LINE_TEXT, MAX_TEXT
from procurement.models import Bid
from procurement.tender_forms import upload_help
from vendors.models import Vendor

#: Empty rows offered under the lines already typed (more come with "Save and add rows").
EMPTY_LINE_ROWS = 3
EMPTY_CONSORTIUM_ROWS = 2
MAX_CONSORTIUM_ROWS = 20
#: The draft form's marker: a POST carrying it has the draft's fields, which are saved before anything else.
DRAFT_MARKER = "draft_form"


def _text(label, *, max_length: int, **attrs) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=max_length,
        strip=False,
        widget=forms.TextInput(attrs=attrs) if attrs else forms.TextInput(),
    )


class BidDraftForm(forms.Form):
    """One answer per published technical criterion, and the financial offer's headline figures."""

    total_price = _text(_("Total price"), max_length=40, inputmode="decimal", autocomplete="off")
    currency = _text(_("Currency"), max_length=3)
    validity_days = _text(_("Offer valid for (days)"), max_length=10, inputmode="numeric")

    def __init__(self, *args, bid: Bid, criteria: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.bid = bid
        self.criteria = criteria
        tender = bid.tender
        self.fields["currency"].widget.attrs.update({"readonly": True, "size": 4})
        self.fields["currency"].help_text = _("Prices are in the tender's currency, %(currency)s.") % {
            "currency": tender.currency
        }
        self.fields["total_price"].help_text = _(
            "In %(currency)s, with at most two decimal places; it must equal the sum of the price schedule."
        ) % {"currency": tender.currency}
        self.fields["validity_days"].help_text = _("From the submission deadline; 1 to 3650 days.")
        answers = {}
        for criterion in criteria:
            name = f"answer_{criterion.pk}"
            answers[name] = forms.CharField(
                label=criterion.name,
                required=False,
                max_length=MAX_TEXT,
                strip=False,
                help_text=criterion.description,
                widget=forms.Textarea(attrs={"rows": 6, "dir": "auto"}),
            )
        # The answers come first, in the published order of the criteria.
        self.fields = {**answers, **self.fields}

    def answer_fields(self):
        return [self[f"answer_{c.pk}"] for c in self.criteria]

    def offer_fields(self):
        return [self[name] for name in ("total_price", "currency", "validity_days")]

    def draft_values(self) -> dict:
        data = self.cleaned_data
        return {
            "answers": {str(c.pk): data.get(f"answer_{c.pk}", "") for c in self.criteria},
            "total_price": data.get("total_price", ""),
            "currency": data.get("currency", ""),
            "validity_days": data.get("validity_days", ""),
        }


class PriceLineForm(forms.Form):
    description = _text(_("Item"), max_length=MAX_LINE_TEXT, dir="auto")
    quantity = _text(_("Quantity"), max_length=40, inputmode="decimal", size=8)
    unit = _text(_("Unit"), max_length=40, size=8)
    unit_price = _text(_("Unit price"), max_length=40, inputmode="decimal", size=12)


class BasePriceLineFormSet(forms.BaseFormSet):
    def lines(self) -> list[dict]:
        rows = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            row = {name: data.get(name, "") for name in PriceLineForm.base_fields}
            if any(str(value).strip() for value in row.values()):
                rows.append(row)
        return rows


PriceLineFormSet = forms.formset_factory(
    PriceLineForm,
    formset=BasePriceLineFormSet,
    extra=0,
    max_num=settings.BID_MAX_LINES + EMPTY_LINE_ROWS,
    absolute_max=settings.BID_MAX_LINES + EMPTY_LINE_ROWS,
    validate_max=True,
)


class ConsortiumMemberForm(forms.Form):
    registration_number = _text(_("Commercial registration number"), max_length=40, autocomplete="off")
    share = _text(_("Share of the work (%)"), max_length=20, inputmode="decimal", size=6)

    def clean(self):
        data = super().clean()
        number = (data.get("registration_number") or "").strip()
        self.vendor = None
        if number:
            self.vendor = Vendor.objects.filter(commercial_registration_number__iexact=number).first()
            if self.vendor is None:
                self.add_error(
                    "registration_number",
                    gettext("No registered vendor has the commercial registration number “%(number)s”.")
                    % {"number": number},
                )
        elif (data.get("share") or "").strip():
            self.add_error("registration_number", gettext("Enter the member's commercial registration number."))
        return data


class BaseConsortiumFormSet(forms.BaseFormSet):
    def members(self) -> list[dict]:
        rows = []
        for form in self.forms:
            vendor = getattr(form, "vendor", None)
            share = (getattr(form, "cleaned_data", None) or {}).get("share", "")
            if vendor is not None:
                rows.append({"vendor_id": str(vendor.pk), "share": share})
        return rows


ConsortiumFormSet = forms.formset_factory(
    ConsortiumMemberForm,
    formset=BaseConsortiumFormSet,
    extra=0,
    max_num=MAX_CONSORTIUM_ROWS,
    absolute_max=MAX_CONSORTIUM_ROWS,
    validate_max=True,
)


def consortium_initial(rows: list[dict]) -> list[dict]:
    """The draft's members (stored by vendor id) shown by their registration numbers, then empty rows."""
    ids = [int(row["vendor_id"]) for row in rows if str(row.get("vendor_id", "")).isdigit()]
    numbers = dict(Vendor.objects.filter(pk__in=ids).values_list("pk", "commercial_registration_number"))
    initial = [
        {
            "registration_number": numbers.get(int(row["vendor_id"]), "") if str(row["vendor_id"]).isdigit() else "",
            "share": row.get("share", ""),
        }
        for row in rows
    ]
    return initial[: MAX_CONSORTIUM_ROWS - EMPTY_CONSORTIUM_ROWS] + [{}] * EMPTY_CONSORTIUM_ROWS


def lines_initial(rows: list[dict]) -> list[dict]:
    return list(rows)[: settings.BID_MAX_LINES] + [{}] * EMPTY_LINE_ROWS


class BidDocumentForm(forms.Form):
    """A document of the technical offer; both fields may be left empty when the draft is only saved."""

    document_title = forms.CharField(label=_("Document title"), max_length=200, required=False)
    document = forms.FileField(label=_("File"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["document"].help_text = upload_help()

    @property
    def has_file(self) -> bool:
        return bool(self.files.get(self.add_prefix("document")))


class WithdrawForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I understand that the bid is withdrawn and cannot be submitted again in this form."),
        required=True,
    )
