"""Every write to a vendor: lock the row, check who, transition, audit, notify after commit.

Each public function is one transaction. A refusal raises ``PermissionDenied`` (who), ``ActionRefused``
(state, four eyes, documents) or ``ValidationError`` (what was typed) and leaves nothing half-written.
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_fsm import TransitionNotAllowed

from accounts.models import User
from accounts.roles import Role
from accounts.services import user_create
from audit.services import audit_event_append, model_snapshot
from core.exceptions import ActionRefused, require_perm
from core.uploads import inspect_upload
from notifications.services import notify
from vendors.models import (
    MANDATORY_KINDS,
    Debarment,
    DocumentKind,
    Vendor,
    VendorCategory,
    VendorDocument,
    VendorInvitation,
    VendorMembership,
    VendorStatus,
)

VENDOR_FIELDS = (
    "legal_name_en", "legal_name_ar", "commercial_registration_number", "tax_number", "address", "phone", "email",
    "website",
)  # fmt: skip
#: How long the e-mail confirmation link and an invitation stay valid.
CONFIRMATION_MAX_AGE = datetime.timedelta(days=3)
INVITATION_VALIDITY = datetime.timedelta(days=7)
_CONFIRMATION_SALT = "vendors.email-confirmation"


def _now() -> datetime.datetime:
    return timezone.now()


def _today() -> datetime.date:
    return timezone.localdate(_now())


def _locked(vendor: Vendor | int) -> Vendor:
    pk = vendor.pk if isinstance(vendor, Vendor) else vendor
    return Vendor.objects.select_for_update().get(pk=pk)


def _locked_unless_busy(pk: int) -> Vendor | None:
    """The vendor under its row lock, or None while another transaction holds it: the scheduler skips it
    rather than wait, and its next run picks it up."""
    return Vendor.objects.select_for_update(skip_locked=True).filter(pk=pk).first()


def _transition(vendor: Vendor, method, action: str, **kwargs) -> tuple[str, str]:
    source = vendor.status
    try:
        method(**kwargs)
    except TransitionNotAllowed as error:
        raise ActionRefused(
            _("The vendor is now “%(status)s”: it cannot be %(action)s.")
            % {"status": vendor.get_status_display(), "action": action}
        ) from error
    return source, vendor.status


def _record(vendor: Vendor, *, actor, name: str, source: str, target: str, **details) -> None:
    audit_event_append(
        action=f"vendor.{name}", actor=actor, obj=vendor, payload={"from": source, "to": target, **details}
    )


def _kind_labels(kinds: Iterable[str]) -> str:
    return ", ".join(str(DocumentKind(kind).label) for kind in kinds)


# Who is told -------------------------------------------------------------------------------------


def vendor_administrators(vendor: Vendor) -> list[User]:
    return list(User.objects.filter(vendor_membership__vendor=vendor, vendor_membership__is_administrator=True))


def vendor_members(vendor: Vendor) -> list[User]:
    return list(User.objects.filter(vendor_membership__vendor=vendor))


def _notify_vendor(vendor: Vendor, kind: str, recipients: list[User] | None = None, **context) -> None:
    notify(
        recipients=recipients if recipients is not None else vendor_members(vendor),
        kind=kind,
        context={"vendor": vendor.legal_name, "vendor_id": vendor.pk, **context},
    )


def _mail_on_commit(*, to: str, subject: str, body: str) -> None:
    """A message to someone who has no active account yet (so no in-app notification), after commit."""

    def send() -> None:
        send_mail(subject, body, settings.NOTIFICATIONS_FROM_EMAIL, [to])

    transaction.on_commit(send, robust=True)


# Registration and e-mail confirmation ---------------------------------------------------------------


def confirmation_token(user: User) -> str:
    """A signed, timestamped token naming the user and the address it confirms."""
    return signing.TimestampSigner(salt=_CONFIRMATION_SALT).sign(f"{user.pk}:{user.email}")


def _send_confirmation(user: User, vendor: Vendor) -> None:
    with translation.override(user.preferred_language):
        link = settings.SITE_URL + reverse("vendors:confirm_email", args=[confirmation_token(user)])
        subject = _("Confirm your e-mail address")
        body = _(
            "You registered %(vendor)s on the procurement portal. Open this link within %(days)s days to confirm "
            "your e-mail address and activate your account:\n\n%(link)s"
        ) % {"vendor": vendor.legal_name, "days": CONFIRMATION_MAX_AGE.days, "link": link}
    _mail_on_commit(to=user.email, subject=subject, body=body)


@transaction.atomic
def vendor_register(
    *,
    company: dict,
    categories: Iterable[VendorCategory] = (),
    email: str,
    full_name: str,
    password: str,
    language: str = "ar",
) -> Vendor:
    """A company registers itself and its first user, who becomes its administrator once the e-mail is
    confirmed. The vendor waits in ``pending`` for an officer's verification."""
    vendor = Vendor(**{name: company.get(name, "") for name in VENDOR_FIELDS})
    errors: dict[str, list] = {}
    try:
        vendor.full_clean()
    except ValidationError as error:
        errors.update(error.message_dict)
    candidate = User(email=email, full_name=full_name)
    try:
        validate_password(password, candidate)
    except ValidationError as error:
        errors.setdefault("password", []).extend(error.messages)
    if User.objects.filter(email__iexact=email).exists():
        errors.setdefault("user_email", []).append(_("An account with this e-mail address already exists."))
    if errors:
        raise ValidationError(errors)
    user = user_create(
        actor=None,
        email=email,
        full_name=full_name,
        password=password,
        roles=[Role.VENDOR_USER],
        is_active=False,
        preferred_language=language,
    )
    vendor.save()
    vendor.categories.set(categories)
    VendorMembership.objects.create(vendor=vendor, user=user, is_administrator=True)
    audit_event_append(
        action="vendor.registered",
        actor=user,
        obj=vendor,
        payload={"after": model_snapshot(vendor), "administrator": user.pk},
    )
    _send_confirmation(user, vendor)
    return vendor


