"""Import throughput against the embedding model's own throughput on the same texts.

What is measured
    1. ``documents_import`` of a corpus (by default the first 120 files of django-docs) into a
       fresh collection, timed end to end: reading, extraction, chunking, embedding and the
       database writes. The texts it hands to the model are recorded as they pass.
    2. The MiniLM encoder alone on exactly those texts, in one ``embed_documents`` call (its best
       case: one process, one call, batches sorted by length across the whole set).
    The ratio of the two rates says how much the import costs beyond the model; the time spent
    inside the model during the import is printed too, so the rest (extraction, chunking,
    database) is visible. The model is loaded and warmed up before anything is timed, and the
    collection is deleted afterwards (``--keep`` keeps it).

Usage:
    cd /work/main && DEBUG=true .venv/bin/python benchmarks/import_throughput.py \\
        [--corpus ../shared/eval/django-docs/corpus] [--limit-files 120] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ragchat.settings")

import django  # noqa: E402

django.setup()

from documents.embeddings import MiniLMEmbeddings  # noqa: E402
from documents.extract import SUPPORTED_SUFFIXES  # noqa: E402
from documents.models import Document  # noqa: E402
from documents.services import documents_import  # noqa: E402

DEFAULT_CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "django-docs" / "corpus"


class RecordingEmbeddings(MiniLMEmbeddings):
    """The app's embeddings, noting what they were given and how long the model took."""

    def __init__(self):
        super().__init__()
        self.texts: list[str] = []
        self.seconds = 0.0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        started = time.perf_counter()
        vectors = super().embed_documents(texts)
        self.seconds += time.perf_counter() - started
        self.texts.extend(texts)
        return vectors


def copy_subset(corpus: Path, limit: int, target: Path) -> int:
    """Copy the first ``limit`` supported files (in name order) under ``target``; return how many."""
    files = sorted(p for p in corpus.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)[:limit]
    for path in files:
        destination = target / path.relative_to(corpus)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)
    return len(files)


def measure(corpus: Path, limit: int, keep: bool) -> dict:
    warm = MiniLMEmbeddings()
    warm.embed_documents(["warm-up " * 50] * 64)  # load the model and touch every code path first
    collection = f"throughput-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as folder:
        files = copy_subset(corpus, limit, Path(folder))
        recording = RecordingEmbeddings()
        started = time.perf_counter()
        report = documents_import(paths=[Path(folder)], collection=collection, embeddings=recording)
        import_seconds = time.perf_counter() - started
    started = time.perf_counter()
    MiniLMEmbeddings().embed_documents(recording.texts)
    encoder_seconds = time.perf_counter() - started
    if not keep:
        Document.objects.filter(collection=collection).delete()
    chunks = report.chunks_written
    return {
        "files": files,
        "chunks": chunks,
        "failed_files": len(report.failed),
        "import_seconds": round(import_seconds, 2),
        "import_chunks_per_s": round(chunks / import_seconds, 2),
        "model_seconds_during_import": round(recording.seconds, 2),
        "other_seconds_during_import": round(import_seconds - recording.seconds, 2),
        "encoder_seconds": round(encoder_seconds, 2),
        "encoder_chunks_per_s": round(len(recording.texts) / encoder_seconds, 2),
        "ratio": round((chunks / import_seconds) / (len(recording.texts) / encoder_seconds), 3),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--limit-files", type=int, default=120, help="files to import (default 120)")
    parser.add_argument("--keep", action="store_true", help="keep the imported collection")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        parser.error(f"no corpus folder at {args.corpus}")
    result = measure(args.corpus, args.limit_files, args.keep)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for key, value in result.items():
        print(f"{key:30} {value}")


if __name__ == "__main__":
    main()
