"""Settings, all from the environment (see .env.example and the README).

The embedded default (no variables set) is SQLite under data/, the in-memory
channel layer and a local-memory cache: one process, no services. Setting
DATABASE_URL and REDIS_URL moves the same code onto PostgreSQL and Redis.
"""

import json
import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    value = env_str(name)
    if not value:
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}")


def env_int(name: str, default: int) -> int:
    value = env_str(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def env_float(name: str, default: float) -> float:
    value = env_str(name)
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def read_dotenv(path: Path) -> None:
    """KEY=VALUE lines of a local, git-ignored .env (`make run` writes one with
    DEBUG on and a generated key), so commands work with nothing exported.
    The real environment always wins; production has no such file."""
    if not path.is_file():
        return
    for line in path.read_text().splitlines():
        name, sep, value = line.strip().partition("=")
        if sep and name and not name.startswith("#"):
            os.environ.setdefault(name.strip(), value.strip())


read_dotenv(BASE_DIR / ".env")

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off")
    SECRET_KEY = "insecure-development-key-only-used-with-DEBUG-on-0123456789"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
PORT = env_int("PORT", 8000)
# The web process (`manage.py serve`, which `make run` and the deploy units use):
# a listen backlog deep enough for a storm of connects (the kernel caps it at
# net.core.somaxconn), time for a websocket handshake on a busy server, and a
# ping rare enough not to cost much at 10,000 clients yet below any proxy's
# idle timeout. WEB_BEHIND_PROXY: behind the nginx in deploy/, which sets
# X-Forwarded-For to the address it saw: one trusted proxy (TRUSTED_PROXIES).
WEB_LISTEN_BACKLOG = env_int("WEB_LISTEN_BACKLOG", 4096)
WEB_WEBSOCKET_CONNECT_TIMEOUT = env_int("WEB_WEBSOCKET_CONNECT_TIMEOUT", 30)
WEB_PING_INTERVAL = env_int("WEB_PING_INTERVAL", 60)
WEB_PING_TIMEOUT = env_int("WEB_PING_TIMEOUT", 60)
WEB_BEHIND_PROXY = env_bool("WEB_BEHIND_PROXY", False)
# On SIGTERM a web process stops listening, then closes its websockets over
# this many seconds, so its customers come back to the others a share at a
# time rather than all at once (outages/live/server.py; bench/topology.py).
WEB_DRAIN_SECONDS = env_int("WEB_DRAIN_SECONDS", 10)
# Requests inside Django's handler at once per web process (the rest wait
# their turn on the event loop; 0: no bound). Measured by bench/callback_storm.py.
WEB_CONCURRENT_REQUESTS = env_int("WEB_CONCURRENT_REQUESTS", 4)
SITE_NAME = env_str("SITE_NAME", "Service status")
# The name in other languages: SITE_NAME_HU, SITE_NAME_HE, ... (any code of
# LANGUAGES, read below once LANGUAGES is known). Unset with the default
# name, the catalogue's translation of "Service status" is used.
# Absolute base URL for links that leave the page (feeds, emails, API shortlinks).
SITE_URL = env_str("SITE_URL", f"http://127.0.0.1:{PORT}").rstrip("/")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "django_htmx",
    "django_tasks_db",
    "outages",
]

MIDDLEWARE = [
    # Answers a repeat of a cached public request with the chain's own earlier
    # response, before the rest of the chain (outages/live/fastpath.py).
    "outages.live.fastpath.PageFastPathMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "outages.i18n.LanguageParameterMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "statuspage.urls"
ASGI_APPLICATION = "statuspage.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "outages.site.site",
            ],
        },
    }
]