@transaction.atomic
def vendor_confirm_email(*, token: str) -> User:
    """Activate the account named by a valid confirmation token (a second use changes nothing)."""
    signer = signing.TimestampSigner(salt=_CONFIRMATION_SALT)
    try:
        value = signer.unsign(token, max_age=CONFIRMATION_MAX_AGE)
    except signing.SignatureExpired as error:
        raise ActionRefused(_("This confirmation link has expired. Please register again or ask for help.")) from error
    except signing.BadSignature as error:
        raise ActionRefused(_("This confirmation link is not valid. Check that you copied all of it.")) from error
    user_id, _separator, email = value.partition(":")
    user = User.objects.select_for_update().filter(pk=user_id, email=email).first()
    if user is None:
        raise ActionRefused(_("This confirmation link is not valid. Check that you copied all of it."))
    if not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
        user.__dict__.pop("role_names", None)
        audit_event_append(action="accounts.user.email_confirmed", actor=user, obj=user, payload={"email": email})
    return user


# Colleagues --------------------------------------------------------------------------------------


@transaction.atomic
def vendor_invite_colleague(*, actor, vendor: Vendor, email: str) -> VendorInvitation:
    vendor = _locked(vendor)
    require_perm(actor, "vendors.change_vendor", vendor)
    email = User.objects.normalize_email(email).lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": _("This person already has an account; an account belongs to one vendor.")})
    now = _now()
    invitation = VendorInvitation.objects.create(
        vendor=vendor,
        email=email,
        token=secrets.token_urlsafe(32),
        invited_by=actor,
        created_at=now,
        expires_at=now + INVITATION_VALIDITY,
    )
    audit_event_append(
        action="vendor.colleague_invited",
        actor=actor,
        obj=vendor,
        payload={"email": email, "invitation": invitation.pk},
    )
    with translation.override(actor.preferred_language):
        link = settings.SITE_URL + reverse("vendors:invitation_accept", args=[invitation.token])
        subject = _("%(person)s invites you to %(vendor)s on the procurement portal") % {
            "person": actor.full_name,
            "vendor": vendor.legal_name,
        }
        body = _(
            "%(person)s invites you to act for %(vendor)s on the procurement portal. Open this link before "
            "%(expires)s to choose your name and password:\n\n%(link)s"
        ) % {
            "person": actor.full_name,
            "vendor": vendor.legal_name,
            "expires": timezone.localtime(invitation.expires_at).strftime("%Y-%m-%d %H:%M"),
            "link": link,
        }
    _mail_on_commit(to=email, subject=subject, body=body)
    return invitation


