"""The one settings module. Everything that differs between machines comes from the environment.

Environment variables (all optional):

- ``COMMUNITAS_DATA_DIR``: where the SQLite file and generated keys live (default ``./var``).
- ``DATABASE_URL``: use this database instead of SQLite (``postgres://user@host:5432/name``).
- ``COMMUNITAS_SECRET_KEY``: Django's secret key; generated into the data dir when absent.
- ``COMMUNITAS_FIELD_KEYS``: comma-separated base64 AES-256 keys for encrypted fields, newest
  first; generated into the data dir when absent. Older keys still decrypt (rotation).
- ``COMMUNITAS_SEARCH_KEY``: HMAC key for the blind search index; generated when absent.
- ``COMMUNITAS_DEBUG``: ``1`` for development error pages.
- ``COMMUNITAS_ALLOWED_HOSTS``: comma-separated host names (default: localhost names).
- ``COMMUNITAS_SECURE``: ``1`` when served behind TLS (secure cookies, HSTS, SSL redirect).
- ``COMMUNITAS_TRUSTED_PROXY_COUNT``: reverse proxies in front that append ``X-Forwarded-For``.
- ``COMMUNITAS_CACHE_URL``: a shared Redis cache (``redis://host:6379/0``) for the rate limits.
"""

import base64
import os
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("COMMUNITAS_DATA_DIR", "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _env_flag(name: str, default: bool = False) -> bool:
    return os.environ.get(name, "1" if default else "0").lower() in {"1", "true", "yes", "on"}


def _persistent_secret(env_name: str, filename: str, make) -> str:
    """The value from the environment, else from the data dir, else generated and kept there."""
    if os.environ.get(env_name):
        return os.environ[env_name]
    path = DATA_DIR / filename
    if not path.exists():
        # Written whole under a private name, then linked into place: several processes starting
        # at once (gunicorn workers on a new data dir) all end up reading the one that won.
        fd, draft = tempfile.mkstemp(dir=DATA_DIR, prefix=f".{filename}.")
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(make())
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(draft)
    return path.read_text().strip()


def _new_aes_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


SECRET_KEY = _persistent_secret("COMMUNITAS_SECRET_KEY", "secret_key", lambda: secrets.token_urlsafe(50))
FIELD_ENCRYPTION_KEYS = [
    k.strip()
    for k in _persistent_secret("COMMUNITAS_FIELD_KEYS", "field_keys", _new_aes_key).replace("\n", ",").split(",")
    if k.strip()
]
SEARCH_INDEX_KEY = _persistent_secret("COMMUNITAS_SEARCH_KEY", "search_key", _new_aes_key)

DEBUG = _env_flag("COMMUNITAS_DEBUG")
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("COMMUNITAS_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(",")
    if h.strip()
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    # Domain apps, lowest first (see docs/ARCHITECTURE.md).
    "communitas.core",
    "communitas.accounts",
    "communitas.participants",
    "communitas.safety",
    "communitas.facilitators",
    "communitas.compliance",
    "communitas.programs",
    "communitas.community",
    "communitas.outcomes",
    "communitas.insights",
    "communitas.interop",
    "communitas.demo",
    "django_tasks",
    # The database task queue a production worker reads (docs/deploy.md); installed everywhere so
    # its tables exist whichever backend a deployment picks.
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "communitas.core.middleware.SecurityHeadersMiddleware",
    "communitas.core.middleware.ApiErrorShapeMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "communitas.core.ratelimit.LinkRateLimitMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "communitas.accounts.middleware.OrganizationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "communitas.urls"
WSGI_APPLICATION = "communitas.wsgi.application"

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
                "communitas.core.context_processors.csp_nonce",
                "communitas.navigation.navigation",
            ],
        },
    }
]

# Connections live a minute and are checked before reuse, so a database restart costs no request.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{DATA_DIR / 'communitas.sqlite3'}", conn_max_age=60, conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # PostgreSQL's JIT compiles a plan it guesses is big; for a page's queries that costs more
    # than it saves (80 ms of a 130 ms count at 100,000 participants, benchmarks/bench_load.py).
    # COMMUNITAS_PG_OPTIONS replaces these connection options (e.g. "" behind PgBouncer).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = os.environ.get("COMMUNITAS_PG_OPTIONS", "-c jit=off")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "participants:list"

