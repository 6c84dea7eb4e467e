"""Pacer settings: one file, everything that differs between machines comes from the environment.

With nothing set, Pacer runs embedded: a SQLite file and a filesystem Celery broker under .data/,
email printed to the console. Production sets DATABASE_URL, CELERY_BROKER_URL, EMAIL_URL,
SECRET_KEY and ALLOWED_HOSTS (see README.md).
"""

import datetime
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = BASE_DIR / ".data"  # git-ignored: the embedded database and broker folders

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)

# Fail closed: outside DEBUG a missing secret is a startup error, never a silent default.
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (set DEBUG=1 for development).")
    SECRET_KEY = "insecure-development-key-only-used-with-DEBUG=1"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
TIME_ZONE = env.str("TIME_ZONE", default="UTC")  # the organisation's timezone (daily jobs run in it)
USE_TZ = True
LANGUAGE_CODE = "en-us"
USE_I18N = True
# Off: with it on, every id rendered in a template (URLs, DOM ids) would read "3,401". Figures are
# grouped explicitly by the `kpi_value` / `percent` filters (force_grouping) or `intcomma`.
USE_THOUSAND_SEPARATOR = False

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "drf_standardized_errors",
    "django_celery_beat",
    "django_htmx",
    "template_partials",
    "crispy_forms",
    "crispy_bootstrap5",
    "axes",
    "teams",
    "notifications",
    "goals",
    "rewards",
    "feedback",
    "api",
    "webhooks",
    "config",  # the project itself: the commands that span every app (seed_demo, setup_schedule)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "teams.middleware.UserTimezoneMiddleware",
    "config.middleware.MethodNotAllowedPageMiddleware",
    "teams.middleware.PermissionDeniedAuditMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "teams.context_processors.navigation",
                "notifications.context_processors.unread",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'pacer.sqlite3'}")}
# Folders the embedded default needs (created by config/embedded.py when a process starts, never here).
EMBEDDED_FOLDERS = [DATA_DIR] if str(DATABASES["default"]["NAME"]).startswith(str(DATA_DIR)) else []
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes; IMMEDIATE avoids "database is locked"
    # upgrades inside transactions.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "teams.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked-out account or address before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
# Login throttling: after AXES_FAILURE_LIMIT failed logins an account, and separately an IP address, is locked
# for the cool-off (an admin can unlock on the People page). Counted in the database, so every web process
# agrees and concurrent attempts are counted under a row lock.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "teams.auth.lockout_response"
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # retrying while locked does not extend the lock
AXES_VERBOSE = False
# Behind a load balancer every request comes from its address: count the proxies in front of Pacer that append
# to X-Forwarded-For (0 = clients connect directly), so throttling and the audit log see the client's address.
PROXY_COUNT = env.int("PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "teams.auth.client_ip"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG  # `make run` serves static/ without collectstatic

# --- Email ----------------------------------------------------------------------------------
# EMAIL_URL, e.g. smtp+tls://user:password@smtp.example.com:587 (consolemail:// prints emails instead).
_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST") or "localhost"
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)  # seconds; a hung SMTP server must not hold a worker
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Pacer <pacer@localhost>")
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")  # for links in emails

# --- Security (check --deploy is clean when DEBUG=0) ---------------------------------------
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# X-Forwarded-Proto is trusted only behind a proxy that sets it (and strips it from clients): anywhere else a
# client could send "https" and be taken for a secure request.
BEHIND_PROXY = env.bool("BEHIND_PROXY", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp 4): scripts, styles and everything else from Pacer's own origin only; no
# inline <script>, no style="…", no eval. JS lives in static/js, styles in static/css; data reaches scripts through
# data-* attributes and json_script (a JSON data block is not executed). Bootstrap's CSS draws its icons from
# data: URIs. Chart.js and Bootstrap set element styles through the CSSOM, which CSP allows.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = DATA_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
    }
    EMBEDDED_FOLDERS += [_broker_dir / "queue", _broker_dir / "control"]  # kombu does not create them
