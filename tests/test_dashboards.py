"""Each role's dashboard lists what needs that person's action now; notifications are private."""

import datetime

from accounts.roles import Role
from notifications.models import Notification
from notifications.services import notify
from procurement.models import Clarification
from procurement.models.tenders import TenderStatus
from tests.accounts.factories import UserFactory
from tests.procurement.tender_factories import TenderFactory, make_pending, make_published, set_status


def test_officer_sees_returned_drafts_and_unanswered_questions(client, officer, programme, vendor_user):
    returned = TenderFactory(phase__programme=programme, agency=officer.agency, created_by=officer)
    set_status(returned, TenderStatus.DRAFT, return_comments="Fix the payment schedule.")
    published = make_published(TenderFactory(phase__programme=programme, agency=officer.agency, created_by=officer))
    Clarification.objects.create(tender=published, number=1, question="Is hosting local?", asked_by=vendor_user)
    elsewhere = TenderFactory()  # another agency's tender
    set_status(elsewhere, TenderStatus.DRAFT, return_comments="Not yours.")

    client.force_login(officer)
    page = client.get("/en/dashboard/").content.decode()
    assert returned.reference in page
    assert "Fix the payment schedule." in page
    assert f"{published.reference} · question 1" in page
    assert elsewhere.reference not in page


def test_approver_sees_tenders_awaiting_approval_but_not_their_own(client, approver, officer, programme):
    waiting = make_pending(TenderFactory(phase__programme=programme, agency=officer.agency, created_by=officer))
    own = make_pending(TenderFactory(phase__programme=programme, agency=officer.agency, created_by=approver))

    client.force_login(approver)
    page = client.get("/en/dashboard/").content.decode()
    assert waiting.reference in page
    assert own.reference not in page


def test_vendor_sees_open_tenders_closing_soonest_first(client, vendor_user):
    later = make_published(TenderFactory())
    sooner = make_published(TenderFactory(submission_deadline=later.submission_deadline - datetime.timedelta(days=5)))
    draft = TenderFactory()

    client.force_login(vendor_user)
    page = client.get("/en/dashboard/").content.decode()
    assert page.index(sooner.reference) < page.index(later.reference)
    assert draft.reference not in page


def test_notifications_are_listed_only_to_their_recipient_and_can_be_marked_read(
    client, db, django_capture_on_commit_callbacks
):
    tender = make_published(TenderFactory())
    alice = UserFactory(roles=[Role.VENDOR_USER], preferred_language="en")
    bob = UserFactory(roles=[Role.VENDOR_USER], preferred_language="en")
    with django_capture_on_commit_callbacks(execute=True):
        [mine] = notify(recipients=[alice], kind="addendum.issued", tender=tender, context={"number": 1})

    client.force_login(bob)
    assert tender.reference not in client.get("/en/notifications/").content.decode()

    client.force_login(alice)
    page = client.get("/en/notifications/").content.decode()
    assert f"Addendum 1 to {tender.reference}" in page
    assert tender.get_public_url() in page  # a vendor is sent to the public page, not the internal one

    client.force_login(bob)
    client.post("/en/notifications/read/", {"notification": [mine.pk]})
    assert Notification.objects.get(pk=mine.pk).read_at is None  # bob cannot mark alice's

    client.force_login(alice)
    response = client.post("/en/notifications/read/", {"notification": [mine.pk]})
    assert response.status_code == 302
    assert Notification.objects.get(pk=mine.pk).read_at is not None


def test_notifications_page_needs_sign_in(client, db):
    response = client.get("/en/notifications/")
    assert response.status_code == 302
    assert "/accounts/sign-in/" in response["Location"]


def test_vendor_notifications_link_members_to_their_company_page(db, officer, django_capture_on_commit_callbacks):
    from tests.vendors.factories import VendorFactory, member, with_documents
    from vendors import services as vendor_services

    vendor = VendorFactory()
    administrator = member(vendor, administrator=True)
    with_documents(vendor, uploaded_by=administrator)
    with django_capture_on_commit_callbacks(execute=True):
        vendor_services.vendor_verify(actor=officer, vendor=vendor)

    notification = Notification.objects.get(recipient=administrator, kind="vendor.verified")
    assert notification.link == f"/en/vendors/company/{vendor.pk}/"
