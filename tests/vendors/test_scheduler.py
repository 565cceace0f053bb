"""The scheduler (``advance_deadlines``: the function, its command and its self-rescheduling task) suspends a
verified vendor whose mandatory document has expired and ends a debarment whose period is over, by itself, once,
judged by the calendar day in the display time zone; with nothing due it changes nothing and costs one query
per step."""

from __future__ import annotations

import datetime
import io
import zoneinfo
from unittest import mock

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from audit.models import AuditEvent
from notifications.models import Notification
from procurement import tender_services
from procurement.tasks import advance_deadlines_task
from tests.vendors.factories import VendorFactory, add_document, set_status, verified_vendor
from vendors import services
from vendors.models import Debarment, DocumentKind, Vendor, VendorDocument, VendorStatus

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
RIYADH = zoneinfo.ZoneInfo("Asia/Riyadh")


@pytest.fixture(autouse=True)
def _display_time_zone(settings):
    settings.DISPLAY_TIME_ZONE = "Asia/Riyadh"


def midnight(day: datetime.date) -> datetime.datetime:
    """The first moment of ``day`` in the display time zone (21:00 UTC the day before)."""
    return datetime.datetime.combine(day, datetime.time(0, 0), tzinfo=RIYADH)


def at(moment: datetime.datetime):
    """Set the server's clock as the scheduler reads it."""
    return mock.patch("procurement.tender_services._now", return_value=moment)


def events(action: str, vendor: Vendor) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, object_type="vendors.vendor", object_id=str(vendor.pk)))


def notified(kind: str) -> set[int]:
    return set(Notification.objects.filter(kind=kind).values_list("recipient_id", flat=True))


def mailed_to(user) -> list:
    return [message for message in mail.outbox if user.email in message.to]


def status(vendor: Vendor) -> str:
    return Vendor.objects.values_list("status", flat=True).get(pk=vendor.pk)


def footprint() -> tuple[int, int, int]:
    return AuditEvent.objects.count(), Notification.objects.count(), len(mail.outbox)


@pytest.fixture
def vendors_around_an_expiry():
    """On ``day`` a verified vendor's social insurance certificate expires; the others are left alone."""
    day = timezone.localdate() + 10 * DAY
    lapsing, lapsing_admin = verified_vendor()
    add_document(lapsing, DocumentKind.SOCIAL_INSURANCE_CERTIFICATE, expires_on=day, uploaded_by=lapsing_admin)
    current, _ = verified_vendor()
    VendorDocument.objects.filter(vendor=current).update(expires_on=day + DAY)
    already_suspended, admin = verified_vendor()
    add_document(already_suspended, DocumentKind.TAX_CERTIFICATE, expires_on=day - DAY, uploaded_by=admin)
    already_suspended = set_status(already_suspended, VendorStatus.SUSPENDED)
    return {
        "day": day,
        "lapsing": lapsing,
        "lapsing_admin": lapsing_admin,
        "untouched": {
            "current": current,
            "pending": VendorFactory(),
            "suspended": already_suspended,
        },
    }


def test_the_scheduler_suspends_a_vendor_whose_mandatory_document_expired_once(
    vendors_around_an_expiry, django_capture_on_commit_callbacks
):
    world = vendors_around_an_expiry
    lapsing, administrator = world["lapsing"], world["lapsing_admin"]
    untouched = {name: status(vendor) for name, vendor in world["untouched"].items()}

    with django_capture_on_commit_callbacks(execute=True):
        run = tender_services.advance_deadlines(now=midnight(world["day"]))

    assert run == [] and run.suspended_vendors == [lapsing] and run.debarments_ended == []
    assert status(lapsing) == VendorStatus.SUSPENDED
    assert "Social insurance certificate" in Vendor.objects.get(pk=lapsing.pk).suspension_reason
    assert not Vendor.objects.get(pk=lapsing.pk).may_bid(world["day"])
    [event] = events("vendor.suspended", lapsing)
    assert (event.actor_id, event.actor_label) == (None, "system")
    assert (event.payload["from"], event.payload["to"]) == ("verified", "suspended")
    assert notified("vendor.suspended") == {administrator.pk}
    assert len(mailed_to(administrator)) == 1
    assert {name: status(vendor) for name, vendor in world["untouched"].items()} == untouched
    for vendor in world["untouched"].values():
        assert not events("vendor.suspended", vendor)

    before = footprint()
    with django_capture_on_commit_callbacks(execute=True):
        again = tender_services.advance_deadlines(now=midnight(world["day"]) + datetime.timedelta(hours=1))
    assert again.suspended_vendors == []
    assert footprint() == before, "a second run changes nothing"


def test_the_day_is_the_display_time_zones_not_utcs(vendors_around_an_expiry):
    """At 23:59:59 in Riyadh the certificate is still valid for that day; at midnight it is not, although
    in UTC (21:00) it is still the day before."""
    world = vendors_around_an_expiry
    start = midnight(world["day"])

    assert tender_services.advance_deadlines(now=start - datetime.timedelta(seconds=1)).suspended_vendors == []
    assert status(world["lapsing"]) == VendorStatus.VERIFIED

    assert start.astimezone(datetime.UTC).date() == world["day"] - DAY
    assert tender_services.advance_deadlines(now=start).suspended_vendors == [world["lapsing"]]