# Databases ------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'data' / 'statuspage.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The same backend, with one process's writers queued in Python
    # (statuspage/sqlite3/base.py). WAL lets the server, the worker and the
    # CLI share the file without "database is locked" under normal load.
    DATABASES["default"]["ENGINE"] = "statuspage.sqlite3"
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # A file, not memory, so a server started by a test (daphne, for the
    # browser and websocket tests) sees the same test database.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "data" / "test.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: channel layer and cache ----------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            # A dead Redis is noticed within a second; the outbox poll covers it.
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_connect_timeout": 1}]},
        }
    }
    CACHES = {
        "default": {
            # Degrades to "no cache" while Redis is away (see outages/cache.py):
            # short timeouts, so an outage costs a request half a second at most.
            "BACKEND": "outages.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "statuspage",
            "OPTIONS": {"socket_timeout": 0.5, "socket_connect_timeout": 0.5},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Public responses (pages, widget, JSON, feeds, voice line) are rendered once
# per change and kept in the cache above (see outages/live/pagecache.py):
# PAGE_CACHE_SECONDS bounds how old clock-dependent text may get (0 turns the
# cache off); PAGE_MAX_AGE is how long a proxy, CDN or browser may keep them,
# then serve them stale while revalidating or when the origin fails; the last
# good copy of each is kept PAGE_LAST_GOOD_SECONDS for when the database is down.
PAGE_CACHE_SECONDS = env_int("PAGE_CACHE_SECONDS", 60)
PAGE_MAX_AGE = env_int("PAGE_MAX_AGE", 5)
PAGE_STALE_WHILE_REVALIDATE = env_int("PAGE_STALE_WHILE_REVALIDATE", 30)
PAGE_STALE_IF_ERROR = env_int("PAGE_STALE_IF_ERROR", 86400)
PAGE_LAST_GOOD_SECONDS = env_int("PAGE_LAST_GOOD_SECONDS", 7 * 86400)
# Bounds, whatever clients send: slots for pages with query parameters, last
# good copies of pages without and with parameters, and the largest copy kept.
PAGE_CACHE_QUERY_ENTRIES = env_int("PAGE_CACHE_QUERY_ENTRIES", 512)
PAGE_LAST_GOOD_ENTRIES = env_int("PAGE_LAST_GOOD_ENTRIES", 1024)
PAGE_LAST_GOOD_QUERY_ENTRIES = env_int("PAGE_LAST_GOOD_QUERY_ENTRIES", 128)
PAGE_CACHE_MAX_BYTES = env_int("PAGE_CACHE_MAX_BYTES", 2 * 1024 * 1024)
# With Redis, each process re-reads the shared status version at most this often.
PAGE_VERSION_MEMO_SECONDS = env_float("PAGE_VERSION_MEMO_SECONDS", 0.25)

# Concurrent websockets per client address (an IPv4 address or an IPv6 /64) in
# each server process; the excess is closed with 1008 (policy). 0: no cap.
WEBSOCKETS_PER_ADDRESS = env_int("WEBSOCKETS_PER_ADDRESS", 1000)

# Seconds between reads of the live-push outbox (see outages/live/).
LIVE_OUTBOX_POLL_SECONDS = env_float("LIVE_OUTBOX_POLL_SECONDS", 0.5)
# Every this many seconds each server process logs its live clients, groups and
# asyncio tasks ("live relay clients=... tasks=..."); 0 turns it off.
LIVE_STATS_SECONDS = env_float("LIVE_STATS_SECONDS", 0)
# How often each server process records its live clients per group in the
# cache, for the console's "showing now on N open pages" (outages/live/census.py).
LIVE_CENSUS_SECONDS = env_float("LIVE_CENSUS_SECONDS", 1.0)
# The console refuses an ETA more than this many days ahead (a slip of the date).
ETA_MAX_DAYS = env_int("ETA_MAX_DAYS", 14)

# Background tasks -----------------------------------------------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Auth -----------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
# Console sign-in throttle (outages/admin/login.py): failures allowed per
# username and per client address within the window, then refused until it ends.
LOGIN_FAILURES_PER_USERNAME = env_int("LOGIN_FAILURES_PER_USERNAME", 5)
LOGIN_FAILURES_PER_ADDRESS = env_int("LOGIN_FAILURES_PER_ADDRESS", 20)
LOGIN_THROTTLE_SECONDS = env_int("LOGIN_THROTTLE_SECONDS", 900)
# How many reverse proxies we run in front of the app (outages/client_address.py):
# 0 (default) takes the connection's address; N takes the address our Nth
# proxy from the app saw, from X-Forwarded-For. The shipped nginx is one: 1.
TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", 1 if WEB_BEHIND_PROXY else 0)
if TRUSTED_PROXIES < 0:
    raise ImproperlyConfigured("TRUSTED_PROXIES must be 0 or more")

# Internationalisation -------------------------------------------------------
# Our own date/time formats (24-hour clock in English too): see statuspage/formats.
FORMAT_MODULE_PATH = ["statuspage.formats"]
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("hu", "Magyar"), ("he", "עברית")]
SITE_NAME_TRANSLATIONS = {
    code: env_str(f"SITE_NAME_{code.upper()}") for code, _name in LANGUAGES if env_str(f"SITE_NAME_{code.upper()}")
}
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Europe/Budapest")
USE_I18N = True
USE_TZ = True

# Static files ---------------------------------------------------------------
STATIC_URL = "/static/"
# Uploads (team photos): served by the app itself (views/contact.team_photo), so `make run` needs nothing else.
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "data" / "media")))
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG
# Files browsers ask for at the site root (/favicon.ico).
WHITENOISE_ROOT = BASE_DIR / "static" / "root"

