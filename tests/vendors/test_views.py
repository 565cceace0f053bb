"""The vendor pages as people use them: registering, confirming, accepting an invitation, the company
page, the officers' list and vendor page with only the allowed actions, and the public debarment list."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from tests.accounts.factories import UserFactory
from tests.html_checks import check_page, form_values
from tests.vendors.factories import VendorFactory, add_document, member, pdf_upload, verified_vendor, with_documents
from vendors import services
from vendors.models import Debarment, DocumentKind, Vendor, VendorCategory, VendorDocument, VendorStatus

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
PASSWORD = "a-long-and-unusual-passphrase"


def registration(**overrides) -> dict:
    return {
        "legal_name_en": "Delta Telecom",
        "legal_name_ar": "دلتا للاتصالات",
        "commercial_registration_number": "CR-445566",
        "tax_number": "TAX-445566",
        "address": "5 Port Said Street, Alexandria",
        "phone": "+20 3 444 5566",
        "email": "office@delta.example.com",
        "website": "delta.example.com",
        "categories": [VendorCategory.objects.get(code="telecommunications").pk],
        "full_name": "Omar Farouk",
        "user_email": "omar@delta.example.com",
        "password": PASSWORD,
        "password_again": PASSWORD,
    } | overrides


def assert_accessible(response, title_part: str | None = None) -> None:
    report = check_page(response.content)
    assert report.main_count == 1
    assert report.unlabelled_controls == []
    assert report.duplicate_ids == []
    assert report.dangling_references == []
    assert response.content.decode().count("<h1") == 1
    if title_part:
        assert title_part in report.title


# Registration and confirmation -------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_registration_page_is_public_and_every_field_is_labelled(client, lang):
    response = client.get(f"/{lang}/vendors/register/")
    assert response.status_code == 200
    assert_accessible(response)


def test_registering_sends_a_confirmation_link_that_activates_the_account(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/en/vendors/register/", registration())
    assert response.status_code == 302 and response["Location"].endswith("/vendors/register/done/")
    done = client.get(response["Location"])
    assert "omar@delta.example.com" in done.content.decode()
    assert_accessible(done)

    link = re.search(r"https?://\S+", mail.outbox[0].body).group(0)
    path = "/" + link.split("/", 3)[3]
    page = client.get(path)
    assert page.status_code == 200 and not User.objects.get(email="omar@delta.example.com").is_active
    assert_accessible(page)
    confirmed = client.post(path)
    assert confirmed.status_code == 302
    assert User.objects.get(email="omar@delta.example.com").is_active
    assert Vendor.objects.get().status == VendorStatus.PENDING


def test_mismatched_passwords_keep_everything_typed(client):
    response = client.post("/en/vendors/register/", registration(password_again="something-different-1"))

    assert response.status_code == 200
    report = check_page(response.content)
    assert report.has_error_summary
    assert "The two passwords differ" in response.content.decode()
    values = form_values(response.content)
    assert values["legal_name_ar"] == ["دلتا للاتصالات"]
    assert values["commercial_registration_number"] == ["CR-445566"]
    assert values["user_email"] == ["omar@delta.example.com"]
    assert values["full_name"] == ["Omar Farouk"]
    assert values["categories"] == [str(VendorCategory.objects.get(code="telecommunications").pk)]
    assert not Vendor.objects.exists() and not User.objects.filter(email="omar@delta.example.com").exists()


def test_a_duplicate_commercial_registration_number_is_a_clear_message(client):
    VendorFactory(commercial_registration_number="CR-445566")
    response = client.post("/en/vendors/register/", registration())
    assert response.status_code == 200
    assert "already registered" in response.content.decode()
    assert form_values(response.content)["legal_name_en"] == ["Delta Telecom"]
    assert Vendor.objects.count() == 1


def test_a_tampered_confirmation_link_says_so(client):
    response = client.post("/en/vendors/confirm/1:someone@example.com:abc:forged/")
    assert response.status_code == 400
    assert "not valid" in response.content.decode()
    assert_accessible(response)


# Invitations -------------------------------------------------------------------------------------


@pytest.fixture
def company():
    vendor = VendorFactory()
    return vendor, member(vendor, administrator=True)


def test_an_invitee_sets_name_and_password_on_the_invitation_page(client, company):
    vendor, administrator = company
    invitation = services.vendor_invite_colleague(actor=administrator, vendor=vendor, email="nour@example.com")
    url = f"/en/vendors/invitations/{invitation.token}/"
    page = client.get(url)
    assert page.status_code == 200
    assert_accessible(page)

    response = client.post(url, {"full_name": "Nour Salem", "password": PASSWORD, "password_again": PASSWORD})
    assert response.status_code == 302
    assert User.objects.get(email="nour@example.com").vendor_membership.vendor == vendor
    again = client.post(url, {"full_name": "Someone", "password": PASSWORD, "password_again": PASSWORD})
    assert again.status_code == 400 and "already been accepted" in again.content.decode()


def test_a_signed_in_user_of_another_vendor_cannot_accept(client, company):
    vendor, administrator = company
    invitation = services.vendor_invite_colleague(actor=administrator, vendor=vendor, email="nour@example.com")
    client.force_login(member(VendorFactory()))
    response = client.post(
        f"/en/vendors/invitations/{invitation.token}/",
        {"full_name": "Nour Salem", "password": PASSWORD, "password_again": PASSWORD},
    )
    assert response.status_code == 403
    assert not User.objects.filter(email="nour@example.com").exists()


# The company page --------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_members_see_their_company_documents_colleagues_and_forms(client, company, lang):
    vendor, administrator = company
    with_documents(vendor, uploaded_by=administrator)
    client.force_login(administrator)
    response = client.get(f"/{lang}/vendors/company/{vendor.pk}/")
    assert response.status_code == 200
    assert_accessible(response, vendor.legal_name)
    html = response.content.decode()
    assert 'name="document-file"' in html and 'name="invite-email"' in html
    assert administrator.email in html
    assert client.get(f"/{lang}/vendors/company/").status_code == 302


def test_a_colleague_who_is_not_administrator_uploads_but_does_not_invite(client, company):
    vendor, _administrator = company
    client.force_login(member(vendor))
    html = client.get(f"/en/vendors/company/{vendor.pk}/").content.decode()
    assert 'name="document-file"' in html and 'name="invite-email"' not in html
    assert (
        client.post(f"/en/vendors/company/{vendor.pk}/invitations/", {"invite-email": "x@example.com"}).status_code
        == 403
    )


def test_a_vendor_user_never_sees_another_vendors_company_or_documents(client, company):
    vendor, administrator = company
    document = add_document(
        vendor, DocumentKind.TAX_CERTIFICATE, expires_on=timezone.localdate() + DAY, uploaded_by=administrator
    )
    client.force_login(member(VendorFactory(), administrator=True))

    assert client.get(f"/en/vendors/company/{vendor.pk}/").status_code == 403
    assert client.get(f"/en/vendors/documents/{document.pk}/").status_code == 403
    assert client.get(f"/en/vendors/{vendor.pk}/").status_code == 403
    upload = {"document-kind": "tax_certificate", "document-file": pdf_upload(), "document-issued_on": "2026-01-01"}
    assert client.post(f"/en/vendors/company/{vendor.pk}/documents/", upload).status_code == 403
    assert client.get("/en/vendors/").status_code == 403
    assert client.get("/en/vendors/company/999999/").status_code == 404


def test_a_member_downloads_the_companys_document(client, company):
    vendor, administrator = company
    document = add_document(
        vendor, DocumentKind.TAX_CERTIFICATE, expires_on=timezone.localdate() + DAY, uploaded_by=administrator
    )
    client.force_login(administrator)
    response = client.get(f"/en/vendors/documents/{document.pk}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"


def test_a_disguised_upload_is_refused_on_the_page_and_the_form_keeps_the_dates(client, company):
    vendor, administrator = company
    client.force_login(administrator)
    response = client.post(
        f"/en/vendors/company/{vendor.pk}/documents/",
        {
            "document-kind": "tax_certificate",
            "document-file": pdf_upload("tax.pdf", b"MZ\x90\x00not a pdf"),
            "document-issued_on": "2026-01-01",
            "document-expires_on": (timezone.localdate() + 90 * DAY).isoformat(),
        },
    )
    assert response.status_code == 200
    assert "not accepted" in response.content.decode()
    assert form_values(response.content)["document-issued_on"] == ["2026-01-01"]
    assert not VendorDocument.objects.exists()


# The officers' side ------------------------------------------------------------------------------


def listed(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'href="/en/vendors/(\d+)/"', response.content.decode())]


def test_the_vendor_list_takes_as_many_queries_for_100_vendors_as_for_5(client, officer, django_assert_max_num_queries):
    categories = list(VendorCategory.objects.all())
    for index in range(5):
        VendorFactory().categories.set(categories[index % 3 : index % 3 + 2])
    client.force_login(officer)
    with CaptureQueriesContext(connection) as five:
        assert len(listed(client.get("/en/vendors/"))) == 5
    for index in range(95):
        VendorFactory().categories.set(categories[index % 3 : index % 3 + 2])

    with django_assert_max_num_queries(len(five.captured_queries)):
        response = client.get("/en/vendors/")
    assert len(listed(response)) == 25
    assert_accessible(response)


def test_the_vendor_list_filters_by_status_category_and_text(client, officer):
    verified, _administrator = verified_vendor(legal_name_en="Sphinx Software")
    verified.categories.set(VendorCategory.objects.filter(code="software-development"))
    pending = VendorFactory(legal_name_en="Pyramid Training")
    pending.categories.set(VendorCategory.objects.filter(code="training"))
    client.force_login(officer)
    training = VendorCategory.objects.get(code="training").pk

    assert listed(client.get("/en/vendors/?status=verified")) == [verified.pk]
    assert listed(client.get(f"/en/vendors/?category={training}")) == [pending.pk]
    assert listed(client.get("/en/vendors/?q=sphinx")) == [verified.pk]


def test_an_officer_sees_only_verify_on_a_pending_vendor_and_verifies_it(client, officer, company):
    vendor, administrator = company
    with_documents(vendor, uploaded_by=administrator)
    client.force_login(officer)
    page = client.get(f"/en/vendors/{vendor.pk}/")
    html = page.content.decode()
    assert_accessible(page, vendor.legal_name)
    assert f"/vendors/{vendor.pk}/verify/" in html
    for absent in ("reinstate", "debar/", "lift", "suspend/"):
        assert f"/vendors/{vendor.pk}/{absent}" not in html

    response = client.post(f"/en/vendors/{vendor.pk}/verify/")
    assert response.status_code == 302
    assert Vendor.objects.get(pk=vendor.pk).status == VendorStatus.VERIFIED


def test_a_refused_verification_is_a_message_not_an_error(client, officer, company):
    vendor, _administrator = company
    client.force_login(officer)
    response = client.post(f"/en/vendors/{vendor.pk}/verify/", follow=True)
    assert response.status_code == 200
    assert "missing or expired" in response.content.decode()
    assert Vendor.objects.get(pk=vendor.pk).status == VendorStatus.PENDING


@pytest.mark.parametrize("action", ["verify", "suspend", "reinstate", "debar"])
def test_a_vendor_user_gets_403_for_every_officer_action(client, company, action):
    vendor, administrator = company
    client.force_login(administrator)
    assert client.post(f"/en/vendors/{vendor.pk}/{action}/", {"suspend-reason": "x"}).status_code == 403
    assert Vendor.objects.get(pk=vendor.pk).status == VendorStatus.PENDING


def test_an_approver_debars_and_the_public_list_shows_it_until_another_approver_lifts_it(client, approver, agency):
    vendor, _administrator = verified_vendor(legal_name_en="Cartel Systems")
    client.force_login(approver)
    page = client.get(f"/en/vendors/{vendor.pk}/")
    assert f"/vendors/{vendor.pk}/debar/" in page.content.decode()
    assert f"/vendors/{vendor.pk}/verify/" not in page.content.decode()
    assert_accessible(page)
    response = client.post(
        f"/en/vendors/{vendor.pk}/debar/",
        {
            "debar-reason": "Collusive bidding",
            "debar-legal_reference": "Procurement Law art. 42",
            "debar-starts_on": timezone.localdate().isoformat(),
            "debar-ends_on": "",
        },
    )
    assert response.status_code == 302
    debarment = Debarment.objects.get()

    client.logout()
    public = client.get("/en/vendors/debarments/")
    assert public.status_code == 200
    assert_accessible(public)
    html = public.content.decode()
    for text in ("Cartel Systems", "Collusive bidding", "Procurement Law art. 42", "indefinite"):
        assert text in html

    # Four eyes: the approver who decided sees no lift button, and is refused if they try.
    client.force_login(approver)
    assert f"/debarments/{debarment.pk}/lift/" not in client.get(f"/en/vendors/{vendor.pk}/").content.decode()
    assert client.post(f"/en/vendors/debarments/{debarment.pk}/lift/").status_code == 403

    other = UserFactory(email="approver2@example.gov", agency=agency, roles=[Role.APPROVER])
    client.force_login(other)
    assert f"/debarments/{debarment.pk}/lift/" in client.get(f"/en/vendors/{vendor.pk}/").content.decode()
    assert client.post(f"/en/vendors/debarments/{debarment.pk}/lift/").status_code == 302
    client.logout()
    assert "Cartel Systems" not in client.get("/en/vendors/debarments/").content.decode()


def test_a_debarment_form_with_errors_keeps_what_was_typed(client, approver):
    vendor, _administrator = verified_vendor()
    client.force_login(approver)
    response = client.post(
        f"/en/vendors/{vendor.pk}/debar/",
        {"debar-reason": "Fraud", "debar-legal_reference": "", "debar-starts_on": "2026-05-01", "debar-ends_on": ""},
    )
    assert response.status_code == 400
    assert form_values(response.content)["debar-reason"] == ["Fraud"]
    assert check_page(response.content).has_error_summary
    assert Vendor.objects.get(pk=vendor.pk).status == VendorStatus.VERIFIED


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_every_vendor_page_has_its_own_title(client, officer, company, lang):
    vendor, administrator = company
    client.force_login(officer)
    titles = {
        check_page(client.get(f"/{lang}/vendors/").content).title,
        check_page(client.get(f"/{lang}/vendors/{vendor.pk}/").content).title,
        check_page(client.get(f"/{lang}/vendors/debarments/").content).title,
    }
    client.logout()
    titles |= {
        check_page(client.get(f"/{lang}/vendors/register/").content).title,
        check_page(client.get(f"/{lang}/vendors/confirm/x/").content).title,
    }
    client.force_login(administrator)
    titles.add(check_page(client.get(f"/{lang}/vendors/company/{vendor.pk}/").content).title)
    assert len(titles) == 6
