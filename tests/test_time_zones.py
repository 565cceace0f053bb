"""Times are stored in UTC and shown in the signed-in person's agency's time zone."""

import datetime

from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_event_append
from tests.accounts.factories import UserFactory
from tests.procurement.factories import AgencyFactory


def test_event_times_are_stored_in_utc(db):
    event = audit_event_append(action="test.event")
    stored = AuditEvent.objects.get(pk=event.pk).occurred_at
    assert stored.utcoffset() == datetime.timedelta(0)
    assert '"occurred_at":"' in event.canonical and "+00:00" in event.canonical


def test_pages_show_times_in_the_agency_time_zone(client, db):
    dubai = AgencyFactory(time_zone="Asia/Dubai")
    cairo = AgencyFactory(time_zone="Africa/Cairo")
    auditor_in_dubai = UserFactory(agency=dubai, roles=["auditor"])
    auditor_in_cairo = UserFactory(agency=cairo, roles=["auditor"])
    event = audit_event_append(action="test.event")
    utc = event.occurred_at.astimezone(datetime.UTC)

    client.force_login(auditor_in_dubai)
    page = client.get("/en/audit/events/").content.decode()
    assert utc.astimezone(timezone.get_fixed_timezone(240)).strftime("%Y-%m-%d %H:%M") in page
    assert "Asia/Dubai" in page

    client.force_login(auditor_in_cairo)
    page = client.get("/en/audit/events/").content.decode()
    assert "Africa/Cairo" in page
