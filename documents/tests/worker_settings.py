"""Settings of the worker processes the tests start: ragchat's own, pointed at the test database
and at the test's storage folder (both made by the test process, which passes their names)."""

import os

from ragchat.settings import *  # noqa: F403 - the project's settings, two of them changed below
from ragchat.settings import DATABASES, STORAGES

DATABASES["default"]["NAME"] = os.environ["TEST_WORKER_DATABASE"]
STORAGES = {
    **STORAGES,
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": os.environ["TEST_WORKER_MEDIA_ROOT"]},
    },
}