else:
    # Short socket timeouts: a request that enqueues must never hang on an unreachable broker.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 3600,  # no countdown/ETA may exceed this (tests/config pins it)
        "socket_connect_timeout": 1,
        "interval_start": 0,  # kombu waits 2 s before its first reconnect by default
        "socket_timeout": 5,
        "max_retries": 1,
    }
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY = False
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 300
CELERY_TASK_TIME_LIMIT = 360
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Separate queues, so a slow SMTP server or webhook receiver never delays the figures (README, Scaling).
# Anything unrouted goes to the default queue "celery". `make run`'s worker consumes all of them.
CELERY_TASK_ROUTES = {
    "goals.tasks.recompute_*": {"queue": "recompute"},
    "goals.tasks.close_due_goals": {"queue": "recompute"},
    "goals.tasks.send_*": {"queue": "notifications"},
    "notifications.tasks.*": {"queue": "notifications"},
    "*.tasks.deliver_webhook*": {"queue": "webhooks"},
    "webhooks.tasks.*": {"queue": "webhooks"},
}
PACER_CELERY_QUEUES = ["celery", "recompute", "notifications", "webhooks"]

# --- REST API (docs: /api/docs/; conventions: api/__init__.py) -----------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Tokens first: the first class names the WWW-Authenticate challenge, so a missing login is a 401.
        "api.auth.ApiTokenAuthentication",  # personal tokens (knox: stored hashed, shown once)
        "rest_framework.authentication.SessionAuthentication",  # the browser: CSRF enforced
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "api.base.PagePagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["api.auth.PerTokenThrottle", "rest_framework.throttling.AnonRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "token": env.str("API_THROTTLE_RATE", default="600/min"),
        "anon": env.str("API_ANON_THROTTLE_RATE", default="60/min"),
    },
    "DEFAULT_SCHEMA_CLASS": "api.schema.PacerAutoSchema",
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
DRF_STANDARDIZED_ERRORS = {
    "EXCEPTION_HANDLER_CLASS": "api.errors.ServiceAwareExceptionHandler",
    # The codes the API answers with everywhere (409, an Idempotency-Key reused, is documented where it happens).
    "ALLOWED_ERROR_STATUS_CODES": ["400", "401", "403", "404", "405", "406", "415", "429"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Pacer API",
    "DESCRIPTION": "Goals, micro goals, the progress ledger, notifications, rewards and feedback (check-ins, action "
    "items, adjustment requests). See README.md for a curl walk-through.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",  # served from static/, so the docs work offline
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "FeedbackKindEnum": "feedback.api.feedback.KINDS",
        "ValidationErrorEnum": "drf_standardized_errors.openapi_serializers.ValidationErrorEnum.choices",
        "ClientErrorEnum": "drf_standardized_errors.openapi_serializers.ClientErrorEnum.choices",
        "ServerErrorEnum": "drf_standardized_errors.openapi_serializers.ServerErrorEnum.choices",
        "ErrorCode401Enum": "drf_standardized_errors.openapi_serializers.ErrorCode401Enum.choices",
        "ErrorCode403Enum": "drf_standardized_errors.openapi_serializers.ErrorCode403Enum.choices",
        "ErrorCode404Enum": "drf_standardized_errors.openapi_serializers.ErrorCode404Enum.choices",
        "ErrorCode405Enum": "drf_standardized_errors.openapi_serializers.ErrorCode405Enum.choices",
        "ErrorCode406Enum": "drf_standardized_errors.openapi_serializers.ErrorCode406Enum.choices",
        "ErrorCode415Enum": "drf_standardized_errors.openapi_serializers.ErrorCode415Enum.choices",
        "ErrorCode429Enum": "drf_standardized_errors.openapi_serializers.ErrorCode429Enum.choices",
        "ErrorCode500Enum": "drf_standardized_errors.openapi_serializers.ErrorCode500Enum.choices",
    },
    "POSTPROCESSING_HOOKS": ["drf_standardized_errors.openapi_hooks.postprocess_schema_enums"],
}
# Personal API tokens: knox, with a model that adds the name the user gives each token.
KNOX_TOKEN_MODEL = "api.ApiToken"  # noqa: S105 (a model name, not a secret)
# knox's own migrations create its AuthToken table even when the model is swapped, and that orphan table's foreign
# key to users would block flushing the users table: knox gets no migrations, and its swapped model no table.
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {"TOKEN_TTL": None, "AUTO_REFRESH": False, "TOKEN_PREFIX": "pacer_"}
# Throttle counters live in the cache: give every web process the same one in production (CACHE_URL=redis://...).
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # Django's backend, keeping one redis-py client per connection pool (config/cache.py says why).
    CACHES["default"]["BACKEND"] = "config.cache.RedisCache"
