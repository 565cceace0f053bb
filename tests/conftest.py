"""Shared fixtures: one person per role, an agency they work for, and a programme it sponsors."""

import pytest
from django.db import connection

from accounts.roles import Role
from tests.accounts.factories import UserFactory
from tests.procurement.factories import AgencyFactory, ProgrammeFactory

requires_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL (row locks, triggers or concurrent connections); CI runs it there",
)


@pytest.fixture
def agency(db):
    return AgencyFactory(code="MCIT", name_en="Ministry of Communications", name_ar="وزارة الاتصالات")


@pytest.fixture
def other_agency(db):
    return AgencyFactory(code="MOH", name_en="Ministry of Health", name_ar="وزارة الصحة")


@pytest.fixture
def officer(agency):
    return UserFactory(email="officer@example.gov", agency=agency, roles=[Role.PROCUREMENT_OFFICER])


@pytest.fixture
def other_officer(other_agency):
    return UserFactory(email="officer@moh.example.gov", agency=other_agency, roles=[Role.PROCUREMENT_OFFICER])


@pytest.fixture
def approver(agency):
    return UserFactory(email="approver@example.gov", agency=agency, roles=[Role.APPROVER])


@pytest.fixture
def committee_member(db):
    return UserFactory(email="committee@example.gov", roles=[Role.COMMITTEE_MEMBER])


@pytest.fixture
def auditor(db):
    return UserFactory(email="auditor@example.gov", roles=[Role.AUDITOR])


@pytest.fixture
def administrator(db):
    return UserFactory(email="admin@example.gov", is_staff=True, roles=[Role.ADMINISTRATOR])


@pytest.fixture
def vendor_user(db):
    return UserFactory(email="vendor@example.com", roles=[Role.VENDOR_USER])


@pytest.fixture
def programme(agency, approver):
    programme = ProgrammeFactory(code="NEGP", sponsor_agency=agency)
    programme.steering_committee.set([approver])
    return programme


@pytest.fixture(autouse=True)
def _reset_language():
    """A test that switches to Arabic must not leave the next test speaking Arabic."""
    from django.conf import settings
    from django.utils import translation

    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _cheap_scrypt(monkeypatch):
    """Personal keys in tests use a low scrypt cost (each blob records its cost, so production keys are
    unaffected); tests of the cost itself set it explicitly."""
    from procurement import sealing

    monkeypatch.setattr(sealing, "SCRYPT_N", 2**10)
