"""The desk's forms. Every field keeps what was typed when the form comes back with an error; long texts carry no
``maxlength`` attribute, so that a browser never cuts a pasted message: the limit is checked here and shown."""

from __future__ import annotations

import re

from django import forms
from django.conf import settings
from django.core.validators import RegexValidator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from contracts.models import Contract
from desk.models import ItemKind, ItemTopic
from desk.services import ANSWER_MAX_CHARS, NOTE_MAX_CHARS, agency_officers, is_public_contract
from procurement.models import Agency, Tender

#: The honeypot: a field people never see (hidden, out of the tab order); robots that fill every field do.
HONEYPOT_FIELD = "website"


class LongTextField(forms.CharField):
    """A text with a limit checked on the server only, so that nothing typed is cut off in the browser."""

    def __init__(self, *, limit: int, **kwargs):
        self.limit = limit
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 8}))
        super().__init__(**kwargs)

    def validate(self, value) -> None:
        super().validate(value)
        if value and len(value) > self.limit:
            raise forms.ValidationError(
                _("Write at most %(limit)s characters (you wrote %(count)s)."),
                code="too_long",
                params={"limit": self.limit, "count": len(value)},
            )


class SubmitForm(forms.Form):
    kind = forms.ChoiceField(label=_("What do you want to send?"), choices=ItemKind.choices, widget=forms.RadioSelect)
    topic = forms.ChoiceField(
        label=_("What is it about?"), choices=ItemTopic.choices, initial=ItemTopic.SERVICE, widget=forms.RadioSelect
    )
    agency = forms.ModelChoiceField(
        label=_("Agency"),
        queryset=Agency.objects.order_by("name_en"),
        required=False,
        empty_label=_("Choose an agency"),
        help_text=_("For a service. For a tender or a contract, its agency is found from the reference."),
    )
    reference = forms.CharField(
        label=_("Reference of the tender or contract"),
        required=False,
        max_length=60,
        help_text=_("As shown on its page, for example MCIT-2026-0001 (a tender) or MCIT-2026-0001-C12 (a contract)."),
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    message = LongTextField(
        label=_("Your message"),
        limit=settings.DESK_MESSAGE_MAX_CHARS,
    )
    sender_name = forms.CharField(
        label=_("Your name"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    sender_email = forms.EmailField(
        label=_("Your e-mail address"),
        help_text=_("We send the answer and your private tracking link here."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    sender_phone = forms.CharField(
        label=_("Your telephone number"),
        required=False,
        max_length=30,
        validators=[RegexValidator(r"^\+?[0-9 ()-]{6,30}$", _("Enter a telephone number: digits, spaces, + ( ) -."))],
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["message"].help_text = gettext("At most %(limit)s characters. Write it as plain text.") % {
            "limit": settings.DESK_MESSAGE_MAX_CHARS
        }

    def clean(self):
        data = super().clean()
        if data.get(HONEYPOT_FIELD):
            raise forms.ValidationError(
                _("Your message could not be sent. Please leave the field marked “Leave this field empty” empty."),
                code="honeypot",
            )
        topic = data.get("topic")
        reference = (data.get("reference") or "").strip()
        data["tender"] = data["contract"] = None
        if topic == ItemTopic.TENDER:
            data["tender"] = self._public_tender(reference)
        elif topic == ItemTopic.CONTRACT:
            data["contract"] = self._public_contract(reference)
        elif topic == ItemTopic.SERVICE and data.get("agency") is None and "agency" not in self.errors:
            self.add_error("agency", _("Choose the agency your message is about."))
        return data

    def _public_tender(self, reference: str) -> Tender | None:
        tender = (
            Tender.objects.public().select_related("agency").filter(reference__iexact=reference).first()
            if reference
            else None
        )
        if tender is None:
            self.add_error("reference", _("No published tender has this reference."))
        return tender

    def _public_contract(self, reference: str) -> Contract | None:
        tender_reference, _separator, number = reference.upper().rpartition("-C")
        contract = None
        if tender_reference and re.fullmatch(r"[0-9]{1,18}", number):
            contract = (
                Contract.objects.select_related("agency", "tender")
                .filter(pk=int(number), tender__reference__iexact=tender_reference)
                .first()
            )
        if contract is None or not is_public_contract(contract):
            self.add_error("reference", _("No signed contract has this reference."))
            return None
        return contract


class ReopenForm(forms.Form):
    reason = LongTextField(
        label=_("Why are you reopening it?"),
        limit=NOTE_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].help_text = gettext("At most %(limit)s characters.") % {"limit": NOTE_MAX_CHARS}


class OfficerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.full_name} <{obj.email}>"


class AssignForm(forms.Form):
    assignee = OfficerChoiceField(label=_("Assign to"), queryset=None, empty_label=None)

    def __init__(self, *args, item, actor, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        field.queryset = agency_officers(item.agency_id)
        field.initial = actor.pk


class AnswerForm(forms.Form):
    answer = LongTextField(
        label=_("Answer"),
        limit=ANSWER_MAX_CHARS,
        help_text=_("E-mailed to the sender in the language they wrote in, and shown on their tracking page."),
    )


class CloseForm(forms.Form):
    note = LongTextField(
        label=_("Note to the sender"),
        limit=NOTE_MAX_CHARS,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when closing an item without an answer (a duplicate, spam, …)."),
    )


class FaqForm(forms.Form):
    question_en = LongTextField(label=_("Question (English)"), limit=ANSWER_MAX_CHARS, required=False)
    answer_en = LongTextField(label=_("Answer (English)"), limit=ANSWER_MAX_CHARS, required=False)
    question_ar = LongTextField(label=_("Question (Arabic)"), limit=ANSWER_MAX_CHARS, required=False)
    answer_ar = LongTextField(label=_("Answer (Arabic)"), limit=ANSWER_MAX_CHARS, required=False)

    def __init__(self, *args, item, **kwargs):
        entry = getattr(item, "faq_entry", None)
        if entry is not None:
            initial = {name: getattr(entry, name) for name in ("question_en", "answer_en", "question_ar", "answer_ar")}
        else:
            language = "ar" if item.language == "ar" else "en"
            initial = {f"question_{language}": item.message, f"answer_{language}": item.answer}
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
