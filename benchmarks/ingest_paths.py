"""The same corpus imported two ways, in one run: uploaded through the knowledge page and imported by a
worker, and imported by ``import_documents`` on the command line.

What is measured
    1. ``manage.py import_documents CORPUS --collection <fresh>`` in a process of its own, timed from
       start to exit (the model's loading included).
    2. The corpus zipped as one folder and posted to the collection page's upload view by a signed-in
       editor (Django's test client: the middleware, the size guard, the form, the zip checks and the
       storage, as a browser's post goes): the time until the page answers. Then a worker started with
       ``manage.py procrastinate worker --one-shot``, timed from start to exit (the model's loading
       included); it exits once the queue is empty, so its time is the job's.
    Both print files imported, passages written and passages per second; each collection is checked
    to hold the same passages. The collections, the bench user and the stored files are deleted after.
    Run it on an otherwise idle machine: the load average is printed beside the numbers.

Usage:
    DEBUG=true .venv/bin/python benchmarks/ingest_paths.py [--corpus ../shared/eval/django-docs/corpus]
        [--limit-files N] [--json]
    EMBEDDING_BACKEND chooses the model's backend for both paths, as it does for the app.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ragchat.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from documents.collections import collection_delete, collection_get_or_create  # noqa: E402
from documents.extract import SUPPORTED_SUFFIXES  # noqa: E402
from documents.models import Chunk, ImportJob, Visibility  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "eval" / "django-docs" / "corpus"


def corpus_files(corpus: Path, limit: int | None) -> list[Path]:
    files = sorted(p for p in corpus.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)
    return files[:limit] if limit else files


def zipped(corpus: Path, files: list[Path]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, path.relative_to(corpus).as_posix())
    return buffer.getvalue()


def manage(*args: str) -> float:
    """Run a management command in a process of its own; seconds from start to exit."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def command_path(folder: Path, collection: str) -> dict:
    seconds = manage("import_documents", str(folder), "--collection", collection, "--verbosity", "0")
    return {"path": "import_documents", "seconds": seconds, "answer_ms": None}


def upload_path(archive: bytes, collection: str, user) -> dict:
    # The test client's own host name is not among ALLOWED_HOSTS; speak as the first allowed one.
    host = next((h.lstrip(".") for h in settings.ALLOWED_HOSTS if h != "*"), "localhost")
    client = Client(HTTP_HOST=host)
    client.force_login(user)
    upload = SimpleUploadedFile("corpus.zip", archive, content_type="application/zip")
    started = time.perf_counter()
    response = client.post(reverse("documents:upload", args=[collection]), {"files": [upload]})
    answer_ms = (time.perf_counter() - started) * 1000
    if response.status_code != 302 or not ImportJob.objects.filter(collection=collection).exists():
        raise SystemExit(f"The upload was not queued (HTTP {response.status_code}).")
    seconds = manage("procrastinate", "worker", "--one-shot")
    job = ImportJob.objects.filter(collection=collection).latest("pk")
    return {"path": "web upload + worker", "seconds": seconds, "answer_ms": answer_ms, "job_status": job.status}


def measure(corpus: Path, limit: int | None) -> dict:
    files = corpus_files(corpus, limit)
    folder = corpus if not limit else _subset(corpus, files)
    tag = uuid.uuid4().hex[:8]
    user = get_user_model().objects.create_user(f"bench-{tag}", password=None)
    names = {"command": f"bench-cli-{tag}", "upload": f"bench-upload-{tag}"}
    try:
        for name in names.values():
            collection_get_or_create(name=name, owner=user, visibility=Visibility.PRIVATE)
        rows = [command_path(folder, names["command"]), upload_path(zipped(corpus, files), names["upload"], user)]
        for row, name in zip(rows, names.values(), strict=True):
            row["documents"] = Chunk.objects.filter(collection=name).values("document").distinct().count()
            row["passages"] = Chunk.objects.filter(collection=name).count()
            row["passages_per_s"] = row["passages"] / row["seconds"]
    finally:
        for name in names.values():
            collection = user.owned_collections.filter(name=name).first()
            if collection:
                collection_delete(collection=collection)
        ImportJob.objects.filter(collection__in=names.values()).delete()
        user.delete()
    return {"files": len(files), "backend": settings.EMBEDDING_BACKEND, "load": os.getloadavg(), "rows": rows}


def _subset(corpus: Path, files: list[Path]) -> Path:
    """A folder holding only ``files`` (links), so the command imports what the upload sends."""
    folder = Path(tempfile.mkdtemp(prefix="ragchat-ingest-"))
    for path in files:
        target = folder / path.relative_to(corpus)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(path)
    return folder


def print_table(result: dict) -> None:
    load = ", ".join(f"{value:.2f}" for value in result["load"])
    print(f"{result['files']} files, EMBEDDING_BACKEND={result['backend']}, load average {load}\n")
    print("| path | page answered (ms) | documents | passages | seconds (model load included) | passages/s |")
    print("|---|---|---|---|---|---|")
    for row in result["rows"]:
        answered = f"{row['answer_ms']:.0f}" if row["answer_ms"] is not None else "—"
        print(
            f"| {row['path']} | {answered} | {row['documents']} | {row['passages']} | "
            f"{row['seconds']:.1f} | {row['passages_per_s']:.1f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="folder of documents to import")
    parser.add_argument("--limit-files", type=int, default=None, help="only the first N files (sorted by path)")
    parser.add_argument("--json", action="store_true", help="also print the result as JSON")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"No corpus at {args.corpus}: nothing to measure (give --corpus).")
        return
    result = measure(args.corpus, args.limit_files)
    print_table(result)
    if args.json:
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
