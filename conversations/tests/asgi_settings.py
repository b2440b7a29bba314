"""Settings of the uvicorn server the ASGI tests start: the worker tests' settings (the test database,
the test's storage folder), with static files served from the source folders as the in-process
test servers do, since the tests do not run collectstatic."""

from documents.tests.worker_settings import *  # noqa: F403 - those settings, static files changed below
from documents.tests.worker_settings import STORAGES

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
WHITENOISE_USE_FINDERS = True