# Webhooks remember which events have subscribers only where every process shares the cache, so an endpoint
# changed in one process is seen at once by all (webhooks/services.py); a per-process cache reads them every time.
WEBHOOK_SUBSCRIPTIONS_CACHED = CACHES["default"]["BACKEND"] not in (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)

# --- Forms ----------------------------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Pacer's own rules (see docs/architecture.md) ------------------------------------------
PACER = {
    "MAX_ACTIVE_MICRO_GOALS_PER_REP": env.int("PACER_MAX_ACTIVE_MICRO_GOALS_PER_REP", default=6),
    # Health (goals/pace.py): on track when the forecast reaches the target; at risk when it still makes
    # this share of the way from baseline to target; off track below.
    "HEALTH_AT_RISK_FORECAST_RATIO": "0.90",
    "RUN_RATE_WORKING_DAYS": 10,  # forecast uses the daily run-rate over this many recent working days
    # Forecast blend: z = elapsed / (elapsed + K) on the window's run rate, the rest on the owner's rate over
    # the FORECAST_HISTORY_WORKING_DAYS working days before the window.
    "FORECAST_CREDIBILITY_WORKING_DAYS": 5,
    "FORECAST_HISTORY_WORKING_DAYS": 20,
    # An entry above this many times the largest day the rep or their team ever logged asks for a second look.
    "IMPLAUSIBLE_DAY_FACTOR": 10,
    # The coalesced recompute's single-flight lease, renewed after each batch; a crashed worker's expires.
    "RECOMPUTE_LEASE_SECONDS": env.int("PACER_RECOMPUTE_LEASE_SECONDS", default=120),
    "ACHIEVABILITY_HISTORY_WORKING_DAYS": 60,
    "DEADLINE_REMINDER_DAYS": env.list("PACER_DEADLINE_REMINDER_DAYS", cast=int, default=[7, 3, 1]),
    "CURRENCY": env.str("PACER_CURRENCY", default="USD"),  # the organisation's currency: reward bonuses are paid in it
    # Input bounds (teams/validators.py): every stored date lies in [MIN_DATE, MAX_DATE]; a goal's window
    # spans at most MAX_GOAL_DAYS days and a breakdown at most MAX_BREAKDOWN_PERIODS periods.
    "MIN_DATE": datetime.date.fromisoformat(env.str("PACER_MIN_DATE", default="2000-01-01")),
    "MAX_DATE": datetime.date.fromisoformat(env.str("PACER_MAX_DATE", default="2099-12-31")),
    "MAX_GOAL_DAYS": env.int("PACER_MAX_GOAL_DAYS", default=731),
    "MAX_BREAKDOWN_PERIODS": env.int("PACER_MAX_BREAKDOWN_PERIODS", default=130),
}
# One locale for every number, amount and percent on pages and in emails (Babel, goals/templatetags/pacer.py).
PACER_LOCALE = env.str("PACER_LOCALE", default="en_US")

# Called by goals/tasks.py after every recompute (changed goals, and the periodic one) and after closing due goals,
# with keyword arguments goal_ids=[…] and micro_goal_ids=[…] (dotted paths, imported with import_string). This is
# how apps above goals react to new figures without goals importing them (rewards grants and flags awards;
# webhooks announce "goal health changed" and "goal closed").
PACER_AFTER_RECOMPUTE = ["rewards.services.awards_grant", "webhooks.services.goal_events_emit"]
# Called by rewards.services.awards_grant with award_ids=[…] for the awards it just granted, inside its transaction
# (rewards never imports webhooks; webhooks announces "award granted").
PACER_AFTER_AWARDS_GRANTED = ["webhooks.services.awards_granted_emit"]
# Called by feedback when an adjustment request is approved or rejected, with request_id=, inside the decision's
# transaction (webhooks announces "adjustment decided"). All three are run by teams.hooks.hooks_run.
PACER_AFTER_ADJUSTMENT_DECIDED = ["webhooks.adjustments.adjustment_decided_emit"]
# Outgoing webhooks: tries per delivery (receivers choose their own replay window; README suggests 5 minutes).
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=6)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}, "axes": {"level": "WARNING"}},
}
