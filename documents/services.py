"""Importing files into the knowledge base.

Files are read, extracted and chunked one by one, but embedded in batches that span
several files (small files would otherwise leave the model idle between tiny batches).
Each document is then written in its own transaction, so an interrupted import leaves
every document either fully replaced or untouched.
"""

import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection, transaction

from documents.chunking import PlannedChunk, chunk_document
from documents.embeddings import MiniLMEmbeddings
from documents.extract import SUPPORTED_SUFFIXES, ExtractionError, extract
from documents.models import Chunk, Document

logger = logging.getLogger(__name__)

# Chunks collected before one call to the model; larger pools let it sort texts by length.
EMBED_POOL_CHUNKS = 256


@dataclass
class SourceFile:
    path: Path
    source: str


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    chunks_written: int = 0

    @property
    def files_seen(self) -> int:
        return len(self.added) + len(self.replaced) + len(self.unchanged) + len(self.empty) + len(self.failed)


@dataclass
class _Pending:
    file: SourceFile
    content_hash: str
    title: str
    chunks: list[PlannedChunk]
    metadata: dict


def find_source_files(paths: Iterable[Path]) -> Iterator[SourceFile]:
    """Yield the supported files under ``paths``, each with its source name.

    A folder's files are named by their path relative to that folder; a file given directly
    is named by its file name. Hidden files and folders are skipped.
    """
    for root in paths:
        root = Path(root)
        if root.is_file():
            yield SourceFile(path=root, source=root.name)
            continue
        if not root.is_dir():
            raise FileNotFoundError(f"No such file or folder: {root}")
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(root)
            hidden = any(part.startswith(".") for part in relative.parts)
            if path.is_file() and not hidden and path.suffix.lower() in SUPPORTED_SUFFIXES:
                yield SourceFile(path=path, source=relative.as_posix())


def documents_import(
    *,
    paths: Iterable[Path],
    collection: str = "default",
    on_file_done: Callable[[str], None] | None = None,
    embeddings: MiniLMEmbeddings | None = None,
) -> ImportReport:
    """Import every supported file under ``paths`` into ``collection`` and report what happened."""
    embeddings = embeddings or MiniLMEmbeddings()
    report = ImportReport()
    known_hashes = dict(Document.objects.filter(collection=collection).values_list("source", "content_hash"))
    pending: list[_Pending] = []

    def flush() -> None:
        _embed_and_store(pending, collection=collection, embeddings=embeddings, report=report)
        for item in pending:
            if on_file_done:
                on_file_done(item.file.source)
        pending.clear()

    for file in find_source_files(paths):
        prepared = _prepare(file, known_hashes.get(file.source), report)
        if prepared is None:
            if on_file_done:
                on_file_done(file.source)
            continue
        pending.append(prepared)
        if sum(len(item.chunks) for item in pending) >= EMBED_POOL_CHUNKS:
            flush()
    flush()
    return report


def _prepare(file: SourceFile, known_hash: str | None, report: ImportReport) -> _Pending | None:
    """Read, extract and chunk one file; None when there is nothing to embed for it."""
    try:
        data = file.path.read_bytes()
    except OSError as exc:
        report.failed.append((file.source, f"cannot read the file ({exc.strerror or exc})"))
        return None
    content_hash = hashlib.sha256(data).hexdigest()
    if content_hash == known_hash:
        report.unchanged.append(file.source)
        return None
    try:
        extracted = extract(file.path, data)
        chunks = chunk_document(extracted) if not extracted.is_empty else []
    except ExtractionError as exc:
        report.failed.append((file.source, str(exc)))
        return None
    except Exception as exc:  # a parser bug on one odd file must not stop the whole import
        logger.exception("Extraction failed for %s", file.path)
        report.failed.append((file.source, f"could not extract text ({type(exc).__name__}: {exc})"))
        return None
    if not chunks:
        report.empty.append(file.source)
        return None
    metadata = {"size_bytes": len(data), "file_type": file.path.suffix.lower().lstrip(".")}
    return _Pending(file=file, content_hash=content_hash, title=extracted.title[:300], chunks=chunks, metadata=metadata)


def _embed_and_store(
    pending: list[_Pending], *, collection: str, embeddings: MiniLMEmbeddings, report: ImportReport
) -> None:
    if not pending:
        return
    texts = [chunk.embedding_text for item in pending for chunk in item.chunks]
    try:
        vectors = iter(embeddings.embed_documents(texts))
    except Exception as exc:
        logger.exception("Embedding failed for a batch of %d chunks", len(texts))
        report.failed.extend((item.file.source, f"embedding failed ({exc})") for item in pending)
        return
    for item in pending:
        item_vectors = [next(vectors) for _ in item.chunks]
        replaced = _store_document(item, item_vectors, collection=collection)
        (report.replaced if replaced else report.added).append(item.file.source)
        report.chunks_written += len(item.chunks)


def _store_document(item: _Pending, vectors: list[list[float]], *, collection: str) -> bool:
    """Write one document and its chunks atomically; return True if it replaced an older version."""
    with transaction.atomic():
        # Two imports of the same file at once queue here instead of failing on the unique key.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"document:{collection}:{item.file.source}"])
        document, created = Document.objects.update_or_create(
            collection=collection,
            source=item.file.source,
            defaults={"title": item.title, "content_hash": item.content_hash, "metadata": item.metadata},
        )
        if not created:
            document.chunks.all().delete()
        Chunk.objects.bulk_create(
            Chunk(document=document, position=c.position, heading=c.heading, text=c.text, embedding=v)
            for c, v in zip(item.chunks, vectors, strict=True)
        )
    return not created
