"""Refuje settings: one module, configured from the environment (names are a deployment contract).

Defaults are production-safe; `make run` opts into local development with DEBUG=true.
"""

from __future__ import annotations

import os
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
# Read raw: Authentica keys look like "$2y$10$…", and django-environ treats a leading "$" as a
# reference to another variable (the key would silently read as empty).
AUTHENTICA_API_KEY = os.environ.get("AUTHENTICA_API_KEY", "")
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
# With acks_late a message stays unacknowledged in Redis while its task runs; when the worker dies
# (kill -9, lost machine) another worker takes it again once it is older than the visibility
# timeout. A task still running after that long is delivered a second time, so keep the timeout
# above the longest task (every job is idempotent anyway). kombu looks for such abandoned messages
# every interval × throttle seconds; here about a quarter of the timeout, at most every 100 s.
CELERY_VISIBILITY_TIMEOUT_SECONDS = env.int("CELERY_VISIBILITY_TIMEOUT_SECONDS", default=3600)
if CELERY_VISIBILITY_TIMEOUT_SECONDS < 1:
    raise ImproperlyConfigured("CELERY_VISIBILITY_TIMEOUT_SECONDS must be at least 1.")
if REDIS_URL:
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "visibility_timeout": CELERY_VISIBILITY_TIMEOUT_SECONDS,
        "unacked_restore_interval": max(1, min(100, CELERY_VISIBILITY_TIMEOUT_SECONDS // 4)),
        "unacked_restore_throttle": 1,
    }
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
# A job (refuje.common.jobs) is stale when its last run is older than its period × this factor.
JOB_HEALTH_STALE_FACTOR = env.float("JOB_HEALTH_STALE_FACTOR", default=3.0)

# --- Realtime (event bus, SSE) -------------------------------------------------------------
# Redis pub/sub carries events between processes; without it an in-process bus plus polling of
# the activity log (the Celery worker is another process). Streams need ASGI (config.asgi).
REALTIME_REDIS_URL = env.str("REALTIME_REDIS_URL", default=REDIS_URL)
REALTIME_CHANNEL = env.str("REALTIME_CHANNEL", default="refuje:events")
REALTIME_HEARTBEAT_SECONDS = env.float("REALTIME_HEARTBEAT_SECONDS", default=15.0)
# How often streams read the log when the bus cannot wake them (no Redis, or Redis down).
REALTIME_POLL_SECONDS = env.float("REALTIME_POLL_SECONDS", default=15.0)
REALTIME_REDIS_RETRY_MAX_SECONDS = env.float("REALTIME_REDIS_RETRY_MAX_SECONDS", default=5.0)
# Re-check a stream's access (deactivated, removed from the hotel, departments changed).
REALTIME_REVALIDATE_SECONDS = env.float("REALTIME_REVALIDATE_SECONDS", default=60.0)
# Activities committed this late after a newer one are still delivered (see refuje/realtime/feeds.py).
REALTIME_LOOKBACK_SECONDS = env.float("REALTIME_LOOKBACK_SECONDS", default=60.0)
REALTIME_RETRY_MILLISECONDS = env.int("REALTIME_RETRY_MILLISECONDS", default=3000)

# --- Notifications -------------------------------------------------------------------------
# WhatsApp (Gupshup) template ids per notification kind: {"request.confirmed": {"ar": "…", "en": "…"}}
# or one id for every language. A kind without a template goes out by SMS instead.
NOTIFICATION_WHATSAPP_TEMPLATES: dict[str, object] = env.json("NOTIFICATION_WHATSAPP_TEMPLATES", default={})
NOTIFICATION_EMAIL_FROM = env.str("NOTIFICATION_EMAIL_FROM", default="")
NOTIFICATION_DELIVERY_MAX_ATTEMPTS = env.int("NOTIFICATION_DELIVERY_MAX_ATTEMPTS", default=5)
NOTIFICATION_DELIVERY_CLAIM_STALE_SECONDS = env.int("NOTIFICATION_DELIVERY_CLAIM_STALE_SECONDS", default=120)
NOTIFICATION_REALERT_INTERVAL_MINUTES = env.int("NOTIFICATION_REALERT_INTERVAL_MINUTES", default=5)
NOTIFICATION_REALERT_MAX = env.int("NOTIFICATION_REALERT_MAX", default=3)
NOTIFICATION_REMINDER_LEAD_MINUTES = env.int("NOTIFICATION_REMINDER_LEAD_MINUTES", default=60)
NOTIFICATION_DIGEST_LOCAL_HOUR = env.int("NOTIFICATION_DIGEST_LOCAL_HOUR", default=8)
if not 0 <= NOTIFICATION_DIGEST_LOCAL_HOUR <= 23:
    raise ImproperlyConfigured("NOTIFICATION_DIGEST_LOCAL_HOUR must be an hour from 0 to 23.")
CELERY_BEAT_SCHEDULE["notifications-realert"] = {
    "task": "refuje.notifications.realert",
    "schedule": 60.0,
    "options": {"expires": 55},
}
CELERY_BEAT_SCHEDULE["notifications-reminders"] = {
    "task": "refuje.notifications.reminders",
    "schedule": 60.0,
    "options": {"expires": 55},
}
# Every 15 minutes: hotels in time zones with :30 and :45 offsets reach their hour too.
CELERY_BEAT_SCHEDULE["notifications-daily-digest"] = {
    "task": "refuje.notifications.daily_digest",
    "schedule": 900.0,
    "options": {"expires": 890},
}
# Read notifications are kept this long, unread ones longer; an hourly job deletes the rest.
NOTIFICATION_RETENTION_DAYS = env.int("NOTIFICATION_RETENTION_DAYS", default=90)
NOTIFICATION_UNREAD_RETENTION_DAYS = env.int("NOTIFICATION_UNREAD_RETENTION_DAYS", default=365)
if not 1 <= NOTIFICATION_RETENTION_DAYS <= NOTIFICATION_UNREAD_RETENTION_DAYS:
    raise ImproperlyConfigured(
        "NOTIFICATION_RETENTION_DAYS must be at least 1 and at most NOTIFICATION_UNREAD_RETENTION_DAYS."
    )
CELERY_BEAT_SCHEDULE["notifications-retention"] = {
    "task": "refuje.notifications.retention",
    "schedule": 3600.0,
    "options": {"expires": 3500},
}
CELERY_BEAT_SCHEDULE["notifications-deliver-pending"] = {
    "task": "refuje.notifications.deliver_pending",
    "schedule": 120.0,
    "options": {"expires": 115},
}

# --- Web push ------------------------------------------------------------------------------
# VAPID_* live with the providers above. Push is on when both keys are set (`manage.py vapid_keys`).
# The server POSTs to URLs that browsers (users) give us: only public https push services, unless
# this is switched on for local fake push services on http://127.0.0.1 (DEBUG or tests only).
PUSH_ALLOW_INSECURE_ENDPOINTS = env.bool("PUSH_ALLOW_INSECURE_ENDPOINTS", default=False)
if PUSH_ALLOW_INSECURE_ENDPOINTS and not (DEBUG or TESTING):
    raise ImproperlyConfigured(
        "PUSH_ALLOW_INSECURE_ENDPOINTS lets users point the server at internal addresses; "
        "it is for DEBUG or tests only."
    )
PUSH_MAX_CONSECUTIVE_FAILURES = env.int("PUSH_MAX_CONSECUTIVE_FAILURES", default=5)
PUSH_MAX_SUBSCRIPTIONS_PER_USER = env.int("PUSH_MAX_SUBSCRIPTIONS_PER_USER", default=10)
PUSH_SEND_MAX_RETRIES = env.int("PUSH_SEND_MAX_RETRIES", default=3)
if PUSH_MAX_CONSECUTIVE_FAILURES < 1 or PUSH_MAX_SUBSCRIPTIONS_PER_USER < 1 or PUSH_SEND_MAX_RETRIES < 0:
    raise ImproperlyConfigured(
        "PUSH_MAX_CONSECUTIVE_FAILURES and PUSH_MAX_SUBSCRIPTIONS_PER_USER must be at least 1, "
        "PUSH_SEND_MAX_RETRIES at least 0."
    )
from refuje.push.vapid import settings_problems as _vapid_settings_problems  # noqa: E402

_vapid_problems = _vapid_settings_problems(
    public_key=VAPID_PUBLIC_KEY, private_key=VAPID_PRIVATE_KEY, subject=VAPID_SUBJECT
)
if _vapid_problems:
    raise ImproperlyConfigured("Web push: " + " ".join(_vapid_problems))

# --- Bookings ------------------------------------------------------------------------------
# A booking awaiting payment holds its slot this long; the release job then expires it.
BOOKING_PAYMENT_HOLD_MINUTES = env.int("BOOKING_PAYMENT_HOLD_MINUTES", default=15)
# How many alternative slots a 409 (slot taken) suggests, and the widest availability query.
BOOKING_NEXT_SLOTS = env.int("BOOKING_NEXT_SLOTS", default=5)
BOOKING_AVAILABILITY_MAX_DAYS = env.int("BOOKING_AVAILABILITY_MAX_DAYS", default=31)
if BOOKING_PAYMENT_HOLD_MINUTES < 1 or BOOKING_NEXT_SLOTS < 0 or BOOKING_AVAILABILITY_MAX_DAYS < 1:
    raise ImproperlyConfigured(
        "BOOKING_PAYMENT_HOLD_MINUTES and BOOKING_AVAILABILITY_MAX_DAYS must be at least 1, "
        "BOOKING_NEXT_SLOTS at least 0."
    )
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]["BookingStatusEnum"] = "refuje.bookings.models.BookingStatus"  # type: ignore[index]
CELERY_BEAT_SCHEDULE["bookings-release-expired-holds"] = {
    "task": "refuje.bookings.release_expired_holds",
    "schedule": 60.0,
    "options": {"expires": 55},
}