def open_invitation(token: str) -> VendorInvitation:
    """The invitation with this token, if it can still be accepted; otherwise a refusal saying why."""
    invitation = VendorInvitation.objects.select_related("vendor").filter(token=token).first()
    if invitation is None:
        raise ActionRefused(_("This invitation link is not valid."))
    if invitation.accepted_at is not None:
        raise ActionRefused(_("This invitation has already been accepted. Sign in instead."))
    if _now() >= invitation.expires_at:
        raise ActionRefused(_("This invitation has expired. Ask your colleague to invite you again."))
    return invitation


@transaction.atomic
def vendor_invitation_accept(*, token: str, full_name: str, password: str, actor=None) -> User:
    """The invitee chooses a name and password; the account is active at once (the link proved the address)."""
    if actor is not None and actor.is_authenticated:
        # A signed-in person already has an account, and an account belongs to at most one vendor.
        raise PermissionDenied("vendors.accept_invitation")
    invitation = open_invitation(token)
    invitation = VendorInvitation.objects.select_for_update().select_related("vendor").get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise ActionRefused(_("This invitation has already been accepted. Sign in instead."))
    if User.objects.filter(email__iexact=invitation.email).exists():
        raise ActionRefused(_("An account with this e-mail address already exists; it cannot join another vendor."))
    try:
        validate_password(password, User(email=invitation.email, full_name=full_name))
    except ValidationError as error:
        raise ValidationError({"password": error.messages}) from error
    user = user_create(
        actor=None,
        email=invitation.email,
        full_name=full_name,
        password=password,
        roles=[Role.VENDOR_USER],
        preferred_language=invitation.invited_by.preferred_language,
    )
    VendorMembership.objects.create(vendor=invitation.vendor, user=user, invited_by=invitation.invited_by)
    invitation.accepted_at = _now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit_event_append(
        action="vendor.colleague_joined", actor=user, obj=invitation.vendor, payload={"invitation": invitation.pk}
    )
    _notify_vendor(
        invitation.vendor,
        "vendor.colleague_joined",
        recipients=vendor_administrators(invitation.vendor),
        person=user.full_name,
    )
    return user


# Documents ---------------------------------------------------------------------------------------


@transaction.atomic
def vendor_document_upload(
    *,
    actor,
    vendor: Vendor,
    kind: str,
    uploaded_file,
    issued_on: datetime.date,
    expires_on: datetime.date | None,
) -> VendorDocument:
    """Store a checked file under a generated name; it replaces the current document of the same kind."""
    vendor = _locked(vendor)
    require_perm(actor, "vendors.upload_vendor_document", vendor)
    today = _today()
    if kind in MANDATORY_KINDS and expires_on is None:
        raise ValidationError({"expires_on": _("Give the date this document expires.")})
    if expires_on is not None and expires_on <= today:
        raise ValidationError({"expires_on": _("This document has already expired; upload a current one.")})
    if expires_on is not None and expires_on <= issued_on:
        raise ValidationError({"expires_on": _("A document expires after the date it was issued.")})
    if issued_on > today:
        raise ValidationError({"issued_on": _("A document cannot be issued in the future.")})
    try:
        facts = inspect_upload(uploaded_file)
    except ValidationError as error:
        raise ValidationError({"file": error.messages}) from error
    document = VendorDocument(
        vendor=vendor,
        kind=kind,
        original_name=(uploaded_file.name or "")[:255],
        content_type=facts.content_type,
        size=facts.size,
        sha256=facts.sha256,
        issued_on=issued_on,
        expires_on=expires_on,
        uploaded_by=actor,
        uploaded_at=_now(),
    )
    document.file.save("upload", uploaded_file, save=False)
    try:
        document.save()
        replaced: list[int] = []
        if kind != DocumentKind.OTHER:
            previous = vendor.documents.filter(kind=kind, superseded_by__isnull=True).exclude(pk=document.pk)
            replaced = list(previous.values_list("pk", flat=True))
            previous.update(superseded_by=document)
        audit_event_append(
            action="vendor.document_uploaded",
            actor=actor,
            obj=vendor,
            payload={
                "document_id": document.pk,
                "kind": kind,
                "file_name": document.original_name,
                "content_type": document.content_type,
                "size": document.size,
                "sha256": document.sha256,
                "issued_on": issued_on,
                "expires_on": expires_on,
                "replaces": replaced,
            },
        )
    except Exception:
        # Storage is not transactional: the file of a rolled-back upload must not stay behind.
        document.file.storage.delete(document.file.name)
        raise
    return document


