"""The administration site obeys the same rules as the pages and writes the same audit events."""

from decimal import Decimal

from accounts.models import User
from audit.models import AuditEvent
from procurement.models import Programme


def test_administrator_creates_a_user_with_roles_and_it_is_audited(client, administrator, agency):
    client.force_login(administrator)
    response = client.post(
        "/en/admin/accounts/user/add/",
        {
            "email": "new.officer@example.gov",
            "full_name": "New Officer",
            "full_name_ar": "مسؤول جديد",
            "agency": agency.pk,
            "roles": ["procurement_officer"],
            "password1": "a-strong-password-2026",
            "password2": "a-strong-password-2026",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    person = User.objects.get(email="new.officer@example.gov")
    assert person.has_role("procurement_officer")
    assert AuditEvent.objects.filter(action="accounts.user.created", object_id=str(person.pk)).exists()
    roles_event = AuditEvent.objects.get(action="accounts.user.roles_changed", object_id=str(person.pk))
    assert roles_event.payload["after"] == ["procurement_officer"]
    assert "a-strong-password-2026" not in "".join(AuditEvent.objects.values_list("canonical", flat=True))


def test_an_officer_role_without_an_agency_is_refused_in_the_admin(client, administrator):
    client.force_login(administrator)
    response = client.post(
        "/en/admin/accounts/user/add/",
        {
            "email": "floating@example.gov",
            "full_name": "No Agency",
            "roles": ["approver"],
            "password1": "a-strong-password-2026",
            "password2": "a-strong-password-2026",
            "usable_password": "true",
        },
    )
    assert response.status_code == 200
    assert "must belong to an agency" in response.content.decode()
    assert not User.objects.filter(email="floating@example.gov").exists()


def test_programme_edited_in_the_admin_goes_through_the_service(client, administrator, programme, approver):
    client.force_login(administrator)
    url = f"/en/admin/procurement/programme/{programme.pk}/change/"
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "code": programme.code,
            "name_en": "Edited in admin",
            "name_ar": programme.name_ar,
            "description_en": "",
            "description_ar": "",
            "sponsor_agency": programme.sponsor_agency_id,
            "steering_committee": [approver.pk],
            "budget": "1500000.00",
            "currency": "SAR",
            "start_date": "2026-01-01",
            "end_date": "2028-12-31",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    programme.refresh_from_db()
    assert programme.name_en == "Edited in admin"
    assert programme.budget == Decimal("1500000.00")
    event = AuditEvent.objects.get(action="procurement.programme.changed")
    assert event.actor == administrator
    assert event.payload["after"]["name_en"] == "Edited in admin"


def test_nothing_can_be_deleted_or_audited_by_hand_in_the_admin(client, administrator, programme):
    client.force_login(administrator)
    assert client.get(f"/en/admin/procurement/programme/{programme.pk}/delete/").status_code == 403
    assert client.get("/en/admin/audit/auditevent/add/").status_code == 403
    assert Programme.objects.filter(pk=programme.pk).exists()


def test_audit_log_is_readable_in_the_admin(client, administrator, programme):
    from audit.services import audit_event_append

    event = audit_event_append(action="test.event", obj=programme)
    client.force_login(administrator)
    assert client.get("/en/admin/audit/auditevent/").status_code == 200
    assert client.get(f"/en/admin/audit/auditevent/{event.pk}/change/").status_code == 200