# --- Payments ------------------------------------------------------------------------------
# `moyasar` takes card payments through Moyasar (MOYASAR_* above). Without Moyasar keys, local
# development and tests default to `console`, a gateway that approves every payment and logs it;
# production must use Moyasar.
PAYMENT_PROVIDER = env.str(
    "PAYMENT_PROVIDER", default="moyasar" if MOYASAR_SECRET_KEY or not (DEBUG or TESTING) else "console"
)
# Authorise at booking, capture when the booking is completed, void when it is cancelled.
PAYMENT_MANUAL_CAPTURE = env.bool("PAYMENT_MANUAL_CAPTURE", default=False)
# Where Moyasar sends the payer after 3-D Secure; the page calls POST /api/v1/payments/{id}/verify/.
PAYMENT_CALLBACK_URL = env.str("PAYMENT_CALLBACK_URL", default=f"{PUBLIC_BASE_URL}/pay/return/{{payment_id}}/")
# Webhooks can be lost: payments still open after this long are fetched from Moyasar by a job.
PAYMENT_RECONCILE_AFTER_SECONDS = env.int("PAYMENT_RECONCILE_AFTER_SECONDS", default=120)
PAYMENT_RECONCILE_MAX_AGE_HOURS = env.int("PAYMENT_RECONCILE_MAX_AGE_HOURS", default=72)
# A refund whose answer never came (timeout) is checked at Moyasar, and re-sent if missing, after this.
PAYMENT_REFUND_RETRY_AFTER_SECONDS = env.int("PAYMENT_REFUND_RETRY_AFTER_SECONDS", default=300)
CELERY_BEAT_SCHEDULE["payments-reconcile"] = {
    "task": "refuje.payments.reconcile_payments",
    "schedule": 120.0,
    "options": {"expires": 110},
}

