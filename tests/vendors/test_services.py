"""The vendor services: registration and e-mail confirmation, colleagues, documents, and every move of
the vendor's state machine. For each, what the people involved would notice: the new state, the audit
event, who is told (in-app and by e-mail after the commit), and that a refusal changes nothing."""

from __future__ import annotations

import datetime
import io
import re
import time
from unittest import mock

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from audit.models import AuditEvent
from core.exceptions import ActionRefused
from notifications.models import Notification
from tests.accounts.factories import UserFactory
from tests.vendors.factories import (
    PDF_BYTES,
    VendorFactory,
    add_document,
    member,
    pdf_upload,
    set_status,
    verified_vendor,
    with_documents,
)
from vendors import services
from vendors.models import (
    Debarment,
    DocumentKind,
    Vendor,
    VendorCategory,
    VendorDocument,
    VendorInvitation,
    VendorMembership,
    VendorStatus,
)

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
PASSWORD = "a-long-and-unusual-passphrase"
COMPANY = {
    "legal_name_en": "Nile Digital Services",
    "legal_name_ar": "النيل للخدمات الرقمية",
    "commercial_registration_number": "CR-778899",
    "tax_number": "TAX-112233",
    "address": "12 Corniche, Cairo",
    "phone": "+20 2 5555 0000",
    "email": "office@nile.example.com",
    "website": "",
}


def register(**overrides) -> Vendor:
    arguments = {
        "company": COMPANY,
        "categories": VendorCategory.objects.filter(code__in=["it-services", "training"]),
        "email": "founder@nile.example.com",
        "full_name": "Amira Hassan",
        "password": PASSWORD,
        "language": "en",
    } | overrides
    return services.vendor_register(**arguments)


def link_in(message) -> str:
    return re.search(r"https?://\S+", message.body).group(0)


def token_in(message) -> str:
    return link_in(message).rstrip("/").rsplit("/", 1)[-1]


def events(action: str, vendor: Vendor) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, object_type="vendors.vendor", object_id=str(vendor.pk)))


def notified(kind: str) -> set[int]:
    return set(Notification.objects.filter(kind=kind).values_list("recipient_id", flat=True))


def mailed_to(user) -> list:
    return [message for message in mail.outbox if user.email in message.to]


def refresh(vendor: Vendor) -> Vendor:
    return Vendor.objects.get(pk=vendor.pk)


@pytest.fixture
def second_approver(agency):
    return UserFactory(email="approver2@example.gov", agency=agency, roles=[Role.APPROVER])


# Registration ------------------------------------------------------------------------------------


