"""Settings shared by every environment. Values that vary come from ``config.env``."""

from __future__ import annotations

import datetime

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config import env

BASE_DIR = env.BASE_DIR

DEBUG = env.DEBUG

if env.SECRET_KEY:
    SECRET_KEY = env.SECRET_KEY
elif DEBUG:
    SECRET_KEY = "development-only-insecure-key-never-use-in-production"  # noqa: S105
else:
    raise ImproperlyConfigured("Set SECRET_KEY in the environment (or DEBUG=true for development).")

ALLOWED_HOSTS = env.ALLOWED_HOSTS
CSRF_TRUSTED_ORIGINS = env.CSRF_TRUSTED_ORIGINS

INSTALLED_APPS = [
    "core.apps.ProcurementAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rules.apps.AutodiscoverRulesConfig",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks",
    "django_tasks_db",
    "core",
    "accounts",
    "audit",
    "procurement",
    "vendors",
    "contracts",
    "notifications",
    "portal",
    "desk",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.middleware.AgencyTimezoneMiddleware",
    "audit.middleware.AuditorAccessMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "core.context_processors.navigation",
            ],
        },
    },
]


def _database_settings() -> dict:
    if env.DATABASE_URL:
        config = dj_database_url.parse(env.DATABASE_URL, conn_max_age=0, conn_health_checks=True)
    else:
        config = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(BASE_DIR / "db.sqlite3")}
    if config["ENGINE"] == "django.db.backends.postgresql":
        options = config.setdefault("OPTIONS", {})
        if env.DATABASE_POOL:
            options["pool"] = {"min_size": 1, "max_size": env.DATABASE_POOL_MAX_SIZE, "timeout": 20}
            config["CONN_MAX_AGE"] = 0
    elif config["ENGINE"] == "django.db.backends.sqlite3":
        options = config.setdefault("OPTIONS", {})
        # IMMEDIATE transactions take the write lock at BEGIN, so that writers (the audit chain
        # in particular) are serialised instead of failing half-way with "database is locked".
        options.setdefault("transaction_mode", "IMMEDIATE")
        options.setdefault("timeout", 20)
        options.setdefault(
            "init_command",
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        )
    config["ATOMIC_REQUESTS"] = False
    return config


DATABASES = {"default": _database_settings()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "rules.permissions.ObjectPermissionBackend",
    "accounts.backends.EmailBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:dashboard"
LOGOUT_REDIRECT_URL = "core:home"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("ar", _("Arabic")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"
# Times are stored in UTC; pages show them in the signed-in user's agency's zone, or this one.
DISPLAY_TIME_ZONE = env.DISPLAY_TIME_ZONE

STATIC_URL = "/static/"
STATIC_ROOT = env.STATIC_ROOT
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded files live outside the web root and are only ever served through a permission check.
MEDIA_ROOT = env.MEDIA_ROOT
MEDIA_URL = None
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# In development WhiteNoise serves straight from the app folders; production serves collectstatic's output.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

EMAIL_BACKEND = env.EMAIL_BACKEND
EMAIL_HOST = env.EMAIL_HOST
EMAIL_PORT = env.EMAIL_PORT
EMAIL_HOST_USER = env.EMAIL_HOST_USER
EMAIL_HOST_PASSWORD = env.EMAIL_HOST_PASSWORD
EMAIL_USE_TLS = env.EMAIL_USE_TLS
DEFAULT_FROM_EMAIL = env.DEFAULT_FROM_EMAIL

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}

TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.BearerTokenAuthentication",
        "api.authentication.BrowserSessionAuthentication",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.LimitedJSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.TokenRateThrottle", "api.throttling.AddressRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"token": "2000/hour", "address": "600/minute", "token_issue": "10/minute"},
    "EXCEPTION_HANDLER": "api.problems.problem_exception_handler",
}
# The largest JSON body the API reads (413 beyond it).
API_MAX_BODY_BYTES = 1024 * 1024
# How long the answer to a request sent with an Idempotency-Key is kept for its retries; a retry after that is a
# new request. Older records are purged by the deadline scheduler (or ``manage.py purge_idempotency_keys``).
API_IDEMPOTENCY_RETENTION_HOURS = 48
SPECTACULAR_SETTINGS = {
    "TITLE": "PPP Procurement API",
    "DESCRIPTION": "Tenders, awards and contracts of the national e-government programme.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "PREPROCESSING_HOOKS": ["api.docs.only_api_paths"],
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "api.schema.add_problem_responses"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# The key that signs audit-log checkpoints. Generated on first use when it does not exist in
# development; in production it must be provisioned (see README).
AUDIT_SIGNING_KEY_FILE = env.AUDIT_SIGNING_KEY_FILE
CONTRACT_CA_CERT_FILE = env.CONTRACT_CA_CERT_FILE
CONTRACT_CA_KEY_PASSPHRASE = env.CONTRACT_CA_KEY_PASSPHRASE
AUDIT_SIGNING_KEY_AUTOCREATE = DEBUG

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.LOG_LEVEL},
    # One line per task start and end is noise; failures are still logged.
    # WeasyPrint and its font subsetter log every step of every PDF at INFO.
    "loggers": {
        "django_tasks": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
    },
}