# Email ----------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "status@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_URL = env_str("EMAIL_URL")


def mailer_from_url(url: str) -> dict:
    """Translate EMAIL_URL (smtp://user:pass@host:587?tls=1) into a MAILERS entry."""
    if not url:
        return {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    parts = urlparse(url)
    if parts.scheme not in {"smtp", "smtps"}:
        raise ImproperlyConfigured(f"EMAIL_URL must start with smtp:// or smtps://, not {parts.scheme!r}")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    return {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": parts.hostname or "localhost",
            "port": parts.port or (465 if parts.scheme == "smtps" else 25),
            "username": unquote(parts.username or ""),
            "password": unquote(parts.password or ""),
            "use_tls": query.get("tls") in {"1", "true"},
            "use_ssl": parts.scheme == "smtps" or query.get("ssl") in {"1", "true"},
            "timeout": 10,
        },
    }


MAILERS = {"default": mailer_from_url(EMAIL_URL)}

# Subscriptions and notifications ------------------------------------------------
# SMS: a backend class (outages.notify.sms.ConsoleBackend prints, or appends to
# SMS_FILE_PATH; outages.notify.sms.HttpGatewayBackend posts to SMS_GATEWAY_URL).
SMS_BACKEND = env_str("SMS_BACKEND", "outages.notify.sms.ConsoleBackend")
SMS_FILE_PATH = env_str("SMS_FILE_PATH")
SMS_GATEWAY_URL = env_str("SMS_GATEWAY_URL")
SMS_GATEWAY_TOKEN = env_str("SMS_GATEWAY_TOKEN")
# The gateway's inbound texts to /webhooks/sms-gateway/ are signed with this
# (X-Gateway-Signature: sha256=<hex HMAC-SHA256 of the body>); unset: refused.
SMS_GATEWAY_WEBHOOK_SECRET = env_str("SMS_GATEWAY_WEBHOOK_SECRET")
SMS_SENDER = env_str("SMS_SENDER", SITE_NAME[:11])
# Countries (ISO 3166 codes) whose phone numbers may subscribe to SMS.
SMS_ALLOWED_REGIONS = [code.upper() for code in env_list("SMS_ALLOWED_REGIONS", "HU")]
# Webhooks never reach private, loopback, link-local or metadata addresses;
# tests (a receiver on 127.0.0.1) may allow loopback, and only loopback.
WEBHOOK_ALLOW_LOOPBACK = env_bool("WEBHOOK_ALLOW_LOOPBACK", False)
WEBHOOK_TIMEOUT = env_int("WEBHOOK_TIMEOUT", 5)
# Retries: base * 2^(attempt-1) seconds (capped at an hour), then given up.
NOTIFY_RETRY_BASE_SECONDS = env_int("NOTIFY_RETRY_BASE_SECONDS", 30)
NOTIFY_MAX_ATTEMPTS = env_int("NOTIFY_MAX_ATTEMPTS", 8)
NOTIFY_BATCH_SIZE = env_int("NOTIFY_BATCH_SIZE", 200)
# Conversations: customers ask by SMS or chat and get the page's sentence back.
# Each provider's API base URL is a setting so tests (and a sandbox) can point elsewhere.
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN")
TWILIO_NUMBER = env_str("TWILIO_NUMBER")
TWILIO_API_BASE = env_str("TWILIO_API_BASE", "https://api.twilio.com")
# The webhook URL as Twilio calls it (it signs that exact URL); unset: the request's own.
TWILIO_WEBHOOK_URL = env_str("TWILIO_WEBHOOK_URL")
TELEGRAM_BOT_TOKEN = env_str("TELEGRAM_BOT_TOKEN")
TELEGRAM_SECRET_TOKEN = env_str("TELEGRAM_SECRET_TOKEN")
TELEGRAM_API_BASE = env_str("TELEGRAM_API_BASE", "https://api.telegram.org")
WHATSAPP_TOKEN = env_str("WHATSAPP_TOKEN")
WHATSAPP_APP_SECRET = env_str("WHATSAPP_APP_SECRET")
WHATSAPP_VERIFY_TOKEN = env_str("WHATSAPP_VERIFY_TOKEN")
WHATSAPP_PHONE_NUMBER_ID = env_str("WHATSAPP_PHONE_NUMBER_ID")
WHATSAPP_API_BASE = env_str("WHATSAPP_API_BASE", "https://graph.facebook.com/v21.0")
# Viber signs with its auth token; Messenger like WhatsApp (app secret, verify token, page token).
VIBER_AUTH_TOKEN = env_str("VIBER_AUTH_TOKEN")
VIBER_SENDER_NAME = env_str("VIBER_SENDER_NAME", SITE_NAME[:28])
VIBER_API_BASE = env_str("VIBER_API_BASE", "https://chatapi.viber.com/pa")
MESSENGER_PAGE_TOKEN = env_str("MESSENGER_PAGE_TOKEN")
MESSENGER_APP_SECRET = env_str("MESSENGER_APP_SECRET")
MESSENGER_VERIFY_TOKEN = env_str("MESSENGER_VERIFY_TOKEN")
MESSENGER_API_BASE = env_str("MESSENGER_API_BASE", "https://graph.facebook.com/v21.0")
CHAT_SEND_TIMEOUT = env_int("CHAT_SEND_TIMEOUT", 5)
# Messages per sender per minute before "slow down".
CHAT_RATE_PER_MINUTE = env_int("CHAT_RATE_PER_MINUTE", 10)
# Sender ids are deleted this many days after the last message (unless a follow is active).
CHAT_KEEP_DAYS = env_int("CHAT_KEEP_DAYS", 30)
# Browser notifications (Web Push, VAPID): the key pair from the environment
# (production), else from the git-ignored file `manage.py webpush_keys` writes
# (`make run` does it once). Without a public key the button is not shown.
VAPID_KEY_FILE = Path(env_str("VAPID_KEY_FILE", str(BASE_DIR / "data" / "vapid.json")))


