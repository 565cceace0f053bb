"""Forms of the evaluation committee, the award and complaints (they collect; the services decide)."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.roles import Role
from procurement.models import PriceReview, Tender

SCORE_HELP = _("From 0 to 100, with at most two decimal places.")


def _score_field(label, *, required: bool = True) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=required,
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        max_digits=5,
        decimal_places=2,
        help_text=SCORE_HELP,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "max": "100", "inputmode": "decimal"}),
    )


def _text(label, *, required: bool = True, rows: int = 3, help_text="") -> forms.CharField:
    return forms.CharField(
        label=label, required=required, help_text=help_text, widget=forms.Textarea(attrs={"rows": rows, "dir": "auto"})
    )


def _yes_no(label, yes, no) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        choices=[("yes", yes), ("no", no)],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )


def eligible_evaluators(tender: Tender):
    """Who may be appointed: active committee members, or officers of the tender's agency; never vendor
    users, never someone already on the evaluation committee."""
    return (
        User.objects.filter(is_active=True)
        .filter(
            Q(groups__name=Role.COMMITTEE_MEMBER) | Q(groups__name=Role.PROCUREMENT_OFFICER, agency_id=tender.agency_id)
        )
        .exclude(groups__name=Role.VENDOR_USER)
        .exclude(evaluation_seats__tender=tender)
        .distinct()
        .order_by("full_name", "email")
    )


class EvaluatorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj.full_name} ({obj.email})"


class EvaluationMemberForm(forms.Form):
    user = EvaluatorChoiceField(
        label=_("Person to appoint"),
        queryset=User.objects.none(),
        empty_label=_("Choose a person"),
        help_text=_("Committee members, or procurement officers of this tender's agency."),
    )
    is_chair = forms.BooleanField(label=_("Chair of the committee"), required=False)
    is_external = forms.BooleanField(label=_("External expert"), required=False)

    def __init__(self, *args, tender: Tender, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = eligible_evaluators(tender)


class DeclarationForm(forms.Form):
    has_conflict = _yes_no(
        _("Your declaration for this bidder"),
        _("I have a conflict of interest with this bidder (I am recused)"),
        _("I have no conflict of interest with this bidder"),
    )
    statement = _text(
        _("Statement"),
        required=False,
        help_text=_("Required if you have a conflict: describe it. Your declaration cannot be changed."),
    )


class ComplianceForm(forms.Form):
    responsive = _yes_no(
        _("Administrative compliance"),
        _("Responsive"),
        _("Not responsive"),
    )
    reason = _text(_("Reason"), required=False, help_text=_("Required if not responsive; the bidder is told."))


class ScoreSheetForm(forms.Form):
    """One row per criterion: a score and its written justification. A row left wholly empty is not saved."""

    def __init__(self, *args, criteria, scores=None, **kwargs):
        scores = scores or {}
        initial = {}
        for criterion_id, score in scores.items():
            initial[f"score_{criterion_id}"] = score.score
            initial[f"justification_{criterion_id}"] = score.justification
        super().__init__(*args, initial=initial, **kwargs)
        self.criteria = list(criteria)
        for criterion in self.criteria:
            self.fields[f"score_{criterion.pk}"] = _score_field(
                _("Score for “%(criterion)s”") % {"criterion": criterion.name}, required=False
            )
            self.fields[f"justification_{criterion.pk}"] = _text(
                _("Justification for “%(criterion)s”") % {"criterion": criterion.name}, required=False
            )

    def rows(self) -> list[dict]:
        return [
            {
                "criterion": criterion,
                "score": self[f"score_{criterion.pk}"],
                "justification": self[f"justification_{criterion.pk}"],
            }
            for criterion in self.criteria
        ]

    def clean(self):
        cleaned = super().clean()
        filled = 0
        for criterion in self.criteria:
            score_name, justification_name = f"score_{criterion.pk}", f"justification_{criterion.pk}"
            if score_name in self.errors:
                filled += 1
                continue
            score, justification = cleaned.get(score_name), (cleaned.get(justification_name) or "").strip()
            if score is None and not justification:
                continue
            filled += 1
            if score is None:
                self.add_error(score_name, _("Give a score from 0 to 100."))
            if not justification:
                self.add_error(justification_name, _("Justify the score in writing."))
        if not filled and not self.errors:
            raise forms.ValidationError(_("Score at least one criterion."))
        return cleaned

    def filled_rows(self):
        """(criterion, score, justification) for each row with a score."""
        for criterion in self.criteria:
            score = self.cleaned_data.get(f"score_{criterion.pk}")
            if score is not None:
                yield criterion, score, self.cleaned_data.get(f"justification_{criterion.pk}", "")


class ConsensusForm(forms.Form):
    score = _score_field(_("Agreed score"))
    reason = _text(_("How the committee reached it"), rows=2)


class PriceReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision on the abnormally low price"), choices=PriceReview.Decision.choices, widget=forms.RadioSelect
    )
    reason = _text(_("Reason"), help_text=_("The bidder is told."))


class RecommendForm(forms.Form):
    reasons = _text(
        _("Reasons for the recommendation"), rows=5, help_text=_("Every bidder is told these reasons with the result.")
    )


class AwardReturnForm(forms.Form):
    comments = _text(_("What the committee must reconsider"), rows=4)


class ComplaintForm(forms.Form):
    grounds = _text(_("Grounds of the complaint"), rows=6)


class ComplaintDecisionForm(forms.Form):
    upheld = forms.TypedChoiceField(
        label=_("Decision"),
        choices=[
            ("upheld", _("Upheld: the tender returns to evaluation")),
            ("dismissed", _("Dismissed")),
        ],
        coerce=lambda value: value == "upheld",
        widget=forms.RadioSelect,
    )
    decision = _text(_("Decision and its reasons"), rows=5, help_text=_("The complainant is told."))