# Tenders: the shortest periods the law allows, in days (configurable per deployment).
TENDER_MINIMUM_PERIODS = {
    "publication_to_clarification": 7,
    "publication_to_submission": 21,
    "clarification_to_submission": 5,
}
# Uploaded documents: the largest accepted size, and the kinds accepted (checked by content).
UPLOAD_MAX_BYTES = 25 * 1024 * 1024
NOTIFICATIONS_FROM_EMAIL = env.DEFAULT_FROM_EMAIL
# The address people reach the site at, for links in e-mails.
SITE_URL = env.SITE_URL

# Sealed bids: the opening committee's smallest size (each member holds a share of the tender key; any two
# open), and how long the first member's confirmation waits for the second before the ceremony restarts.
OPENING_COMMITTEE_MINIMUM = 3
BID_OPENING_WINDOW = datetime.timedelta(minutes=30)
# The most price schedule lines and documents one bid may carry.
BID_MAX_LINES = 500
BID_MAX_FILES = 50
# Evaluation: members' scores on a criterion that differ by more than this many points are flagged for the
# chair; a price more than this percentage below the average of the other bids is flagged as abnormally low;
# the standstill after an award is approved, in days.
EVALUATION_SCORE_SPREAD = 20
ABNORMALLY_LOW_PERCENT = 20
STANDSTILL_DAYS = 10
# Contracts: amendments may change the contract's value by at most this percentage of its value as first
# signed (all amendments in force together, up or down); a larger change needs a new tender.
CONTRACT_AMENDMENT_MAX_PERCENT = 25
# The RFC 3161 time-stamp authority that stamps contract signatures; empty: the system's own (internal CA).
CONTRACT_TSA_URL = env.CONTRACT_TSA_URL or ""
# Roots trusted for contract signatures besides the contract CA: a signatory's own certificate must chain to
# one of them (or to the contract CA), and the verifier trusts them (e.g. an external TSA's root).
CONTRACT_TRUSTED_ROOTS = env.CONTRACT_TRUSTED_ROOTS
# Red flags for auditors: a bidding period shorter than this many days, this many addenda or more, a contract
# amended by more than this percentage of its value as first signed, the same committee member and winner
# together this many times or more.
RED_FLAG_SHORT_BIDDING_DAYS = 30
RED_FLAG_ADDENDA = 3
RED_FLAG_AMENDMENT_PERCENT = 10
RED_FLAG_PAIR_REPEATS = 2
# Open data: the prefix of every contracting process's OCDS identifier (ocid = prefix + "-" + the tender's id).
# Register a real prefix with the Open Contracting Partnership for production.
OCDS_OCID_PREFIX = "ocds-ppp000"

# The desk (inquiries, suggestions and complaints): the response-time target of each type, in hours (an item
# unanswered after it is escalated to its agency's supervisors); how many days after an answer or the closing
# the sender may reopen an item; the longest message; and at most how many items one address (or one e-mail
# address) may send in the window.
DESK_RESPONSE_HOURS = {"inquiry": 24, "suggestion": 72, "complaint": 48}
DESK_REOPEN_DAYS = 14
DESK_MESSAGE_MAX_CHARS = 5000
DESK_THROTTLE_COUNT = 5
DESK_THROTTLE_WINDOW = datetime.timedelta(minutes=10)