# Login throttling (django-axes): five failures for one account from one address lock it
# for fifteen minutes; the lock is per (username, IP) so an attacker cannot lock out a
# colleague from another machine.
AXES_FAILURE_LIMIT = int(os.environ.get("COMMUNITAS_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "email"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
# The same client address as the link rate limits (COMMUNITAS_TRUSTED_PROXY_COUNT below), so
# behind a proxy a lock is per client, not per proxy.
AXES_CLIENT_IP_CALLABLE = "communitas.core.ratelimit.client_ip"

OTP_TOTP_ISSUER = "Communitas"

SESSION_COOKIE_AGE = int(os.environ.get("COMMUNITAS_SESSION_SECONDS", str(12 * 3600)))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE = _env_flag("COMMUNITAS_SECURE")
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_SSL_REDIRECT = SECURE
# Local health probes reach gunicorn over plain HTTP; they get an answer, not a redirect.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = 31536000 if SECURE else 0
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SECURE else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("COMMUNITAS_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

# API tokens live this long unless the person creating one picks otherwise.
API_TOKEN_DEFAULT_DAYS = int(os.environ.get("COMMUNITAS_API_TOKEN_DAYS", "365"))

# Rate limits on participant links (/a/, /c/, /join/; core/ratelimit.py, docs/security.md), per
# client address, read on every request; 0 turns one off. Failed lookups are 404/410 answers
# there, counted per 10 minutes. The counts live in the default cache, which is local memory and
# so per process: with several processes, COMMUNITAS_CACHE_URL=redis://host:6379/0 makes them
# share one count.
COMMUNITAS_LINK_RATE_PER_MINUTE = int(os.environ.get("COMMUNITAS_LINK_RATE_PER_MINUTE", "120"))
COMMUNITAS_LINK_FAILURE_LIMIT = int(os.environ.get("COMMUNITAS_LINK_FAILURE_LIMIT", "20"))
# Reverse proxies in front that append to X-Forwarded-For (0: REMOTE_ADDR is the client).
COMMUNITAS_TRUSTED_PROXY_COUNT = int(os.environ.get("COMMUNITAS_TRUSTED_PROXY_COUNT", "0"))
# Never limited: the machine itself (health checks, local tools, the test client).
COMMUNITAS_LINK_RATE_EXEMPT = [
    n.strip() for n in os.environ.get("COMMUNITAS_LINK_RATE_EXEMPT", "127.0.0.0/8,::1/128").split(",") if n.strip()
]
if os.environ.get("COMMUNITAS_CACHE_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["COMMUNITAS_CACHE_URL"],
        }
    }

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = os.environ.get("COMMUNITAS_TIME_ZONE", "UTC")
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("COMMUNITAS_LOG_LEVEL", "WARNING")},
}
NINJA_PAGINATION_MAX_LIMIT = 200
NINJA_PAGINATION_PER_PAGE = 50

# Background tasks (django-tasks): run immediately unless a worker backend is configured.
# Production sets both to "django_tasks_db.DatabaseBackend" and runs one worker per backend,
# `communitas db_worker --backend default` and `--backend analysis` (docs/deploy.md); failed
# attempts are retried (core.tasks_retry) and listed at /ops/tasks/.
TASKS = {
    "default": {
        "BACKEND": os.environ.get("COMMUNITAS_TASKS_BACKEND", "django_tasks.backends.immediate.ImmediateBackend")
    },
    # Long analyses (model fits) never run inside a request: a worker thread by default.
    "analysis": {
        "BACKEND": os.environ.get("COMMUNITAS_ANALYSIS_TASKS_BACKEND", "communitas.core.tasks_thread.ThreadBackend")
    },
}
# Program dashboards read precomputed figures younger than this many seconds (insights.snapshots;
# `communitas refresh-dashboards` keeps them fresh); older ones are recomputed by the reader.
COMMUNITAS_DASHBOARD_MAX_AGE = int(os.environ.get("COMMUNITAS_DASHBOARD_MAX_AGE", "900"))
# Small-cell suppression for researchers: counts from 1 to this minus one are hidden (insights).
COMMUNITAS_SMALL_CELL_THRESHOLD = int(os.environ.get("COMMUNITAS_SMALL_CELL_THRESHOLD", "11"))

# Outgoing messages. The console backend prints mail in development.
EMAIL_BACKEND = os.environ.get("COMMUNITAS_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
# With COMMUNITAS_EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend: the relay to use.
EMAIL_HOST = os.environ.get("COMMUNITAS_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("COMMUNITAS_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("COMMUNITAS_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("COMMUNITAS_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = _env_flag("COMMUNITAS_EMAIL_STARTTLS")
EMAIL_USE_SSL = _env_flag("COMMUNITAS_EMAIL_SSL")
EMAIL_TIMEOUT = 30
DEFAULT_FROM_EMAIL = os.environ.get("COMMUNITAS_FROM_EMAIL", "Communitas <no-reply@localhost>")
COMMUNITAS_SMS_BACKEND = os.environ.get("COMMUNITAS_SMS_BACKEND", "communitas.outcomes.notify.ConsoleSmsBackend")
# Absolute address used in emailed and texted links.
COMMUNITAS_BASE_URL = os.environ.get("COMMUNITAS_BASE_URL", "http://127.0.0.1:8000")