def _vapid_keys() -> dict:
    if env_str("VAPID_PRIVATE_KEY") or not VAPID_KEY_FILE.is_file():
        return {}
    try:
        return json.loads(VAPID_KEY_FILE.read_text())
    except (OSError, ValueError):
        return {}


_VAPID_FILE_KEYS = _vapid_keys()
VAPID_PRIVATE_KEY = env_str("VAPID_PRIVATE_KEY") or _VAPID_FILE_KEYS.get("private_key", "")
VAPID_PUBLIC_KEY = env_str("VAPID_PUBLIC_KEY") or _VAPID_FILE_KEYS.get("public_key", "")
# Who runs this sender, for push services: mailto: or https: (RFC 8292).
VAPID_SUBJECT = env_str("VAPID_SUBJECT", f"mailto:{DEFAULT_FROM_EMAIL}")
# How long a push service keeps a message for a browser that is offline.
WEBPUSH_TTL = env_int("WEBPUSH_TTL", 12 * 3600)
# Abuse limits, per hour: confirmation messages per address or phone number,
# subscribe requests per client IP.
SUBSCRIBE_LIMIT_PER_ADDRESS = env_int("SUBSCRIBE_LIMIT_PER_ADDRESS", 3)
SUBSCRIBE_LIMIT_PER_IP = env_int("SUBSCRIBE_LIMIT_PER_IP", 20)
# Callbacks and messages to the local team: requests per hour per client IP and
# per phone number or address; phone numbers and texts are blanked this many
# days after a request closes.
CONTACT_LIMIT_PER_IP = env_int("CONTACT_LIMIT_PER_IP", 10)
CONTACT_LIMIT_PER_ADDRESS = env_int("CONTACT_LIMIT_PER_ADDRESS", 3)
CONTACT_PERSONAL_DATA_DAYS = env_int("CONTACT_PERSONAL_DATA_DAYS", 30)

