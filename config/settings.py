"""Refuje settings: one module, configured from the environment (names are a deployment contract).

Defaults are production-safe; `make run` opts into local development with DEBUG=true.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import django_stubs_ext
import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

# Lets typed generics such as ModelAdmin[User] work at run time, not only for mypy.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
TESTING = env.bool("REFUJE_TESTING", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-local-development-key-" + "x" * 40

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "django_celery_beat",
    "refuje.common",
    "refuje.accounts",
    "refuje.hotels",
    "refuje.compliance",
    "refuje.providers",
    "refuje.experiences",
    "refuje.qrcodes",
    "refuje.stays",
    "refuje.concierge",
    "refuje.realtime",
    "refuje.notifications",
    "refuje.push",
    "refuje.bookings",
    "refuje.payments",
    "refuje.reviews",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "refuje.common.middleware.NoStoreForAuthMiddleware",
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
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# Absent DATABASE_URL: an SQLite file in WAL mode with IMMEDIATE transactions so that
# check-then-insert sequences serialise (the embedded default).
DATA_DIR = Path(env.str("REFUJE_DATA_DIR", default=str(BASE_DIR / "var")))
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
    # Under ASGI every sync view runs in a fresh thread with its own connection: persistent ones
    # pile up until PostgreSQL refuses clients (measured with bench/), so close them per request.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if env.str("REFUJE_TEST_DB", default=""):
        DATABASES["default"]["TEST"] = {"NAME": env.str("REFUJE_TEST_DB")}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "refuje.sqlite3",
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")

# --- Cache, Redis --------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="refuje"),
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Auth ----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["refuje.accounts.backends.PhoneOrEmailBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/admin/login/"

DEFAULT_PHONE_REGION = env.str("DEFAULT_PHONE_REGION", default="SA")

# OTP policy. The lifetime is capped at 10 minutes whatever the environment says.
OTP_TTL_SECONDS = min(env.int("OTP_TTL_SECONDS", default=300), 600)
OTP_MAX_ATTEMPTS = env.int("OTP_MAX_ATTEMPTS", default=5)
OTP_RESEND_COOLDOWN_SECONDS = env.int("OTP_RESEND_COOLDOWN_SECONDS", default=60)
OTP_SENDS_PER_PHONE_PER_HOUR = env.int("OTP_SENDS_PER_PHONE_PER_HOUR", default=5)
OTP_SENDS_PER_IP_PER_HOUR = env.int("OTP_SENDS_PER_IP_PER_HOUR", default=30)
OTP_SENDS_PER_DEVICE_PER_HOUR = env.int("OTP_SENDS_PER_DEVICE_PER_HOUR", default=10)
OTP_FAILED_VERIFIES_PER_PHONE_PER_HOUR = env.int("OTP_FAILED_VERIFIES_PER_PHONE_PER_HOUR", default=100)
OTP_SMS_FALLBACK_CLAIM_STALE_SECONDS = env.int("OTP_SMS_FALLBACK_CLAIM_STALE_SECONDS", default=60)
AUTH_LOGIN_WINDOW_SECONDS = env.int("AUTH_LOGIN_WINDOW_SECONDS", default=900)
AUTH_LOGIN_ATTEMPTS_PER_EMAIL = env.int("AUTH_LOGIN_ATTEMPTS_PER_EMAIL", default=10)
AUTH_LOGIN_ATTEMPTS_PER_IP = env.int("AUTH_LOGIN_ATTEMPTS_PER_IP", default=50)
OTP_HASH_KEY = env.str("OTP_HASH_KEY", default="") or SECRET_KEY

# --- Providers -----------------------------------------------------------------------------
OTP_PROVIDER = env.str("OTP_PROVIDER", default="console")
NOTIFICATION_PROVIDER = env.str("NOTIFICATION_PROVIDER", default="console")
PROVIDER_HTTP_TIMEOUT_SECONDS = env.float("PROVIDER_HTTP_TIMEOUT_SECONDS", default=10.0)
AUTHENTICA_API_KEY = env.str("AUTHENTICA_API_KEY", default="")
AUTHENTICA_BASE_URL = env.str("AUTHENTICA_BASE_URL", default="https://api.authentica.sa")
AUTHENTICA_SENDER_NAME = env.str("AUTHENTICA_SENDER_NAME", default="")
AUTHENTICA_TEMPLATE_ID = env.int("AUTHENTICA_TEMPLATE_ID", default=1)
GUPSHUP_API_KEY = env.str("GUPSHUP_API_KEY", default="")
GUPSHUP_BASE_URL = env.str("GUPSHUP_BASE_URL", default="https://api.gupshup.io")
GUPSHUP_SOURCE = env.str("GUPSHUP_SOURCE", default="")
GUPSHUP_APP_NAME = env.str("GUPSHUP_APP_NAME", default="")
GUPSHUP_OTP_TEMPLATE_ID = env.str("GUPSHUP_OTP_TEMPLATE_ID", default="")
GUPSHUP_WEBHOOK_SECRET = env.str("GUPSHUP_WEBHOOK_SECRET", default="")
MOYASAR_SECRET_KEY = env.str("MOYASAR_SECRET_KEY", default="")
MOYASAR_PUBLISHABLE_KEY = env.str("MOYASAR_PUBLISHABLE_KEY", default="")
MOYASAR_BASE_URL = env.str("MOYASAR_BASE_URL", default="https://api.moyasar.com/v1")
MOYASAR_WEBHOOK_SECRET = env.str("MOYASAR_WEBHOOK_SECRET", default="")
VAPID_PUBLIC_KEY = env.str("VAPID_PUBLIC_KEY", default="")
VAPID_PRIVATE_KEY = env.str("VAPID_PRIVATE_KEY", default="")
VAPID_SUBJECT = env.str("VAPID_SUBJECT", default="mailto:ops@refuje.invalid")

# --- REST API ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "refuje.accounts.authentication.JWTCookieAuthentication",
        "refuje.accounts.authentication.CsrfSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "refuje.common.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "refuje.common.errors.api_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Refuje API",
    "DESCRIPTION": "Hospitality operations: concierge requests, bookings, payments.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Swagger UI served from our own static files: the docs work offline and without a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "refuje.hotels.models.Role",
        "RequestStatusEnum": "refuje.concierge.models.RequestStatus",
        "StayStatusEnum": "refuje.stays.models.StayStatus",
        "RequestActionEnum": "refuje.concierge.models.RequestAction",
    },
}

# Bearer tokens for native clients; browsers use the HttpOnly cookies.
AUTH_BEARER_ENABLED = env.bool("AUTH_BEARER_ENABLED", default=True)
AUTH_COOKIE_SECURE = env.bool("AUTH_COOKIE_SECURE", default=not DEBUG)
# `__Host-` cookies must be Secure, host-only and Path=/; browsers refuse them otherwise.
AUTH_COOKIE_PREFIX = "__Host-" if AUTH_COOKIE_SECURE else ""
AUTH_COOKIE_SAMESITE = env.str("AUTH_COOKIE_SAMESITE", default="Lax")
AUTH_ACCESS_COOKIE = AUTH_COOKIE_PREFIX + "refuje_access"
AUTH_REFRESH_COOKIE = AUTH_COOKIE_PREFIX + "refuje_refresh"
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=5)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=14)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default="") or SECRET_KEY,
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}

# --- Security ------------------------------------------------------------------------------
SESSION_COOKIE_SECURE = AUTH_COOKIE_SECURE
CSRF_COOKIE_SECURE = AUTH_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
# The SPA reads csrftoken to echo it in X-CSRFToken, so it cannot be HttpOnly.
CSRF_COOKIE_HTTPONLY = False
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env.bool("USE_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2 * 1024 * 1024)

# --- i18n ----------------------------------------------------------------------------------
LANGUAGE_CODE = "ar"
LANGUAGES = [("ar", _("Arabic")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

# --- Static and media ----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(DATA_DIR / "media")))
# Uploaded images (refuje.common.images). Keep IMAGE_MAX_PIXELS below Pillow's own hard limit (~179 MP).
IMAGE_MAX_UPLOAD_BYTES = env.int("IMAGE_MAX_UPLOAD_BYTES", default=8 * 1024 * 1024)
IMAGE_MAX_PIXELS = env.int("IMAGE_MAX_PIXELS", default=40_000_000)
IMAGE_MAX_EDGE = env.int("IMAGE_MAX_EDGE", default=2048)
IMAGE_THUMBNAIL_EDGE = env.int("IMAGE_THUMBNAIL_EDGE", default=400)
# Where guests land after scanning a room QR code (encoded into printed codes).
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://localhost:8000").rstrip("/")
QR_SHEET_MAX_CODES = env.int("QR_SHEET_MAX_CODES", default=600)
# A TrueType font with Arabic glyphs for QR sheet labels; empty = DejaVu Sans from the system.
QR_SHEET_FONT = env.str("QR_SHEET_FONT", default="")
EXPERIENCE_MAX_IMAGES = env.int("EXPERIENCE_MAX_IMAGES", default=10)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not (DEBUG or TESTING)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Celery --------------------------------------------------------------------------------
# Without Redis the embedded default uses kombu's filesystem transport: a broker that needs
# no server, shared by the web process, the worker and beat through a directory.
CELERY_BROKER_DIR = DATA_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"visibility_timeout": 3600}
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
        "polling_interval": 0.5,
    }
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# `expires` keeps runs from piling up while workers are down; every job is idempotent.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "escalate-requests": {"task": "refuje.concierge.escalate_requests", "schedule": 60.0, "options": {"expires": 55}},
    "expire-requests": {"task": "refuje.concierge.expire_requests", "schedule": 300.0, "options": {"expires": 290}},
    "otp-sms-fallback-sweep": {
        "task": "refuje.accounts.sms_fallback_sweep",
        "schedule": 15.0,
        "options": {"expires": 14},
    },
    "otp-cleanup": {"task": "refuje.accounts.otp_cleanup", "schedule": 3600.0, "options": {"expires": 3500}},
}
ESCALATION_LEVEL2_AFTER_MINUTES = env.int("ESCALATION_LEVEL2_AFTER_MINUTES", default=30)
ESCALATION_HEARTBEAT_MAX_AGE_SECONDS = env.int("ESCALATION_HEARTBEAT_MAX_AGE_SECONDS", default=300)
# Until the escalation job has run once there is no heartbeat; only production waits for it.
ESCALATION_HEARTBEAT_REQUIRED = env.bool("ESCALATION_HEARTBEAT_REQUIRED", default=not (DEBUG or TESTING))
REQUEST_EXPIRE_UNACKNOWLEDGED_HOURS = env.int("REQUEST_EXPIRE_UNACKNOWLEDGED_HOURS", default=24)
OTP_SMS_FALLBACK_AFTER_SECONDS = env.int("OTP_SMS_FALLBACK_AFTER_SECONDS", default=45)

# --- Realtime (event bus, SSE) -------------------------------------------------------------

# --- Notifications -------------------------------------------------------------------------

# --- Web push ------------------------------------------------------------------------------

# --- Bookings ------------------------------------------------------------------------------

# --- Payments ------------------------------------------------------------------------------

# --- Reviews -------------------------------------------------------------------------------

# --- Logging -------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Provider configuration checks ---------------------------------------------------------
# Each integration fails at start-up with a clear message when enabled but misconfigured.
_REQUIRED_PROVIDER_SETTINGS = {
    ("OTP_PROVIDER", "authentica"): ["AUTHENTICA_API_KEY"],
    ("OTP_PROVIDER", "gupshup"): ["GUPSHUP_API_KEY", "GUPSHUP_SOURCE", "GUPSHUP_APP_NAME", "GUPSHUP_OTP_TEMPLATE_ID"],
    ("NOTIFICATION_PROVIDER", "authentica"): ["AUTHENTICA_API_KEY"],
    ("NOTIFICATION_PROVIDER", "gupshup"): ["GUPSHUP_API_KEY", "GUPSHUP_SOURCE", "GUPSHUP_APP_NAME"],
}
for _setting_name, _provider in (("OTP_PROVIDER", OTP_PROVIDER), ("NOTIFICATION_PROVIDER", NOTIFICATION_PROVIDER)):
    if _provider not in ("console", "authentica", "gupshup"):
        raise ImproperlyConfigured(f"{_setting_name} must be console, authentica or gupshup, not {_provider!r}.")
    _missing = [name for name in _REQUIRED_PROVIDER_SETTINGS.get((_setting_name, _provider), []) if not globals()[name]]
    if _missing:
        raise ImproperlyConfigured(f"{_setting_name}={_provider} needs {', '.join(_missing)}.")
if OTP_PROVIDER == "console" and not (DEBUG or TESTING):
    raise ImproperlyConfigured(
        "OTP_PROVIDER=console writes sign-in codes to the log; set OTP_PROVIDER=authentica or gupshup in production."
    )
if PROVIDER_HTTP_TIMEOUT_SECONDS <= 0:
    raise ImproperlyConfigured("PROVIDER_HTTP_TIMEOUT_SECONDS must be greater than 0.")
