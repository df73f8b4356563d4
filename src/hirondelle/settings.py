"""Django settings, built from :mod:`hirondelle.config`.

Nothing here should be edited per deployment: set ``HIRONDELLE_*`` variables.
"""

from __future__ import annotations

import dj_database_url

from hirondelle.config import get_settings, secret_key, token_keys

CONFIG = get_settings()
DATA_DIR = CONFIG.data_dir

DEBUG = CONFIG.debug
SECRET_KEY = CONFIG.secret_key or secret_key(DATA_DIR)
ALLOWED_HOSTS = CONFIG.allowed_hosts
TOKEN_KEYS = (
    [k.strip() for k in CONFIG.token_keys.split(",") if k.strip()]
    if CONFIG.token_keys
    else token_keys(DATA_DIR)
)

if CONFIG.database_url:
    DATABASES = {"default": dj_database_url.parse(CONFIG.database_url, conn_max_age=600)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "hirondelle.sqlite3",
            # Keep connections: opening one and running the PRAGMAs on every
            # request was a third of a small request's time.
            "CONN_MAX_AGE": 600,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": {
                # One writer at a time, taken at BEGIN: no "database is locked"
                # surprises between the web page and the worker thread.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;"
                ),
            },
        }
    }

# Rate limits count attempts here (see hirondelle.portal.services.ratelimit):
# in memory on a laptop (one process); in a table of the database a portal's
# web processes share (`hirondelle migrate` creates it), so no Redis is needed;
# in Redis when the operator has one.
if CONFIG.cache_url:
    _cache = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": CONFIG.cache_url,
    }
elif CONFIG.database_url:
    _cache = {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "hirondelle_cache",
    }
else:
    _cache = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
CACHES = {"default": _cache}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "identity.User"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "hirondelle.identity",
    "hirondelle.migration",
    "hirondelle.portal",
]

MIDDLEWARE = [
    # First, so the in-process worker sees every request (hirondelle serve).
    "hirondelle.portal.middleware.PageFirstMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # WhiteNoise, streaming asynchronously under ASGI.
    "hirondelle.portal.middleware.StaticFilesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # CSP and the headers Django does not set (Django 5.2 has no CSP).
    "hirondelle.portal.middleware.SecurityHeadersMiddleware",
]

ROOT_URLCONF = "hirondelle.urls"
ASGI_APPLICATION = "hirondelle.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

# French first: the movement this tool serves started in France.
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français"), ("en", "English")]
USE_I18N = True
LOGIN_URL = "portal:signin"
LOGIN_REDIRECT_URL = "portal:home"
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = True  # no collectstatic step on a laptop
MEDIA_ROOT = DATA_DIR / "media"

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
if CONFIG.public_url.startswith("https://"):
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    CSRF_TRUSTED_ORIGINS = [CONFIG.public_url]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
