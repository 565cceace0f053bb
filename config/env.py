"""The one place that reads the process environment.

Every setting that may come from the environment is read here, parsed and given its default, so that
the settings modules never call ``os.environ`` themselves.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def get_str(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def get_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}.")


def get_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from error


def get_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def require(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(f"The environment variable {name} is required in production.")
    return value


DEBUG = get_bool("DEBUG", default=False)
SECRET_KEY = get_str("SECRET_KEY")
DATABASE_URL = get_str("DATABASE_URL")
DATABASE_POOL = get_bool("DATABASE_POOL", default=True)
DATABASE_POOL_MAX_SIZE = get_int("DATABASE_POOL_MAX_SIZE", 10)
ALLOWED_HOSTS = get_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = get_list("CSRF_TRUSTED_ORIGINS", [])
EMAIL_BACKEND = get_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = get_str("EMAIL_HOST", "localhost")
EMAIL_PORT = get_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = get_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = get_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = get_bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = get_str("DEFAULT_FROM_EMAIL", "procurement@localhost")
DATA_DIR = Path(get_str("DATA_DIR", str(BASE_DIR / "var")))
MEDIA_ROOT = Path(get_str("MEDIA_ROOT", str(DATA_DIR / "media")))
STATIC_ROOT = Path(get_str("STATIC_ROOT", str(DATA_DIR / "static")))
AUDIT_SIGNING_KEY_FILE = Path(get_str("AUDIT_SIGNING_KEY_FILE", str(DATA_DIR / "keys" / "audit-signing-key.pem")))
# The contract signatories' certificate authority: its certificate (published for validators) and the
# passphrase that encrypts its private key and the time-stamp authority's (required in production).
CONTRACT_CA_CERT_FILE = Path(get_str("CONTRACT_CA_CERT_FILE", str(DATA_DIR / "keys" / "contract-ca.pem")))
CONTRACT_CA_KEY_PASSPHRASE = get_str("CONTRACT_CA_KEY_PASSPHRASE")
# The RFC 3161 time-stamp authority for contract signatures; empty: the system's own, under the contract CA.
CONTRACT_TSA_URL = get_str("CONTRACT_TSA_URL", "")
# Further trusted roots for contract signatures (PEM files, comma-separated): the national PKI's root for
# signatories' own certificates, an external time-stamp authority's root.
CONTRACT_TRUSTED_ROOTS = get_list("CONTRACT_TRUSTED_ROOTS", [])
DISPLAY_TIME_ZONE = get_str("DISPLAY_TIME_ZONE", "Asia/Riyadh")
SECURE_HSTS_SECONDS = get_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_SSL_REDIRECT = get_bool("SECURE_SSL_REDIRECT", default=True)
BEHIND_TLS_PROXY = get_bool("BEHIND_TLS_PROXY", default=False)
LOG_LEVEL = get_str("LOG_LEVEL", "INFO")
SITE_URL = get_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