def test_the_command_suspends_the_vendor_and_says_so_once(vendors_around_an_expiry):
    world = vendors_around_an_expiry
    output = io.StringIO()
    with at(midnight(world["day"])):
        call_command("advance_deadlines", stdout=output)

    assert status(world["lapsing"]) == VendorStatus.SUSPENDED
    cr = world["lapsing"].commercial_registration_number
    assert f"Suspended 1 vendor(s): {cr}" in output.getvalue()
    assert "Closed" not in output.getvalue()

    before = footprint()
    again = io.StringIO()
    with at(midnight(world["day"])):
        call_command("advance_deadlines", stdout=again)
    assert again.getvalue().strip() == "Nothing is due."
    assert footprint() == before


def test_the_task_suspends_the_vendor_too(vendors_around_an_expiry):
    world = vendors_around_an_expiry
    with at(midnight(world["day"])):
        result = advance_deadlines_task.enqueue()

    assert result.status == "SUCCESSFUL", result.errors
    assert result.return_value == []
    assert status(world["lapsing"]) == VendorStatus.SUSPENDED


def test_the_task_schedules_its_next_run_even_when_a_run_fails():
    task = advance_deadlines_task
    with (
        mock.patch("procurement.tasks.advance_deadlines", side_effect=RuntimeError("database unavailable")),
        mock.patch("procurement.tasks.default_task_backend", supports_defer=True),
        mock.patch("procurement.tasks.advance_deadlines_task") as next_run,
        pytest.raises(RuntimeError),
    ):
        task.call()

    next_run.using.return_value.enqueue.assert_called_once_with()


def test_a_debarment_ends_through_the_scheduler_when_its_period_is_over(approver, django_capture_on_commit_callbacks):
    today = timezone.localdate()
    ending, administrator = verified_vendor()
    lapsed, lapsed_admin = verified_vendor()
    indefinite, _ = verified_vendor()
    for vendor, ends_on in ((ending, today + 30 * DAY), (lapsed, today + 30 * DAY), (indefinite, None)):
        services.vendor_debar(
            actor=approver,
            vendor=vendor,
            reason="Collusive bidding in tender MCIT-2026-0003",
            legal_reference="Public Procurement Law, art. 42",
            starts_on=today,
            ends_on=ends_on,
        )
    # The lapsed vendor's tax certificate expired while it was debarred: it comes back suspended.
    add_document(lapsed, DocumentKind.TAX_CERTIFICATE, expires_on=today + 20 * DAY, uploaded_by=lapsed_admin)

    run = tender_services.advance_deadlines(now=midnight(today + 30 * DAY))
    assert run.debarments_ended == []  # the last day of the period still counts
    assert status(ending) == status(lapsed) == VendorStatus.DEBARRED

    output = io.StringIO()
    with at(midnight(today + 31 * DAY)), django_capture_on_commit_callbacks(execute=True):
        call_command("advance_deadlines", stdout=output)

    assert status(ending) == VendorStatus.VERIFIED
    assert status(lapsed) == VendorStatus.SUSPENDED
    assert status(indefinite) == VendorStatus.DEBARRED
    assert "Ended the debarment of 2 vendor(s)" in output.getvalue()
    [event] = events("vendor.debarment_ended", ending)
    assert (event.actor_id, event.payload["from"], event.payload["to"]) == (None, "debarred", "verified")
    assert events("vendor.debarment_ended", lapsed)[0].payload["to"] == "suspended"
    assert notified("vendor.debarment_lifted") == {administrator.pk, lapsed_admin.pk}
    assert mailed_to(administrator)

    before = footprint()
    again = tender_services.advance_deadlines(now=midnight(today + 32 * DAY))
    assert (again.suspended_vendors, again.debarments_ended) == ([], [])
    assert footprint() == before, "a second run changes nothing"


def test_with_nothing_expired_each_vendor_step_is_one_query(approver, django_assert_num_queries):
    """The scheduler runs every minute: verified vendors with current documents and debarments still in force
    (one of them starting later) are found in the database, not row by row."""
    today = timezone.localdate()
    for _ in range(3):
        verified_vendor()
    for starts_on, ends_on in ((today, today + 30 * DAY), (today, None), (today + 5 * DAY, today + 9 * DAY)):
        vendor, _administrator = verified_vendor()
        Debarment.objects.create(
            vendor=vendor, reason="r", legal_reference="l", starts_on=starts_on, ends_on=ends_on, decided_by=approver
        )
        set_status(vendor, VendorStatus.DEBARRED)

    with django_assert_num_queries(1):
        assert services.suspend_vendors_with_expired_documents(today) == []
    with django_assert_num_queries(1):
        assert services.end_expired_debarments(today) == []
