"""Where files go: the local folder by default, S3 (or a compatible store) through django-storages.

Each case reads the settings in a fresh interpreter, as a deployment would; nothing here reaches a
bucket (there is none on this network): the storage is configured, not used.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHOW_STORAGE = (
    "import django; django.setup(); from django.core.files.storage import storages; s = storages['default']; "
    "print(type(s).__module__, type(s).__name__, getattr(s, 'location', ''), getattr(s, 'bucket_name', ''), "
    "getattr(s, 'endpoint_url', ''), getattr(s, 'default_acl', ''), getattr(s, 'file_overwrite', ''))"
)


def storage_with(**env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STORAGE_BACKEND", "MEDIA_ROOT"))}
    environment = {**base, "DJANGO_SETTINGS_MODULE": "ragchat.settings", "DEBUG": "true", **env}
    return subprocess.run([sys.executable, "-c", SHOW_STORAGE], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def test_files_go_to_the_local_media_folder_by_default(tmp_path):
    result = storage_with(MEDIA_ROOT=str(tmp_path / "files"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:3] == ["django.core.files.storage.filesystem", "FileSystemStorage",
                                         str(tmp_path / "files")]  # fmt: skip


def test_s3_and_compatible_stores_are_configured_from_the_environment():
    result = storage_with(STORAGE_BACKEND="s3", AWS_STORAGE_BUCKET_NAME="ragchat-files",
                          AWS_S3_ENDPOINT_URL="https://minio.example.org")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["storages.backends.s3", "S3Storage", "ragchat-files",
                                     "https://minio.example.org", "private", "False"]  # fmt: skip


def test_an_unknown_storage_backend_is_refused_with_a_readable_error():
    result = storage_with(STORAGE_BACKEND="ftp")
    assert result.returncode != 0 and "STORAGE_BACKEND must be local or s3, not 'ftp'." in result.stderr