def test_registration_creates_a_pending_vendor_and_an_inactive_administrator(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        vendor = register()

    user = User.objects.get(email="founder@nile.example.com")
    assert vendor.status == VendorStatus.PENDING
    assert set(vendor.categories.values_list("code", flat=True)) == {"it-services", "training"}
    assert not user.is_active
    assert set(user.groups.values_list("name", flat=True)) == {Role.VENDOR_USER}
    assert VendorMembership.objects.get(user=user).vendor == vendor
    assert VendorMembership.objects.get(user=user).is_administrator
    assert events("vendor.registered", vendor)
    [message] = mailed_to(user)
    assert "/vendors/confirm/" in link_in(message)


def test_the_confirmation_e_mail_waits_for_the_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        register()
    assert mail.outbox == []
    assert len(callbacks) == 1


def test_a_second_registration_with_the_same_commercial_registration_number_is_refused():
    register()
    with pytest.raises(ValidationError) as refusal:
        register(email="someone.else@nile.example.com")
    assert "commercial_registration_number" in refusal.value.message_dict
    assert Vendor.objects.count() == 1
    assert not User.objects.filter(email="someone.else@nile.example.com").exists()


def test_registration_refuses_a_weak_password_and_an_e_mail_that_has_an_account(vendor_user):
    with pytest.raises(ValidationError) as refusal:
        register(email=vendor_user.email, password="short")
    assert {"password", "user_email"} <= set(refusal.value.message_dict)
    assert not Vendor.objects.exists()


# E-mail confirmation -----------------------------------------------------------------------------


def test_a_valid_confirmation_link_activates_the_account(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        register()
    user = services.vendor_confirm_email(token=token_in(mail.outbox[0]))
    assert User.objects.get(pk=user.pk).is_active
    assert AuditEvent.objects.filter(action="accounts.user.email_confirmed", actor_id=user.pk).exists()


def test_an_expired_confirmation_link_is_refused():
    register()
    user = User.objects.get(email="founder@nile.example.com")
    long_ago = time.time() - services.CONFIRMATION_MAX_AGE.total_seconds() - 60
    with mock.patch("django.core.signing.time.time", return_value=long_ago):
        token = services.confirmation_token(user)
    with pytest.raises(ActionRefused, match="expired"):
        services.vendor_confirm_email(token=token)
    assert not User.objects.get(pk=user.pk).is_active


def test_a_tampered_confirmation_link_is_refused():
    register()
    user = User.objects.get(email="founder@nile.example.com")
    token = services.confirmation_token(user)
    other = UserFactory(is_active=False)
    tampered = token.replace(f"{user.pk}:", f"{other.pk}:", 1)
    assert tampered != token
    with pytest.raises(ActionRefused, match="not valid"):
        services.vendor_confirm_email(token=tampered)
    assert not User.objects.get(pk=other.pk).is_active
    assert not User.objects.get(pk=user.pk).is_active


# Colleagues --------------------------------------------------------------------------------------


@pytest.fixture
def company():
    vendor = VendorFactory()
    return vendor, member(vendor, administrator=True)


def test_an_invited_colleague_joins_the_vendor_and_the_administrator_is_told(
    company, django_capture_on_commit_callbacks
):
    vendor, administrator = company
    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.vendor_invite_colleague(
            actor=administrator, vendor=vendor, email="Colleague@Nile.example.com"
        )
    assert invitation.email == "colleague@nile.example.com"
    assert "/vendors/invitations/" in link_in(mail.outbox[0])
    with django_capture_on_commit_callbacks(execute=True):
        user = services.vendor_invitation_accept(token=invitation.token, full_name="Karim Adel", password=PASSWORD)

    assert user.is_active and user.check_password(PASSWORD)
    membership = VendorMembership.objects.get(user=user)
    assert (membership.vendor, membership.is_administrator, membership.invited_by) == (vendor, False, administrator)
    assert set(user.groups.values_list("name", flat=True)) == {Role.VENDOR_USER}
    assert notified("vendor.colleague_joined") == {administrator.pk}
    assert mailed_to(administrator)
    assert events("vendor.colleague_invited", vendor) and events("vendor.colleague_joined", vendor)


def test_an_invitation_cannot_be_used_twice(company):
    vendor, administrator = company
    invitation = services.vendor_invite_colleague(actor=administrator, vendor=vendor, email="c@nile.example.com")
    services.vendor_invitation_accept(token=invitation.token, full_name="Karim Adel", password=PASSWORD)
    with pytest.raises(ActionRefused, match="already been accepted"):
        services.vendor_invitation_accept(token=invitation.token, full_name="Intruder", password=PASSWORD)
    assert VendorMembership.objects.filter(vendor=vendor).count() == 2


def test_an_expired_invitation_is_refused(company):
    vendor, administrator = company
    invitation = services.vendor_invite_colleague(actor=administrator, vendor=vendor, email="c@nile.example.com")
    later = timezone.now() + services.INVITATION_VALIDITY + DAY
    with mock.patch("vendors.services._now", return_value=later), pytest.raises(ActionRefused, match="expired"):
        services.vendor_invitation_accept(token=invitation.token, full_name="Karim Adel", password=PASSWORD)
    assert not User.objects.filter(email="c@nile.example.com").exists()


def test_another_vendors_user_cannot_accept_an_invitation(company):
    vendor, administrator = company
    other_vendor = VendorFactory()
    outsider = member(other_vendor)
    invitation = services.vendor_invite_colleague(actor=administrator, vendor=vendor, email="c@nile.example.com")

    with pytest.raises(PermissionDenied):
        services.vendor_invitation_accept(
            token=invitation.token, full_name="Outsider", password=PASSWORD, actor=outsider
        )
    with pytest.raises(ValidationError):
        services.vendor_invite_colleague(actor=administrator, vendor=vendor, email=outsider.email)
    assert VendorMembership.objects.get(user=outsider).vendor == other_vendor
    assert VendorInvitation.objects.get(pk=invitation.pk).accepted_at is None


def test_only_the_vendors_administrator_invites(company):
    vendor, _administrator = company
    colleague = member(vendor)
    outsider = member(VendorFactory(), administrator=True)
    for person in (colleague, outsider):
        with pytest.raises(PermissionDenied):
            services.vendor_invite_colleague(actor=person, vendor=vendor, email="c@nile.example.com")
    assert not VendorInvitation.objects.exists()


# Documents ---------------------------------------------------------------------------------------


def upload(vendor, actor, *, kind=DocumentKind.TAX_CERTIFICATE, file=None, expires_on=None):
    return services.vendor_document_upload(
        actor=actor,
        vendor=vendor,
        kind=kind,
        uploaded_file=file or pdf_upload(),
        issued_on=timezone.localdate() - DAY,
        expires_on=expires_on or timezone.localdate() + 100 * DAY,
    )


def test_an_upload_is_stored_under_a_generated_name_with_its_hash_and_replaces_the_previous(company):
    vendor, administrator = company
    first = upload(vendor, administrator, file=pdf_upload("tax certificate 2026.pdf"))
    second = upload(vendor, administrator)

    assert "certificate" not in first.file.name and first.file.name.startswith(f"vendors/{vendor.pk}/")
    assert first.original_name == "tax certificate 2026.pdf"
    assert (second.size, second.content_type) == (len(PDF_BYTES), "application/pdf")
    assert len(second.sha256) == 64
    assert VendorDocument.objects.get(pk=first.pk).superseded_by == second
    assert list(vendor.current_documents()) == [second]
    assert events("vendor.document_uploaded", vendor)[-1].payload["sha256"] == second.sha256


@override_settings(UPLOAD_MAX_BYTES=16)
def test_a_file_that_is_too_large_is_refused(company):
    vendor, administrator = company
    with pytest.raises(ValidationError) as refusal:
        upload(vendor, administrator)
    assert "largest accepted" in " ".join(refusal.value.message_dict["file"])
    assert not VendorDocument.objects.exists()


def test_a_program_disguised_as_a_pdf_is_refused(company):
    vendor, administrator = company
    with pytest.raises(ValidationError) as refusal:
        upload(vendor, administrator, file=pdf_upload("certificate.pdf", b"MZ\x90\x00 this is a program"))
    assert "not accepted" in " ".join(refusal.value.message_dict["file"])
    assert not VendorDocument.objects.exists()


def test_an_expired_or_undated_mandatory_document_is_refused(company):
    vendor, administrator = company
    with pytest.raises(ValidationError) as refusal:
        upload(vendor, administrator, expires_on=timezone.localdate())
    assert "expires_on" in refusal.value.message_dict
    with pytest.raises(ValidationError):
        services.vendor_document_upload(
            actor=administrator,
            vendor=vendor,
            kind=DocumentKind.COMMERCIAL_REGISTRATION,
            uploaded_file=pdf_upload(),
            issued_on=timezone.localdate(),
            expires_on=None,
        )
    assert not VendorDocument.objects.exists()


def test_another_vendors_user_cannot_upload(company, officer):
    vendor, _administrator = company
    for intruder in (member(VendorFactory(), administrator=True), officer):
        with pytest.raises(PermissionDenied):
            upload(vendor, intruder)
    assert not VendorDocument.objects.exists()


# Verification ------------------------------------------------------------------------------------


def test_an_officer_verifies_a_vendor_with_current_documents(company, officer, django_capture_on_commit_callbacks):
    vendor, administrator = company
    with_documents(vendor, uploaded_by=administrator)
    with django_capture_on_commit_callbacks(execute=True):
        services.vendor_verify(actor=officer, vendor=vendor)

    vendor = refresh(vendor)
    assert (vendor.status, vendor.verified_by) == (VendorStatus.VERIFIED, officer)
    [event] = events("vendor.verified", vendor)
    assert (event.actor_id, event.payload) == (officer.pk, {"from": "pending", "to": "verified"})
    assert notified("vendor.verified") == {administrator.pk}
    # The e-mail is in the administrator's language (Arabic unless they chose English).
    subject = mailed_to(administrator)[0].subject
    assert ("verified" in subject) if administrator.preferred_language == "en" else ("وُثِّق" in subject)


def test_verification_waits_for_the_commit_to_e_mail(company, officer, django_capture_on_commit_callbacks):
    vendor, administrator = company
    with_documents(vendor, uploaded_by=administrator)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.vendor_verify(actor=officer, vendor=vendor)
    assert mail.outbox == [] and len(callbacks) == 1


def test_verification_is_refused_while_a_mandatory_document_is_missing(company, officer):
    vendor, administrator = company
    add_document(
        vendor, DocumentKind.COMMERCIAL_REGISTRATION, expires_on=timezone.localdate() + DAY, uploaded_by=administrator
    )
    with pytest.raises(ActionRefused, match="Tax certificate"):
        services.vendor_verify(actor=officer, vendor=vendor)
    assert refresh(vendor).status == VendorStatus.PENDING
    assert not events("vendor.verified", vendor)


def test_a_verified_vendor_cannot_be_verified_again(officer):
    vendor, _administrator = verified_vendor()
    with pytest.raises(ActionRefused, match="Verified"):
        services.vendor_verify(actor=officer, vendor=vendor)


@pytest.mark.parametrize("who", ["approver", "auditor", "vendor_user", "administrator"])
def test_only_an_officer_verifies(who, request, company):
    vendor, administrator = company
    with_documents(vendor, uploaded_by=administrator)
    with pytest.raises(PermissionDenied):
        services.vendor_verify(actor=request.getfixturevalue(who), vendor=vendor)
    with pytest.raises(PermissionDenied):
        services.vendor_verify(actor=administrator, vendor=vendor)
    assert refresh(vendor).status == VendorStatus.PENDING


# Suspension and reinstatement --------------------------------------------------------------------


def test_an_officer_suspends_with_a_reason_and_the_administrators_are_told(officer, django_capture_on_commit_callbacks):
    vendor, administrator = verified_vendor()
    colleague = member(vendor)
    with django_capture_on_commit_callbacks(execute=True):
        services.vendor_suspend(actor=officer, vendor=vendor, reason="False statement in the tax certificate")

    vendor = refresh(vendor)
    assert (vendor.status, vendor.suspension_reason) == (
        VendorStatus.SUSPENDED,
        "False statement in the tax certificate",
    )
    [event] = events("vendor.suspended", vendor)
    assert event.payload["from"] == "verified" and event.payload["reason"].startswith("False")
    assert notified("vendor.suspended") == {administrator.pk}
    assert mailed_to(administrator) and not mailed_to(colleague)


def test_suspension_needs_a_verified_vendor_and_an_officer(approver, officer):
    pending = VendorFactory()
    with pytest.raises(ActionRefused):
        services.vendor_suspend(actor=officer, vendor=pending, reason="why")
    vendor, _administrator = verified_vendor()
    with pytest.raises(PermissionDenied):
        services.vendor_suspend(actor=approver, vendor=vendor, reason="why")
    assert refresh(vendor).status == VendorStatus.VERIFIED
    assert not Notification.objects.exists()


def test_reinstatement_needs_current_documents(officer, django_capture_on_commit_callbacks):
    vendor, administrator = verified_vendor()
    vendor = set_status(vendor, VendorStatus.SUSPENDED)
    add_document(vendor, DocumentKind.TAX_CERTIFICATE, expires_on=timezone.localdate(), uploaded_by=administrator)

    with pytest.raises(ActionRefused, match="Tax certificate"):
        services.vendor_reinstate(actor=officer, vendor=vendor)
    assert refresh(vendor).status == VendorStatus.SUSPENDED

    add_document(
        vendor, DocumentKind.TAX_CERTIFICATE, expires_on=timezone.localdate() + 30 * DAY, uploaded_by=administrator
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.vendor_reinstate(actor=officer, vendor=vendor)
    assert refresh(vendor).status == VendorStatus.VERIFIED
    assert events("vendor.reinstated", vendor)[0].payload == {"from": "suspended", "to": "verified"}
    assert notified("vendor.reinstated") == {administrator.pk}
    assert mailed_to(administrator)


def test_reinstatement_needs_a_suspended_vendor_and_an_officer(approver, officer):
    vendor, _administrator = verified_vendor()
    with pytest.raises(ActionRefused):
        services.vendor_reinstate(actor=officer, vendor=vendor)
    suspended = set_status(vendor, VendorStatus.SUSPENDED)
    with pytest.raises(PermissionDenied):
        services.vendor_reinstate(actor=approver, vendor=suspended)
    assert refresh(vendor).status == VendorStatus.SUSPENDED


def test_the_command_suspends_vendors_whose_documents_expired_once(django_capture_on_commit_callbacks):
    today = datetime.date(2027, 3, 1)
    lapsing, lapsing_admin = verified_vendor()
    add_document(lapsing, DocumentKind.SOCIAL_INSURANCE_CERTIFICATE, expires_on=today, uploaded_by=lapsing_admin)
    current, _current_admin = verified_vendor()
    for document in current.documents.all():
        VendorDocument.objects.filter(pk=document.pk).update(expires_on=today + DAY)
    pending = VendorFactory()

    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("suspend_expired_vendors", "--today", today.isoformat(), stdout=out)
    assert "Suspended 1 vendor(s)" in out.getvalue()
    assert refresh(lapsing).status == VendorStatus.SUSPENDED
    assert "Social insurance certificate" in refresh(lapsing).suspension_reason
    assert refresh(current).status == VendorStatus.VERIFIED
    assert refresh(pending).status == VendorStatus.PENDING
    [event] = events("vendor.suspended", lapsing)
    assert event.actor_id is None and event.actor_label == "system"
    assert notified("vendor.suspended") == {lapsing_admin.pk}
    assert len(mailed_to(lapsing_admin)) == 1

    before = (AuditEvent.objects.count(), Notification.objects.count(), len(mail.outbox))
    again = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("suspend_expired_vendors", "--today", today.isoformat(), stdout=again)
    assert "No verified vendor" in again.getvalue()
    assert (AuditEvent.objects.count(), Notification.objects.count(), len(mail.outbox)) == before


# Debarment ---------------------------------------------------------------------------------------


def debar(vendor, actor, **overrides):
    arguments = {
        "reason": "Collusive bidding in tender MCIT-2026-0003",
        "legal_reference": "Public Procurement Law, art. 42",
        "starts_on": timezone.localdate(),
        "ends_on": timezone.localdate() + 365 * DAY,
    } | overrides
    return services.vendor_debar(actor=actor, vendor=vendor, **arguments)


def test_an_approver_debars_a_vendor(approver, django_capture_on_commit_callbacks):
    vendor, administrator = verified_vendor()
    with django_capture_on_commit_callbacks(execute=True):
        debarment = debar(vendor, approver)

    assert refresh(vendor).status == VendorStatus.DEBARRED
    assert debarment.decided_by == approver and debarment.is_active(timezone.localdate())
    [event] = events("vendor.debarred", vendor)
    assert event.payload["legal_reference"] == "Public Procurement Law, art. 42"
    assert notified("vendor.debarred") == {administrator.pk}
    assert mailed_to(administrator)
    assert not refresh(vendor).may_bid(timezone.localdate())


def test_an_officer_cannot_debar_and_a_debarred_vendor_is_not_debarred_twice(officer, approver):
    vendor, _administrator = verified_vendor()
    with pytest.raises(PermissionDenied):
        debar(vendor, officer)
    debar(vendor, approver)
    with pytest.raises(ActionRefused):
        debar(vendor, approver)
    assert Debarment.objects.count() == 1


def test_a_debarment_cannot_end_before_it_starts(approver):
    vendor, _administrator = verified_vendor()
    with pytest.raises(ValidationError):
        debar(vendor, approver, ends_on=timezone.localdate() - DAY)
    assert refresh(vendor).status == VendorStatus.VERIFIED


def test_four_eyes_the_approver_who_debarred_cannot_lift(approver, second_approver, django_capture_on_commit_callbacks):
    vendor, administrator = verified_vendor()
    debarment = debar(vendor, approver)

    with pytest.raises(ActionRefused, match="another approver"):
        services.vendor_debarment_lift(actor=approver, debarment=debarment)
    assert refresh(vendor).status == VendorStatus.DEBARRED

    with django_capture_on_commit_callbacks(execute=True):
        services.vendor_debarment_lift(actor=second_approver, debarment=debarment)
    debarment.refresh_from_db()
    assert (debarment.lifted_by, refresh(vendor).status) == (second_approver, VendorStatus.VERIFIED)
    assert events("vendor.debarment_lifted", vendor)[0].payload["to"] == "verified"
    assert notified("vendor.debarment_lifted") == {administrator.pk}


def test_lifting_a_debarment_of_a_vendor_whose_documents_lapsed_leaves_it_suspended(approver, second_approver):
    vendor, administrator = verified_vendor()
    debarment = debar(vendor, approver)
    add_document(vendor, DocumentKind.TAX_CERTIFICATE, expires_on=timezone.localdate(), uploaded_by=administrator)
    services.vendor_debarment_lift(actor=second_approver, debarment=debarment)
    assert refresh(vendor).status == VendorStatus.SUSPENDED


def test_an_officer_cannot_lift_a_debarment(approver, officer):
    vendor, _administrator = verified_vendor()
    debarment = debar(vendor, approver)
    with pytest.raises(PermissionDenied):
        services.vendor_debarment_lift(actor=officer, debarment=debarment)


# may_bid -----------------------------------------------------------------------------------------


def test_may_bid_only_when_verified_with_unexpired_documents_and_no_active_debarment(approver):
    today = timezone.localdate()
    vendor, administrator = verified_vendor()
    assert vendor.may_bid(today)

    assert not set_status(vendor, VendorStatus.PENDING).may_bid(today)
    assert not set_status(vendor, VendorStatus.SUSPENDED).may_bid(today)
    vendor = set_status(vendor, VendorStatus.VERIFIED)

    # A document valid until today is expired for bidding today (expires_on must be after today).
    document = add_document(vendor, DocumentKind.TAX_CERTIFICATE, expires_on=today + DAY, uploaded_by=administrator)
    assert vendor.may_bid(today) and not vendor.may_bid(today + DAY)
    # A superseded document does not count, even if it is valid for longer.
    VendorDocument.objects.filter(pk=document.pk).update(expires_on=today + 900 * DAY)
    add_document(vendor, DocumentKind.TAX_CERTIFICATE, expires_on=today, uploaded_by=administrator)
    assert not vendor.may_bid(today)
    add_document(vendor, DocumentKind.TAX_CERTIFICATE, expires_on=today + 30 * DAY, uploaded_by=administrator)
    assert vendor.may_bid(today)

    # A debarment recorded while the vendor is still marked verified (e.g. a future one) stops bidding once active.
    Debarment.objects.create(
        vendor=vendor, reason="r", legal_reference="l", starts_on=today + 10 * DAY, ends_on=today + 20 * DAY,
        decided_by=approver,
    )  # fmt: skip
    assert vendor.may_bid(today)
    assert not vendor.may_bid(today + 10 * DAY)
    assert vendor.may_bid(today + 21 * DAY)


def test_a_debarment_ends_by_itself_when_its_period_is_over(approver):
    vendor, _administrator = verified_vendor()
    debar(vendor, approver, ends_on=timezone.localdate() + 30 * DAY)
    indefinite, _ = verified_vendor()
    debar(indefinite, approver, ends_on=None)

    call_command("suspend_expired_vendors", today=str(timezone.localdate() + 30 * DAY), stdout=io.StringIO())
    assert refresh(vendor).status == VendorStatus.DEBARRED  # the last day of the period still counts

    out = io.StringIO()
    call_command("suspend_expired_vendors", today=str(timezone.localdate() + 31 * DAY), stdout=out)
    assert refresh(vendor).status == VendorStatus.VERIFIED
    assert refresh(indefinite).status == VendorStatus.DEBARRED
    assert "Ended the debarment of 1 vendor(s)" in out.getvalue()
    [event] = events("vendor.debarment_ended", vendor)
    assert event.actor_id is None and event.payload["to"] == "verified"

    call_command("suspend_expired_vendors", today=str(timezone.localdate() + 31 * DAY), stdout=io.StringIO())
    assert len(events("vendor.debarment_ended", vendor)) == 1  # a second run changes nothing
