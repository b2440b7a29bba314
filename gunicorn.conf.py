"""gunicorn settings for ragchat: `gunicorn -c gunicorn.conf.py` serves `ragchat.asgi:application`.

The server is ASGI: gunicorn manages uvicorn workers (the `uvicorn-worker` package; uvicorn's own
`uvicorn.workers` is deprecated), each one event loop. A streamed answer waits on the chat model
without holding a thread or a database connection (conversations/answering.py `astream_answer`),
so one worker holds hundreds of slow streams; the blocking steps (database, embedding model) run in
a bounded pool of threads per worker (BLOCKING_THREADS, ragchat/blocking.py).

Every value can be overridden from the environment (GUNICORN_* below, or gunicorn's own
GUNICORN_CMD_ARGS).
"""

import os

wsgi_app = "ragchat.asgi:application"  # gunicorn's name for the app to serve, ASGI ones included
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = "uvicorn_worker.UvicornWorker"
# One worker per core: each one holds the embedding model (README, "Embedding speed"), and its
# event loop gives the concurrency for waiting on the database and on remote chat models.
workers = int(os.environ.get("WEB_CONCURRENCY", os.cpu_count() or 2))
# The worker's heartbeat comes from its event loop, so the timeout only has to cover a stuck
# worker; per-request limits are CHAT_MODEL_TIMEOUT and the model's token budget.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "60"))
keepalive = 5
# X-Forwarded-For and X-Forwarded-Proto are for ragchat's own TrustedProxyMiddleware to judge
# (TRUSTED_PROXIES); uvicorn must not apply them first, whoever sends them.
forwarded_allow_ips = ""
# Questions travel in POST bodies, so long request lines are never legitimate.
limit_request_line = 8190
# Fresh workers from time to time, in case some library leaks memory slowly.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
# The app is imported in each worker, not in the master: the embedding model and torch's
# thread pools must be created after fork, not shared across it.
preload_app = False
# uvicorn writes the access lines in its own format; the app's own log line for each request
# (ragchat/requestlog.py) carries the request id and the duration. GUNICORN_ACCESS_LOG= (empty): none.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None

# The embedding model's runtime (torch, or ONNX Runtime) starts one thread per core in every worker;
# with several workers they fight for the same cores. Bound them so workers × threads stays near
# the number of cores. TORCH_THREADS is the name this setting had before the ONNX backends.
EMBEDDING_THREADS = int(
    os.environ.get("EMBEDDING_THREADS") or os.environ.get("TORCH_THREADS") or max(1, (os.cpu_count() or 2) // workers)
)


def post_fork(server, worker):
    # Before the app's settings are read and torch is imported in this worker, so both see it
    # (torch's OpenMP pool starts at this size; ONNX Runtime reads EMBEDDING_THREADS).
    os.environ["EMBEDDING_THREADS"] = str(EMBEDDING_THREADS)
    os.environ["OMP_NUM_THREADS"] = str(EMBEDDING_THREADS)
    os.environ["MKL_NUM_THREADS"] = str(EMBEDDING_THREADS)


def post_worker_init(worker):
    """Load the embedding model before the worker takes requests, so the first question is not
    slow and /readyz is true from the start. With an ONNX backend, torch is never imported."""
    from django.conf import settings

    from documents import embeddings

    if settings.EMBEDDING_BACKEND == embeddings.TORCH:
        import torch

        torch.set_num_threads(EMBEDDING_THREADS)
    embeddings.get_encoder()
    # The configured chat model's client library too: importing langchain_openai takes seconds, and
    # on the first question it would take them on the event loop, stalling every stream of the worker.
    from conversations import llm
    from conversations.prompts import ModelChoice

    choice = ModelChoice.from_settings()
    if choice:
        llm.get_chat_model(choice)
    worker.log.info(
        "Worker %s ready: embedding model loaded (%s), %s embedding threads, %s blocking threads",
        worker.pid,
        settings.EMBEDDING_BACKEND,
        EMBEDDING_THREADS,
        settings.BLOCKING_THREADS,
    )
