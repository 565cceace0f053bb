"""Which root certificates the system trusts for contract signatures: the internal contract CA (its published
certificate, CONTRACT_CA_CERT_FILE) and any further roots the operator lists in CONTRACT_TRUSTED_ROOTS — the
national PKI's root for signatories who sign with their own certificate, or an external time-stamp authority's.

The same list decides whether an uploaded PKCS#12 certificate may sign (its chain must end at one of them) and
how the contract pages, the public verifier and ``verify_signatures`` judge a signature, so that a contract the
system lets someone sign is one it also reports as trusted.
"""

from __future__ import annotations

import asyncio
import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from django.conf import settings
from django.utils.translation import gettext as _
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError

from contracts import pki


class UntrustedCertificate(pki.CertificateError):
    """The certificate does not chain to a root the system trusts."""


def _load(path) -> x509.Certificate | None:
    try:
        return pki.load_certificate(Path(path).read_bytes())
    except (OSError, ValueError):
        return None


def trust_roots() -> list[x509.Certificate]:
    """The contract CA's certificate (when published) and the extra roots configured, each readable one once."""
    paths = []
    configured = getattr(settings, "CONTRACT_CA_CERT_FILE", None)
    if configured:
        paths.append(configured)
    paths.extend(getattr(settings, "CONTRACT_TRUSTED_ROOTS", None) or [])
    roots, seen = [], set()
    for path in paths:
        certificate = _load(path)
        if certificate is not None and certificate.fingerprint(hashes.SHA256()) not in seen:
            seen.add(certificate.fingerprint(hashes.SHA256()))
            roots.append(certificate)
    return roots


def require_trusted(
    certificate: x509.Certificate, intermediates: tuple[x509.Certificate, ...], *, at: datetime.datetime
) -> None:
    """Refuse a signatory's own certificate unless it chains, at ``at``, to a trusted root (no network access;
    revocation is checked by validators later, from the data they hold)."""
    roots = trust_roots()
    if not roots:
        raise UntrustedCertificate(_("No trusted root is configured: own certificates cannot be accepted."))
    context = ValidationContext(
        trust_roots=[pki.to_asn1_certificate(root) for root in roots],
        allow_fetching=False,
        revocation_mode="soft-fail",
        moment=at,
    )
    validator = CertificateValidator(
        pki.to_asn1_certificate(certificate),
        intermediate_certs=[pki.to_asn1_certificate(c) for c in intermediates],
        validation_context=context,
    )
    try:
        asyncio.run(validator.async_validate_path())
    except (PathBuildingError, PathValidationError) as error:
        raise UntrustedCertificate(
            _(
                "The certificate is issued by %(issuer)s, which does not lead to a certificate authority this "
                "system trusts: sign with your signing key, or with a certificate from a trusted authority."
            )
            % {"issuer": certificate.issuer.rfc4514_string()}
        ) from error
