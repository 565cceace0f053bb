from django import forms
from django.utils.translation import gettext_lazy as _

QUESTION_MAX_LENGTH = 4000


class ClarificationQuestionForm(forms.Form):
    question = forms.CharField(
        label=_("Your question"),
        max_length=QUESTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("The question and its answer are published here for every vendor. Your name and company are not."),
    )


class PhaseChoiceField(forms.ModelChoiceField):
    """A phase named with its programme, since several programmes may each have a phase 1."""

    def label_from_instance(self, obj) -> str:
        return f"{obj.programme.code} · {obj.order}. {obj.name}"


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")
