"""accounts/rules.py answers "may this user do X to this object" — one answer per question."""

import pytest
from django.contrib.auth.models import AnonymousUser

from accounts.roles import Role
from accounts.services import user_create, user_set_roles
from audit.models import AuditEvent
from tests.accounts.factories import UserFactory
from tests.procurement.factories import PhaseFactory


def test_auditor_reads_everything_and_changes_nothing(auditor, programme):
    assert auditor.has_perm("audit.view_auditevent")
    assert auditor.has_perm("procurement.view_programme", programme)
    for permission in ("procurement.change_programme", "procurement.add_phase", "procurement.add_agency"):
        assert not auditor.has_perm(permission, programme)
    assert not auditor.has_perm("audit.change_auditevent")
    assert not auditor.has_perm("audit.delete_auditevent")


def test_officer_acts_only_for_their_agency(officer, other_officer, programme):
    phase = PhaseFactory(programme=programme)
    assert officer.has_perm("procurement.change_programme", programme)
    assert officer.has_perm("procurement.change_phase", phase)
    assert not other_officer.has_perm("procurement.change_programme", programme)
    assert not other_officer.has_perm("procurement.change_phase", phase)
    assert not other_officer.has_perm("procurement.add_phase", programme)


def test_nobody_deletes_procurement_records_or_audit_events(administrator, programme):
    assert not administrator.has_perm("procurement.delete_programme", programme)
    assert not administrator.has_perm("audit.delete_auditevent")


def test_anonymous_visitor_may_only_view(programme):
    visitor = AnonymousUser()
    assert visitor.has_perm("procurement.view_programme", programme)
    assert not visitor.has_perm("procurement.change_programme", programme)
    assert not visitor.has_perm("audit.view_auditevent")


def test_an_inactive_officer_has_no_permissions(officer, programme):
    officer.is_active = False
    officer.save()
    officer.__dict__.pop("role_names", None)
    assert not officer.has_perm("procurement.change_programme", programme)


def test_group_permissions_do_not_bypass_the_rules(officer, other_agency, programme):
    """Granting a Django model permission directly does not let an officer act for another agency."""
    from django.contrib.auth.models import Permission

    officer.user_permissions.add(Permission.objects.get(codename="change_programme"))
    programme.sponsor_agency = other_agency
    assert not officer.has_perm("procurement.change_programme", programme)


def test_officers_and_approvers_need_an_agency(db, administrator):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        user_create(
            actor=administrator,
            email="new@example.gov",
            full_name="New Officer",
            password="a-long-password",
            roles=[Role.PROCUREMENT_OFFICER],
        )


def test_role_changes_are_audited(administrator, agency):
    person = UserFactory(agency=agency)
    user_set_roles(actor=administrator, user=person, roles=[Role.APPROVER])
    event = AuditEvent.objects.get(action="accounts.user.roles_changed")
    assert event.payload == {"before": [], "after": ["approver"]}
    assert event.actor == administrator
    assert person.has_role(Role.APPROVER)


def test_sign_in_is_by_email_case_insensitively(client, officer):
    response = client.post(
        "/en/accounts/sign-in/", {"username": "OFFICER@example.gov", "password": "correct-horse-battery"}
    )
    assert response.status_code == 302
    assert client.get("/en/dashboard/").status_code == 200


def test_admin_site_is_for_administrators_only(client, officer, administrator):
    officer.is_staff = True
    officer.save()
    client.force_login(officer)
    assert client.get("/en/admin/").status_code == 302
    client.force_login(administrator)
    assert client.get("/en/admin/").status_code == 200
    assert client.get("/en/admin/procurement/programme/").status_code == 200