# Automatic first estimates (outages/queries/estimates.py): resolved outages of
# the last ESTIMATE_WINDOW_MONTHS, at least ESTIMATE_MIN_SAMPLES alike, and the
# ESTIMATE_PERCENTILE-th percentile of their time to restore.
ESTIMATE_WINDOW_MONTHS = env_int("ESTIMATE_WINDOW_MONTHS", 12)
ESTIMATE_MIN_SAMPLES = env_int("ESTIMATE_MIN_SAMPLES", 10)
ESTIMATE_PERCENTILE = env_int("ESTIMATE_PERCENTILE", 80)


# The longest time between public updates, per impact (minutes): the default
# "next update by" promise when an update gives none. "critical=60,major=120,minor=360".
def env_minutes_by_name(name: str, default: str) -> dict[str, int]:
    """ "critical=60,major=120" as {"critical": 60, "major": 120}; anything else is refused."""
    result = {}
    for item in env_list(name, default):
        key, sep, minutes = item.partition("=")
        if not sep or not key.strip() or not minutes.strip().isdigit() or int(minutes) <= 0:
            raise ImproperlyConfigured(f"{name} must read like critical=60,major=120,minor=360, not {item!r}")
        result[key.strip()] = int(minutes)
    return result


UPDATE_CADENCE_MINUTES = env_minutes_by_name("UPDATE_CADENCE_MINUTES", "critical=60,major=120,minor=360")

# Security -------------------------------------------------------------------
# Public pages carry no inline script or style, so the policy needs no nonce
# and a cached page is safe to serve to anyone. The widget overrides
# frame-ancestors with EMBED_ALLOWED_ORIGINS.
EMBED_ALLOWED_ORIGINS = env_list("EMBED_ALLOWED_ORIGINS", "*")
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
# The outage map draws shapes on a plain background; a tile server is opt-in.
# Its host is added to img-src on the map page only.
MAP_TILE_URL = env_str("MAP_TILE_URL")
MAP_TILE_ATTRIBUTION = env_str("MAP_TILE_ATTRIBUTION")
if MAP_TILE_URL and not (
    MAP_TILE_URL.startswith(("https://", "http://")) and all(part in MAP_TILE_URL for part in ("{z}", "{x}", "{y}"))
):
    raise ImproperlyConfigured("MAP_TILE_URL must be an http(s) URL template with {z}, {x} and {y}")
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
# The health endpoints answer over plain HTTP for load balancers.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own default sends its loggers to a second console handler
        # when DEBUG is on: one handler here, so each line is printed once.
        "django": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO"), "propagate": False},
        "django.channels.server": {"level": "WARNING"},
    },
}
