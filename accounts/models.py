from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from accounts.roles import AGENCY_ROLES, Role


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra_fields) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields) -> User:
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields) -> User:
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=username or "")


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with their e-mail address."""

    email = models.EmailField(_("e-mail address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200)
    full_name_ar = models.CharField(_("full name (Arabic)"), max_length=200, blank=True)
    agency = models.ForeignKey(
        "procurement.Agency",
        verbose_name=_("agency"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        help_text=_("Procurement officers and approvers act for this agency."),
    )
    preferred_language = models.CharField(
        _("preferred language"), max_length=5, choices=[("ar", "العربية"), ("en", "English")], default="ar"
    )
    is_staff = models.BooleanField(
        _("staff status"), default=False, help_text=_("May sign in to the administration site.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]

    def __str__(self) -> str:
        return self.full_name or self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @cached_property
    def role_names(self) -> frozenset[str]:
        """The user's roles, read once per request."""
        if not self.pk or not self.is_active:
            return frozenset()
        return frozenset(self.groups.values_list("name", flat=True))

    def has_role(self, role: Role | str) -> bool:
        return str(role) in self.role_names

    @property
    def roles(self) -> list[Role]:
        return [role for role in Role if role.value in self.role_names]

    def validate_roles(self, roles: list[str]) -> None:
        """Officers and approvers act for an agency; they must have one."""
        if self.agency_id is None and any(Role(r) in AGENCY_ROLES for r in roles):
            raise ValidationError({"agency": _("Procurement officers and approvers must belong to an agency.")})

    def audit_scope(self) -> dict:
        return {"agency_id": self.agency_id}


class PersonalKeyQuerySet(models.QuerySet):
    def active(self) -> PersonalKeyQuerySet:
        return self.filter(retired_at__isnull=True)


class PersonalKey(models.Model):
    """A person's X25519 key pair for opening sealed bids.

    The private half (``blob``) is encrypted under a key derived from the person's own password
    (``procurement.sealing``): the server cannot use it without them. A password change re-encrypts it;
    a password reset retires it (the old password is gone) and a new key is made with the new password.
    """

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="personal_keys")
    public_key = models.BinaryField(_("public key"), max_length=32)
    fingerprint = models.CharField(_("fingerprint (SHA-256 of the public key)"), max_length=64, unique=True)
    blob = models.BinaryField(_("encrypted private key"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    retired_at = models.DateTimeField(_("retired"), null=True, blank=True)
    retired_reason = models.CharField(_("why it was retired"), max_length=200, blank=True)

    objects = PersonalKeyQuerySet.as_manager()

    class Meta:
        verbose_name = _("personal key")
        verbose_name_plural = _("personal keys")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(retired_at__isnull=True), name="personal_key_one_active"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.fingerprint[:16]}"

    @property
    def short_fingerprint(self) -> str:
        return " ".join(self.fingerprint[i : i + 4] for i in range(0, 32, 4))