# Verification, suspension, reinstatement ----------------------------------------------------------


@transaction.atomic
def vendor_verify(*, actor, vendor: Vendor) -> Vendor:
    vendor = _locked(vendor)
    require_perm(actor, "vendors.verify_vendor", vendor)
    if vendor.status == VendorStatus.PENDING:
        missing = vendor.expired_mandatory_kinds(_today())
        if missing:
            raise ActionRefused(
                _("It cannot be verified yet: these documents are missing or expired: %(kinds)s.")
                % {"kinds": _kind_labels(missing)}
            )
    source, target = _transition(vendor, vendor.verify, _("verified"), by=actor, now=_now())
    vendor.save(update_fields=["status", "verified_by", "verified_at"])
    _record(vendor, actor=actor, name="verified", source=source, target=target)
    _notify_vendor(vendor, "vendor.verified")
    return vendor


def _suspend(*, actor, vendor: Vendor, reason: str) -> Vendor:
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for the suspension.")})
    source, target = _transition(vendor, vendor.suspend, _("suspended"), reason=reason)
    vendor.save(update_fields=["status", "suspension_reason"])
    _record(vendor, actor=actor, name="suspended", source=source, target=target, reason=reason)
    _notify_vendor(vendor, "vendor.suspended", recipients=vendor_administrators(vendor), reason=reason)
    return vendor


@transaction.atomic
def vendor_suspend(*, actor, vendor: Vendor, reason: str) -> Vendor:
    """An officer suspends a vendor; ``actor=None`` is the system (expired documents)."""
    vendor = _locked(vendor)
    if actor is not None:
        require_perm(actor, "vendors.suspend_vendor", vendor)
    return _suspend(actor=actor, vendor=vendor, reason=reason)


@transaction.atomic
def vendor_reinstate(*, actor, vendor: Vendor) -> Vendor:
    vendor = _locked(vendor)
    require_perm(actor, "vendors.reinstate_vendor", vendor)
    if vendor.status == VendorStatus.SUSPENDED:
        missing = vendor.expired_mandatory_kinds(_today())
        if missing:
            raise ActionRefused(
                _("It cannot be reinstated while these documents are missing or expired: %(kinds)s.")
                % {"kinds": _kind_labels(missing)}
            )
    source, target = _transition(vendor, vendor.reinstate, _("reinstated"))
    vendor.save(update_fields=["status", "suspension_reason"])
    _record(vendor, actor=actor, name="reinstated", source=source, target=target)
    _notify_vendor(vendor, "vendor.reinstated")
    return vendor


def suspend_vendors_with_expired_documents(today: datetime.date) -> list[Vendor]:
    """Suspend every verified vendor whose mandatory documents are no longer valid after ``today``.

    Safe to run any number of times: a suspended vendor is no longer verified, so it is never picked twice.
    Each vendor is suspended in its own transaction, so one failure does not undo the others; a vendor another
    transaction holds is left for the next run. One query when no document has expired.
    """
    suspended: list[Vendor] = []
    candidates = Vendor.objects.filter(status=VendorStatus.VERIFIED).with_expired_mandatory_documents(today)
    for pk in candidates.values_list("pk", flat=True).order_by("pk"):
        with transaction.atomic():
            vendor = _locked_unless_busy(pk)
            if vendor is None:
                continue
            missing = vendor.expired_mandatory_kinds(today)
            if vendor.status != VendorStatus.VERIFIED or not missing:
                continue
            with translation.override(settings.LANGUAGE_CODE):
                reason = _("Mandatory documents are missing or expired: %(kinds)s.") % {"kinds": _kind_labels(missing)}
            suspended.append(_suspend(actor=None, vendor=vendor, reason=reason))
    return suspended


# Debarment ---------------------------------------------------------------------------------------


