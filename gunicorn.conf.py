"""gunicorn settings for ragchat: `gunicorn -c gunicorn.conf.py ragchat.wsgi`.

Answers stream for as long as the chat model writes, so workers are threaded (gthread): a
thread waits on the model while the worker's other threads and its heartbeat carry on. Plain
sync workers would be killed by `timeout` in the middle of a slow answer.

Every value can be overridden from the environment (GUNICORN_* below, or gunicorn's own
GUNICORN_CMD_ARGS).
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = "gthread"
# One worker per core is enough: each one holds the embedding model (README, "Embedding speed"), and threads
# give the concurrency for waiting on the database and on remote chat models.
workers = int(os.environ.get("WEB_CONCURRENCY", os.cpu_count() or 2))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
# With gthread the timeout is the worker's heartbeat, not a per-request limit, so it only has to
# cover a stuck worker; per-request limits are CHAT_MODEL_TIMEOUT and the model's token budget.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "60"))
keepalive = 5
# Questions travel in POST bodies, so long request lines are never legitimate.
limit_request_line = 8190
# Fresh workers from time to time, in case some library leaks memory slowly.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
# The app is imported in each worker, not in the master: the embedding model and torch's
# thread pools must be created after fork, not shared across it.
preload_app = False
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
# The request id links access lines with the app's own log lines and with stored messages.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s'

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
    worker.log.info(
        "Worker %s ready: embedding model loaded (%s), %s threads",
        worker.pid,
        settings.EMBEDDING_BACKEND,
        EMBEDDING_THREADS,
    )
