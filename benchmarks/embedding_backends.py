"""Embedding backends side by side: torch fp32, ONNX fp32 and ONNX int8 on one evaluation set.

What is measured, for each backend in one run (``EMBEDDING_BACKEND`` switched in this process):
    1. ``documents_import`` of the set's corpus (default ``../shared/eval/django-docs``) into a
       fresh private collection of its own, timed end to end (reading, chunking, embedding, database
       writes): import chunks/s. The texts handed to the model are recorded, and a sample of them
       spread over the whole import (``--embed-sample``, 1000) embedded again in one call:
       embedding-only chunks/s.
    2. Every question of the set embedded alone, as the chat embeds a question: p50 in ms.
    3. ``evaluate``'s scoring of the set's questions over that collection: recall@5 and MRR@10.
    4. Resident memory (RSS) of a fresh Python process that sets Django up, loads the backend and
       embeds one query, the stand-in for one web worker; with ``--gunicorn``, also of a real
       gunicorn worker (one worker, ``gunicorn.conf.py``) once ``/readyz`` says its model is loaded.
The model is loaded and warmed up before anything is timed; the collections are deleted after
(``--keep`` keeps them). The load average is printed with the table: timings from a busy machine
are not comparable with an idle one's. Without the evaluation folder the script says so and exits 0.

Usage:
    manage.py embeddings_export first (make migrate does), then:
    DEBUG=true .venv/bin/python benchmarks/embedding_backends.py [--set ../shared/eval/django-docs]
        [--backends torch onnx onnx-int8] [--limit-files N] [--gunicorn] [--keep] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ragchat.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from documents.collections import collection_get_or_create  # noqa: E402
from documents.embeddings import BACKENDS, MiniLMEmbeddings, get_encoder  # noqa: E402
from documents.models import Collection, Visibility  # noqa: E402
from documents.services import documents_import  # noqa: E402
from evaluation.report import QUESTIONS  # noqa: E402
from evaluation.scoring import evaluate  # noqa: E402
from evaluation.suite import SuiteError, load_set  # noqa: E402

DEFAULT_SET = ROOT.parent / "shared" / "eval" / "django-docs"

# Run in a fresh interpreter: what one web worker holds once it has the model and has embedded.
WORKER_PROBE = """
import os, sys
sys.path.insert(0, {root!r})
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ragchat.settings")
import django
django.setup()
from documents.retrieval import get_embeddings
get_embeddings().embed_query("How do I import my own documents?")
rss = next(line for line in open("/proc/self/status") if line.startswith("VmRSS")).split()[1]
print(int(rss) // 1024, "torch" in sys.modules)
"""


class RecordingEmbeddings(MiniLMEmbeddings):
    """One backend's embeddings, keeping the texts the import handed to the model."""

    def __init__(self, backend: str):
        super().__init__(backend=backend)
        self.texts: list[str] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.texts.extend(texts)
        return super().embed_documents(texts)


def measure_backend(backend: str, eval_set, *, limit_files: int | None, embed_sample: int, keep: bool) -> dict:
    settings.EMBEDDING_BACKEND = backend  # what retrieval, and so evaluate, embeds questions with
    embeddings = MiniLMEmbeddings(backend=backend)
    embeddings.embed_documents(["warm-up " * 50] * 64)
    collection = f"bench-{backend}-{uuid.uuid4().hex[:6]}"
    collection_get_or_create(name=collection, title=f"Benchmark: {backend}", visibility=Visibility.PRIVATE)
    recording = RecordingEmbeddings(backend)
    started = time.perf_counter()
    report = documents_import(paths=_corpus_paths(eval_set, limit_files), collection=collection, embeddings=recording)
    import_seconds = time.perf_counter() - started
    sample = recording.texts[:: max(1, len(recording.texts) // embed_sample)]
    started = time.perf_counter()
    embeddings.embed_documents(sample)
    embed_seconds = time.perf_counter() - started
    questions = eval_set.questions[QUESTIONS]
    query_ms = [_query_ms(embeddings, question.question) for question in questions]
    metrics, _ = evaluate(questions, collection=collection)
    if not keep:
        Collection.objects.filter(name=collection).delete()
    rss_mb, torch_loaded = worker_rss(backend)
    return {
        "backend": backend,
        "chunks": report.chunks_written,
        "import_chunks_per_s": round(report.chunks_written / import_seconds, 1),
        "embed_chunks_per_s": round(len(sample) / embed_seconds, 1),
        "query_ms_p50": round(statistics.median(query_ms), 1),
        "recall@5": round(metrics["recall@5"], 4),
        "mrr@10": round(metrics["mrr@10"], 4),
        "worker_rss_mb": rss_mb,
        "worker_imports_torch": torch_loaded,
    }


def _corpus_paths(eval_set, limit_files: int | None) -> list[Path]:
    if limit_files is None:
        return [eval_set.corpus]
    files = sorted(path for path in eval_set.corpus.rglob("*") if path.is_file())
    return files[:limit_files]


def _query_ms(embeddings: MiniLMEmbeddings, question: str) -> float:
    started = time.perf_counter()
    embeddings.embed_query(question)
    return (time.perf_counter() - started) * 1000


def worker_rss(backend: str) -> tuple[int, bool]:
    """RSS in MB of a fresh process that loaded ``backend`` and embedded a query, and whether it imported torch."""
    env = {**os.environ, "EMBEDDING_BACKEND": backend}
    output = subprocess.run(
        [sys.executable, "-c", WORKER_PROBE.format(root=str(ROOT))], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    return int(output[0]), output[1] == "True"


def gunicorn_rss(backend: str) -> int:
    """RSS in MB of the one worker of a real gunicorn, once /readyz says it has its model."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "EMBEDDING_BACKEND": backend, "WEB_CONCURRENCY": "1", "GUNICORN_BIND": f"127.0.0.1:{port}"}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [str(gunicorn), "-c", "gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_ready(f"http://127.0.0.1:{port}/readyz")
        worker = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()[0]
        status = Path(f"/proc/{worker}/status").read_text().splitlines()
        return int(next(line for line in status if line.startswith("VmRSS")).split()[1]) // 1024
    finally:
        server.terminate()
        server.wait(timeout=60)


def _wait_ready(url: str, attempts: int = 240) -> None:
    for _ in range(attempts):
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} never answered 200")


def markdown_table(rows: list[dict]) -> str:
    lines = [
        "| backend | chunks | import chunks/s | embedding-only chunks/s | query p50 ms | recall@5 | MRR@10 | "
        "worker RSS MB | worker imports torch |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        rss = f"{row['worker_rss_mb']}" + (f" (gunicorn {row['gunicorn_rss_mb']})" if "gunicorn_rss_mb" in row else "")
        lines.append(
            f"| {row['backend']} | {row['chunks']} | {row['import_chunks_per_s']} | {row['embed_chunks_per_s']} | "
            f"{row['query_ms_p50']} | {row['recall@5']:.3f} | {row['mrr@10']:.3f} | {rss} | "
            f"{'yes' if row['worker_imports_torch'] else 'no'} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--set", type=Path, default=DEFAULT_SET, help="evaluation set folder (corpus/, questions.jsonl)"
    )
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument("--limit-files", type=int, help="import only the first N files (a smoke run)")
    parser.add_argument(
        "--embed-sample", type=int, default=1000, help="texts, spread over the import's, embedded again alone"
    )
    parser.add_argument("--gunicorn", action="store_true", help="also measure a real gunicorn worker's RSS")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark collections")
    parser.add_argument("--json", action="store_true", help="also print the rows as one JSON line")
    args = parser.parse_args()
    if not args.set.is_dir():
        print(f"No evaluation set at {args.set}: nothing to measure.")
        return
    try:
        eval_set = load_set(args.set)
    except SuiteError as exc:
        parser.error(str(exc))
    for backend in args.backends:
        if backend != "torch":
            get_encoder(backend)  # a missing export stops the run before any import, naming the command
    load_before = os.getloadavg()
    rows = []
    for backend in args.backends:
        row = measure_backend(
            backend, eval_set, limit_files=args.limit_files, embed_sample=args.embed_sample, keep=args.keep
        )
        if args.gunicorn:
            row["gunicorn_rss_mb"] = gunicorn_rss(backend)
        rows.append(row)
        print(f"{backend}: done", file=sys.stderr)
    load_after = os.getloadavg()
    print(markdown_table(rows))
    print(f"\nLoad average (1, 5, 15 min) at start {load_before}, at end {load_after}; {os.cpu_count()} cores.")
    if args.json:
        print(json.dumps(rows))


if __name__ == "__main__":
    main()
