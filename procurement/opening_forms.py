"""Forms of the opening committee and the opening ceremony (the services decide; these only collect)."""

from __future__ import annotations

from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from accounts.models import PersonalKey, User
from accounts.roles import Role
from procurement.models import Tender


def eligible_members(tender: Tender):
    """Who may be named: active committee members, or officers of the tender's agency; never vendor users,
    never someone already named. Each row knows whether its person has a personal key."""
    return (
        User.objects.filter(is_active=True)
        .filter(
            Q(groups__name=Role.COMMITTEE_MEMBER) | Q(groups__name=Role.PROCUREMENT_OFFICER, agency_id=tender.agency_id)
        )
        .exclude(groups__name=Role.VENDOR_USER)
        .exclude(opening_seats__tender=tender)
        .annotate(has_key=Exists(PersonalKey.objects.active().filter(user=OuterRef("pk"))))
        .distinct()
        .order_by("full_name", "email")
    )


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        if getattr(obj, "has_key", False):
            return f"{obj.full_name} ({obj.email})"
        return _("%(name)s (%(email)s) — no personal key yet") % {"name": obj.full_name, "email": obj.email}


class CommitteeMemberForm(forms.Form):
    user = MemberChoiceField(
        label=_("Person to add"),
        queryset=User.objects.none(),
        empty_label=_("Choose a person"),
        help_text=_("Committee members, or procurement officers of this tender's agency."),
    )

    def __init__(self, *args, tender: Tender, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = eligible_members(tender)


class SecretTextarea(forms.Textarea):
    """A textarea that never shows its value again (a refused form must not echo a secret back)."""

    def format_value(self, value):
        return None


class OpeningConfirmForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("Typing your password proves that you are here; it unlocks your share of the tender's key."),
    )
    recovery_share = forms.CharField(
        label=_("The agency's recovery share (only to complete an opening a member has started)"),
        required=False,
        strip=True,
        widget=SecretTextarea(attrs={"rows": 4, "autocomplete": "off", "spellcheck": "false", "dir": "ltr"}),
        help_text=_(
            "Only if no second member can confirm: paste the recovery share printed when the tender was published."
        ),
    )

    def __init__(self, *args, offer_recovery: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not offer_recovery:
            del self.fields["recovery_share"]
