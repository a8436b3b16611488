"""Qijia settings: one module, driven by environment variables (see docs/operations.md).

With no environment at all it runs the embedded default: SQLite under var/, tasks in-process,
files on local disk. Production sets DATABASE_URL, REDIS_URL, QIJIA_SECRET_KEY, the PII keys and
the storage variables.
"""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("QIJIA_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("QIJIA_DEBUG", default="DATABASE_URL" not in os.environ)
_DEV_SECRET = "qijia-dev-only-secret-not-for-production-0123456789abcdef"
SECRET_KEY = os.environ.get("QIJIA_SECRET_KEY", _DEV_SECRET)
if not DEBUG and SECRET_KEY == _DEV_SECRET and not env_bool("QIJIA_TESTING"):
    raise RuntimeError("QIJIA_SECRET_KEY must be set when QIJIA_DEBUG is off")

ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("QIJIA_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("QIJIA_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "axes",
    "rules.apps.AutodiscoverRulesConfig",
    "qijia.core",
    "qijia.identity",
    "qijia.audit",
    "qijia.enterprises",
    "qijia.notifications",
    "qijia.registry",
    "qijia.demo",
    "qijia.programmes",
    "qijia.applications",
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
    "qijia.core.middleware.RequestContextMiddleware",
    "qijia.core.middleware.DomainErrorPageMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "qijia.core.context_processors.navigation",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'qijia.sqlite3'}"),
        conn_max_age=int(os.environ.get("QIJIA_DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    DATABASES["default"]["CONN_MAX_AGE"] = 0
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
if IS_POSTGRES:
    # Django's cursors bind parameters on the client and never prepare; the few hot paths in
    # qijia.core.db prepare their constant statements explicitly, which psycopg allows only with
    # a threshold set (Django's default, None, disables prepared statements altogether). Behind a
    # pooler in transaction mode set QIJIA_DB_PREPARE=0.
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = (
        5 if os.environ.get("QIJIA_DB_PREPARE", "1") == "1" else None
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "identity.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if env_bool("QIJIA_FAST_HASHER"):  # test suite only: argon2 is deliberately slow
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "identity:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "identity:login"

# Lockout: 5 failures for one username from one address lock it for 30 minutes.
AXES_FAILURE_LIMIT = int(os.environ.get("QIJIA_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("QIJIA_LOGIN_COOLOFF_HOURS", "0.5"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "identity/locked_out.html"
AXES_ENABLED = env_bool("QIJIA_AXES_ENABLED", True)

SESSION_COOKIE_AGE = int(os.environ.get("QIJIA_SESSION_SECONDS", str(8 * 3600)))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_SAVE_EVERY_REQUEST = True  # idle expiry: the age counts from the last request
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("QIJIA_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "qijia" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("QIJIA_STATIC_ROOT", BASE_DIR / "staticfiles"))
WHITENOISE_USE_FINDERS = DEBUG or env_bool("QIJIA_TESTING")
MEDIA_ROOT = Path(os.environ.get("QIJIA_MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"

# Evidence files: local disk by default, S3-compatible storage with QIJIA_STORAGE=s3.
QIJIA_STORAGE = os.environ.get("QIJIA_STORAGE", "local")
if QIJIA_STORAGE == "s3":
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["QIJIA_S3_BUCKET"],
            "endpoint_url": os.environ.get("QIJIA_S3_ENDPOINT_URL"),
            "access_key": os.environ.get("QIJIA_S3_ACCESS_KEY"),
            "secret_key": os.environ.get("QIJIA_S3_SECRET_KEY"),
            "file_overwrite": False,
        },
    }
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT)},
    }
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Photo fingerprints by content hash (a file is decoded once ever); local to each worker host.
QIJIA_PHOTO_CACHE = Path(os.environ.get("QIJIA_PHOTO_CACHE", VAR_DIR / "photo-prints.sqlite3"))
QIJIA_MAX_UPLOAD_BYTES = int(os.environ.get("QIJIA_MAX_UPLOAD_BYTES", str(20 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = QIJIA_MAX_UPLOAD_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Personal data: a keyed hash for matching identity numbers, Fernet for the encrypted copy.
QIJIA_PII_HASH_KEY = os.environ.get("QIJIA_PII_HASH_KEY", "dev-pii-hash-key")
QIJIA_PII_FERNET_KEY = os.environ.get(
    "QIJIA_PII_FERNET_KEY", "hwv6P1j2pTl0l7Q7VnYwq7rYqLw9b6yI2cR8mZ1yUqE="
)
# The audit chain is an HMAC chain: without this key nobody can forge a consistent chain.
QIJIA_AUDIT_KEY = os.environ.get("QIJIA_AUDIT_KEY", "dev-audit-chain-key")

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = env_bool("QIJIA_TASKS_EAGER", False)
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CELERY_BROKER_URL = "memory://"
    CELERY_TASK_ALWAYS_EAGER = True
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE: dict = {}
CELERY_BEAT_SCHEDULE["registry-expire"] = {"task": "registry.expire_entries", "schedule": 3600.0}
CELERY_BEAT_SCHEDULE["registry-seal-checks"] = {"task": "registry.seal_checks", "schedule": 60.0}
CELERY_BEAT_SCHEDULE["applications-overdue"] = {
    "task": "applications.notify_overdue",
    "schedule": 86400.0,
}
QIJIA_BUDGET_ADJUSTMENTS_PER_YEAR = int(os.environ.get("QIJIA_BUDGET_ADJUSTMENTS_PER_YEAR", "2"))
QIJIA_BUDGET_ADJUSTMENT_MAX_PCT = int(os.environ.get("QIJIA_BUDGET_ADJUSTMENT_MAX_PCT", "20"))
QIJIA_REGISTRY_OBJECTION_DAYS = int(os.environ.get("QIJIA_REGISTRY_OBJECTION_DAYS", "15"))

EMAIL_BACKEND = os.environ.get(
    "QIJIA_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = os.environ.get("QIJIA_FROM_EMAIL", "qijia@localhost")

# The province's unified identity service (OpenID Connect). Off unless configured.
QIJIA_OIDC_ISSUER = os.environ.get("QIJIA_OIDC_ISSUER", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("QIJIA_LOG_LEVEL", "WARNING")},
}
