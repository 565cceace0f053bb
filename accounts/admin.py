from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, AdminUserCreationForm, UserChangeForm
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts import keys
from accounts.models import User
from accounts.roles import Role
from accounts.services import user_set_roles, user_snapshot
from audit.services import audit_event_append, snapshot_diff
from contracts.signer_keys import signer_key_retire


class RolesFormMixin(forms.Form):
    roles = forms.MultipleChoiceField(
        label=_("Roles"), choices=Role.choices, required=False, widget=forms.CheckboxSelectMultiple
    )

    def clean(self):
        cleaned = super().clean()
        probe = User(agency=cleaned.get("agency"))
        try:
            probe.validate_roles(cleaned.get("roles") or [])
        except forms.ValidationError as error:
            self.add_error("agency", error.message_dict["agency"])
        return cleaned


class UserChangeWithRolesForm(RolesFormMixin, UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["roles"].initial = list(self.instance.groups.values_list("name", flat=True))


class UserCreationWithRolesForm(RolesFormMixin, AdminUserCreationForm):
    class Meta:
        model = User
        fields = ["email", "full_name", "full_name_ar", "agency"]


class AdminPasswordChangeWithKeyForm(AdminPasswordChangeForm):
    """An administrator setting someone's password cannot know the old one: the person's personal key (if any)
    is retired and a new one made with the new password, as on a password reset."""

    def save(self, commit=True):
        with transaction.atomic():
            user = super().save(commit=commit)
            if commit and self.cleaned_data.get("set_usable_password", True) and self.cleaned_data.get("password1"):
                keys.personal_key_replace(
                    user=user, new_password=self.cleaned_data["password1"], reason="password set by an administrator"
                )
                signer_key_retire(user=user, reason="password set by an administrator")
        return user


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserChangeWithRolesForm
    change_password_form = AdminPasswordChangeWithKeyForm
    add_form = UserCreationWithRolesForm
    ordering = ["email"]
    list_display = ["email", "full_name", "agency", "is_active", "is_staff"]
    list_filter = ["is_active", "is_staff", "groups"]
    search_fields = ["email", "full_name", "full_name_ar"]
    show_full_result_count = False
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Person"), {"fields": ("full_name", "full_name_ar", "preferred_language", "agency")}),
        (_("Roles and access"), {"fields": ("roles", "is_active", "is_staff", "is_superuser")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "full_name", "full_name_ar", "agency", "roles", "password1", "password2"),
            },
        ),
    )
    readonly_fields = ["last_login", "date_joined"]
    filter_horizontal = []

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        before = user_snapshot(User.objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)
        after = user_snapshot(obj)
        if before is None:
            audit_event_append(action="accounts.user.created", actor=request.user, obj=obj, payload={"after": after})
        elif before != after:
            audit_event_append(
                action="accounts.user.changed", actor=request.user, obj=obj, payload=snapshot_diff(before, after)
            )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        user_set_roles(actor=request.user, user=form.instance, roles=form.cleaned_data.get("roles") or [])
