from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.roles import Role
from procurement.models import Agency, Phase, Programme, time_zone_choices


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class AgencyForm(forms.ModelForm):
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=time_zone_choices)
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")

    class Meta:
        model = Agency
        fields = [
            "code",
            "name_en",
            "name_ar",
            "kind",
            "parent",
            "time_zone",
            "website",
            "email",
            "is_active",
            "publishes_signed_contracts",
        ]
        widgets = {"name_ar": forms.TextInput(attrs={"dir": "rtl", "lang": "ar"})}


class ProgrammeForm(forms.ModelForm):
    steering_committee = forms.ModelMultipleChoiceField(
        label=_("Steering committee"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Approvers who approve this programme's tenders, awards and amendments."),
    )

    class Meta:
        model = Programme
        fields = [
            "code",
            "name_en",
            "name_ar",
            "description_en",
            "description_ar",
            "sponsor_agency",
            "budget",
            "currency",
            "start_date",
            "end_date",
        ]
        widgets = {
            "name_ar": forms.TextInput(attrs={"dir": "rtl", "lang": "ar"}),
            "description_ar": forms.Textarea(attrs={"dir": "rtl", "lang": "ar", "rows": 4}),
            "description_en": forms.Textarea(attrs={"rows": 4}),
            "start_date": DateInput(),
            "end_date": DateInput(),
        }

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["steering_committee"].queryset = (
            User.objects.filter(groups__name=Role.APPROVER, is_active=True).order_by("full_name").distinct()
        )
        if self.instance.pk:
            self.fields["steering_committee"].initial = list(self.instance.steering_committee.all())
        # Inactive agencies sponsor no new programme, but their existing ones can still be corrected.
        agencies = Agency.objects.filter(Q(is_active=True) | Q(pk=self.instance.sponsor_agency_id)).order_by("code")
        if not user.has_perm("procurement.add_agency"):
            # An officer runs programmes for their own agency only.
            agencies = agencies.filter(pk=user.agency_id)
            self.fields["sponsor_agency"].initial = user.agency_id
        self.fields["sponsor_agency"].queryset = agencies


class PhaseForm(forms.ModelForm):
    class Meta:
        model = Phase
        fields = [
            "order",
            "name_en",
            "name_ar",
            "start_date",
            "end_date",
            "budget",
            "specification_en",
            "specification_ar",
            "deliverables_en",
            "deliverables_ar",
        ]
        widgets = {
            "name_ar": forms.TextInput(attrs={"dir": "rtl", "lang": "ar"}),
            "specification_en": forms.Textarea(attrs={"rows": 4}),
            "specification_ar": forms.Textarea(attrs={"dir": "rtl", "lang": "ar", "rows": 4}),
            "deliverables_en": forms.Textarea(attrs={"rows": 4}),
            "deliverables_ar": forms.Textarea(attrs={"dir": "rtl", "lang": "ar", "rows": 4}),
            "start_date": DateInput(),
            "end_date": DateInput(),
        }