# --- Reviews -------------------------------------------------------------------------------
# Recomputes every stored rating from the published reviews and fixes any drift (see reviews/ratings.py).
CELERY_BEAT_SCHEDULE["reconcile-ratings"] = {
    "task": "refuje.reviews.reconcile_ratings",
    "schedule": 3600.0,
    "options": {"expires": 3500},
}

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
# For each provider setting: its allowed values, and the settings each value needs.
_PROVIDER_CHOICES: dict[str, dict[str, list[str]]] = {
    "OTP_PROVIDER": {
        "console": [],
        "authentica": ["AUTHENTICA_API_KEY"],
        "gupshup": ["GUPSHUP_API_KEY", "GUPSHUP_SOURCE", "GUPSHUP_APP_NAME", "GUPSHUP_OTP_TEMPLATE_ID"],
    },
    "NOTIFICATION_PROVIDER": {
        "console": [],
        "authentica": ["AUTHENTICA_API_KEY"],
        "gupshup": ["GUPSHUP_API_KEY", "GUPSHUP_SOURCE", "GUPSHUP_APP_NAME"],
    },
    "PAYMENT_PROVIDER": {
        "console": [],
        "moyasar": ["MOYASAR_SECRET_KEY", "MOYASAR_PUBLISHABLE_KEY", "MOYASAR_WEBHOOK_SECRET"],
    },
}
# Console stand-ins that must never run in production, and why.
_DEVELOPMENT_ONLY_PROVIDERS = {
    ("OTP_PROVIDER", "console"): (
        "OTP_PROVIDER=console writes sign-in codes to the log; set OTP_PROVIDER=authentica or gupshup in production."
    ),
    ("PAYMENT_PROVIDER", "console"): (
        "PAYMENT_PROVIDER=console approves every payment without charging; set PAYMENT_PROVIDER=moyasar in production."
    ),
}
for _setting_name, _choices in _PROVIDER_CHOICES.items():
    _provider = globals()[_setting_name]
    if _provider not in _choices:
        _allowed = list(_choices)
        raise ImproperlyConfigured(
            f"{_setting_name} must be {', '.join(_allowed[:-1])} or {_allowed[-1]}, not {_provider!r}."
        )
    _missing = [name for name in _choices[_provider] if not globals()[name]]
    if _missing:
        raise ImproperlyConfigured(f"{_setting_name}={_provider} needs {', '.join(_missing)}.")
    if (_setting_name, _provider) in _DEVELOPMENT_ONLY_PROVIDERS and not (DEBUG or TESTING):
        raise ImproperlyConfigured(_DEVELOPMENT_ONLY_PROVIDERS[(_setting_name, _provider)])
if PROVIDER_HTTP_TIMEOUT_SECONDS <= 0:
    raise ImproperlyConfigured("PROVIDER_HTTP_TIMEOUT_SECONDS must be greater than 0.")
