"""The test suite: fast password hashing, in-memory e-mail, a throw-away signing key."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")

from config.settings.base import *  # noqa: E402, F403
from config.settings.base import DATABASES  # noqa: E402

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
_TEST_DATA = Path(tempfile.mkdtemp(prefix="ppp-test-"))
MEDIA_ROOT = _TEST_DATA / "media"
STATIC_ROOT = _TEST_DATA / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
AUDIT_SIGNING_KEY_FILE = _TEST_DATA / "keys" / "audit-signing-key.pem"
AUDIT_SIGNING_KEY_AUTOCREATE = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The test runner empties tables between transactional tests with TRUNCATE; the audit triggers
    # allow that only on connections that set this flag, which production connections never do.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c audit.allow_truncate=on"
    DATABASES["default"]["OPTIONS"].pop("pool", None)