@transaction.atomic
def vendor_debar(
    *,
    actor,
    vendor: Vendor,
    reason: str,
    legal_reference: str,
    starts_on: datetime.date,
    ends_on: datetime.date | None,
) -> Debarment:
    vendor = _locked(vendor)
    require_perm(actor, "vendors.debar_vendor", vendor)
    debarment = Debarment(
        vendor=vendor,
        reason=reason,
        legal_reference=legal_reference,
        starts_on=starts_on,
        ends_on=ends_on,
        decided_by=actor,
        decided_at=_now(),
    )
    debarment.full_clean()
    if ends_on is not None and ends_on < _today():
        raise ValidationError({"ends_on": _("The debarment would already be over.")})
    source, target = _transition(vendor, vendor.debar, _("debarred"))
    vendor.save(update_fields=["status"])
    debarment.save()
    _record(
        vendor,
        actor=actor,
        name="debarred",
        source=source,
        target=target,
        debarment=debarment.pk,
        reason=reason,
        legal_reference=legal_reference,
        starts_on=starts_on,
        ends_on=ends_on,
    )
    _notify_vendor(vendor, "vendor.debarred", reason=reason, legal_reference=legal_reference)
    return debarment


@transaction.atomic
def vendor_debarment_lift(*, actor, debarment: Debarment) -> Debarment:
    """Another approver lifts the debarment; the vendor returns to verified (or suspended, if its documents
    lapsed meanwhile)."""
    vendor = _locked(debarment.vendor_id)
    debarment = Debarment.objects.select_for_update().get(pk=debarment.pk)
    if actor is not None and actor.pk == debarment.decided_by_id:
        raise ActionRefused(_("You decided this debarment, so another approver must lift it."))
    require_perm(actor, "vendors.lift_debarment", debarment)
    if debarment.lifted_at is not None:
        raise ActionRefused(_("This debarment has already been lifted."))
    debarment.lifted_at = _now()
    debarment.lifted_by = actor
    debarment.save(update_fields=["lifted_at", "lifted_by"])
    source = target = vendor.status
    others = vendor.debarments.filter(lifted_at__isnull=True).exclude(pk=debarment.pk).exists()
    if vendor.status == VendorStatus.DEBARRED and not others:
        source, target = _transition(
            vendor,
            vendor.end_debarment,
            _("reinstated"),
            documents_current=vendor.mandatory_documents_current(_today()),
        )
        vendor.save(update_fields=["status", "suspension_reason"])
    _record(vendor, actor=actor, name="debarment_lifted", source=source, target=target, debarment=debarment.pk)
    _notify_vendor(vendor, "vendor.debarment_lifted")
    return debarment


def _debarments_not_over(today: datetime.date) -> QuerySet[Debarment]:
    """Debarments not lifted whose period has not ended by ``today`` (including those yet to start)."""
    return Debarment.objects.filter(lifted_at__isnull=True).filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))


def _still_debarred(vendor: Vendor, today: datetime.date) -> bool:
    return _debarments_not_over(today).filter(vendor=vendor).exists()


def end_expired_debarments(today: datetime.date) -> list[Vendor]:
    """Return to verified (or suspended, if documents lapsed) every debarred vendor whose debarment
    periods have all ended before ``today``. Safe to run any number of times; one transaction per vendor
    (a vendor another transaction holds is left for the next run); one query when no debarment has ended."""
    ended: list[Vendor] = []
    candidates = (
        Vendor.objects.filter(status=VendorStatus.DEBARRED)
        .filter(~Exists(_debarments_not_over(today).filter(vendor=OuterRef("pk"))))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for pk in candidates:
        with transaction.atomic():
            vendor = _locked_unless_busy(pk)
            if vendor is None or vendor.status != VendorStatus.DEBARRED or _still_debarred(vendor, today):
                continue
            source, target = _transition(
                vendor,
                vendor.end_debarment,
                _("reinstated"),
                documents_current=vendor.mandatory_documents_current(today),
            )
            vendor.save(update_fields=["status", "suspension_reason"])
            _record(vendor, actor=None, name="debarment_ended", source=source, target=target, on=today)
            _notify_vendor(vendor, "vendor.debarment_lifted")
            ended.append(vendor)
    return ended
