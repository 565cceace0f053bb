"""A signatory's signing key follows their password: a change re-encrypts it (the new password signs, the
old one no longer does), a reset or a password set by an administrator retires it."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from audit.models import AuditEvent
from contracts import pki, services
from contracts.models import SignerKey
from tests.accounts.factories import UserFactory
from tests.accounts.test_personal_keys import (
    NEW_PASSWORD,
    PASSWORD,
    change_password_via_the_page,
    reset_password_via_the_page,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def authority_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("contract-ca")


@pytest.fixture(autouse=True)
def _ca(settings, tmp_path, authority_dir):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.CONTRACT_CA_CERT_FILE = authority_dir / "contract-ca.pem"
    settings.CONTRACT_CA_KEY_PASSPHRASE = "signer-key-password-tests"
    if not settings.CONTRACT_CA_CERT_FILE.exists():
        call_command("contracts_ca_init", stdout=StringIO())


def _opens(key: SignerKey, password: str) -> bool:
    try:
        pki.load_signer_key(key.encrypted_private_key_pem.encode("ascii"), password)
    except pki.CertificateError:
        return False
    return True


def test_a_password_change_reencrypts_the_signing_key():
    person = UserFactory()
    key = services.signer_key_issue(user=person, password=PASSWORD)
    assert change_password_via_the_page(person).status_code == 302
    key.refresh_from_db()
    assert key.retired_at is None
    assert _opens(key, NEW_PASSWORD) and not _opens(key, PASSWORD)
    assert AuditEvent.objects.filter(action="contracts.signer_key_rewrapped").count() == 1


def test_a_password_reset_retires_the_signing_key():
    person = UserFactory()
    key = services.signer_key_issue(user=person, password=PASSWORD)
    reset_password_via_the_page(person)
    key.refresh_from_db()
    assert key.retired_at is not None
    assert not SignerKey.objects.filter(user=person, retired_at__isnull=True).exists()
    assert AuditEvent.objects.filter(action="contracts.signer_key_retired").exists()
