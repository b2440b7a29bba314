"""Importing files into the knowledge base.

Files are read, extracted and chunked one by one, but embedded in batches that span
several files (small files would otherwise leave the model idle between tiny batches).
Each document is then written in its own transaction, so an interrupted import leaves
every document either fully replaced or untouched.
"""

import hashlib
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.template.defaultfilters import filesizeformat

from documents.chunking import PlannedChunk, chunk_document
from documents.collections import collection_get_or_create
from documents.embeddings import MiniLMEmbeddings
from documents.extract import SUPPORTED_SUFFIXES, ExtractionError, extract
from documents.models import (
    Chunk,
    Document,
    ImportFile,
    ImportFileStatus,
    refresh_document_embeddings,
)
from documents.originals import original_at, original_kept, original_release

logger = logging.getLogger(__name__)

# Chunks collected before one call to the model; larger pools let it sort texts by length.
EMBED_POOL_CHUNKS = 256
# A document's path must fit its column.
MAX_PATH_CHARS = Document._meta.get_field("path").max_length


@dataclass
class SourceFile:
    location: Path  # where the file is on disk
    path: str  # the document's path: relative to the folder imported, or the file's name
    uploaded_by: object = None  # the user who uploaded it (its original counts against their quota)


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
    data: bytes  # the file's bytes, kept as the document's original


def find_source_files(paths: Iterable[Path]) -> Iterator[SourceFile]:
    """Yield the supported files under ``paths``, each with its document path.

    A folder's files are named by their path relative to that folder; a file given directly
    is named by its file name. Hidden files and folders are skipped.
    """
    for root in paths:
        root = Path(root)
        if root.is_file():
            yield SourceFile(location=root, path=root.name)
            continue
        if not root.is_dir():
            raise FileNotFoundError(f"No such file or folder: {root}")
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(root)
            hidden = any(part.startswith(".") for part in relative.parts)
            if path.is_file() and not hidden and path.suffix.lower() in SUPPORTED_SUFFIXES:
                yield SourceFile(location=path, path=relative.as_posix())


def documents_import(
    *,
    paths: Iterable[Path],
    collection: str = "default",
    on_file_done: Callable[[str], None] | None = None,
    embeddings: MiniLMEmbeddings | None = None,
) -> ImportReport:
    """Import every supported file under ``paths`` into ``collection`` and report what happened.

    A collection that does not exist yet is made organisation-wide and owned by nobody; make it
    first (``collections.collection_get_or_create``) to give it an owner or keep it private.
    """
    collection_get_or_create(name=collection)
    embeddings = embeddings or MiniLMEmbeddings()
    report = ImportReport()
    known_hashes = dict(Document.objects.filter(collection=collection).values_list("path", "content_hash"))
    pending: list[_Pending] = []

    def flush() -> None:
        _embed_and_store(pending, collection=collection, embeddings=embeddings, report=report)
        for item in pending:
            if on_file_done:
                on_file_done(item.file.path)
        pending.clear()

    for file in find_source_files(paths):
        prepared = _prepare(file, known_hashes.get(file.path), report)
        if prepared is None:
            if on_file_done:
                on_file_done(file.path)
            continue
        pending.append(prepared)
        if sum(len(item.chunks) for item in pending) >= EMBED_POOL_CHUNKS:
            flush()
    flush()
    return report


class _FileTooLarge(Exception):
    """The file has more bytes than an import reads; ``size`` is how many."""

    def __init__(self, size: int):
        super().__init__(size)
        self.size = size


def _prepare(file: SourceFile, known_hash: str | None, report: ImportReport) -> _Pending | None:
    """Read, extract and chunk one file; None when there is nothing to embed for it."""
    problem = _path_problem(file.path)
    if problem:
        report.failed.append((_printable_path(file.path), problem))
        return None
    limit = settings.MAX_IMPORT_FILE_BYTES
    try:
        data = _read_at_most(file.location, limit)
    except _FileTooLarge as exc:
        sizes = f"{filesizeformat(limit)} import limit ({filesizeformat(exc.size)})"
        report.failed.append((file.path, f"larger than the {sizes}; see MAX_IMPORT_FILE_BYTES"))
        return None
    except OSError as exc:
        report.failed.append((file.path, f"cannot read the file ({exc.strerror or exc})"))
        return None
    return _prepare_bytes(file, data, known_hash, report)


def _prepare_bytes(file: SourceFile, data: bytes, known_hash: str | None, report: ImportReport) -> _Pending | None:
    """Extract and chunk the bytes read for ``file``; None when there is nothing to embed for it."""
    content_hash = hashlib.sha256(data).hexdigest()
    if content_hash == known_hash:
        report.unchanged.append(file.path)
        return None
    try:
        extracted = extract(file.location, data)
        chunks = chunk_document(extracted) if not extracted.is_empty else []
    except ExtractionError as exc:
        report.failed.append((file.path, str(exc)))
        return None
    except Exception as exc:  # a parser bug on one odd file must not stop the whole import
        logger.exception("Extraction failed for %s", file.location)
        report.failed.append((file.path, f"could not extract text ({type(exc).__name__}: {exc})"))
        return None
    if not chunks:
        report.empty.append(file.path)
        return None
    metadata = {"size_bytes": len(data), "file_type": file.location.suffix.lower().lstrip(".")}
    title = extracted.title[:300]
    return _Pending(file=file, content_hash=content_hash, title=title, chunks=chunks, metadata=metadata, data=data)


def _path_problem(path: str) -> str:
    """Why ``path`` cannot name a stored document, or "" if it can."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:  # Python hands over the bytes of an undecodable file name as lone surrogates
        return "the file name is not valid UTF-8; rename the file"
    if len(path) > MAX_PATH_CHARS:
        return f"the path is longer than the {MAX_PATH_CHARS} characters a document path can have"
    return ""


def _printable_path(path: str) -> str:
    """``path`` with the bytes that are not UTF-8 written as \\xNN, so it can be printed and stored."""
    return os.fsencode(path).decode("utf-8", errors="backslashreplace")


def _read_at_most(path: Path, limit: int) -> bytes:
    """The file's bytes, refused with _FileTooLarge before more than ``limit`` of them are read."""
    with path.open("rb") as stream:
        size = os.fstat(stream.fileno()).st_size
        if size > limit:
            raise _FileTooLarge(size)
        # A file still being written may have grown since: never read past the limit.
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise _FileTooLarge(len(data))
    return data


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
        report.failed.extend((item.file.path, f"embedding failed ({exc})") for item in pending)
        return
    for item in pending:
        item_vectors = [next(vectors) for _ in item.chunks]
        replaced = _store_document(item, item_vectors, collection=collection)
        (report.replaced if replaced else report.added).append(item.file.path)
        report.chunks_written += len(item.chunks)


def _store_document(item: _Pending, vectors: list[list[float]], *, collection: str) -> bool:
    """Write one document, its chunks and its original (originals.py) atomically; True if it replaced one."""
    original = original_kept(data=item.data, content_hash=item.content_hash, path=item.file.path)
    with original as name, transaction.atomic():
        # Two imports of the same file at once queue here instead of failing on the unique key.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"document:{collection}:{item.file.path}"])
        previous_original = original_at(collection=collection, path=item.file.path)
        row = {"title": item.title, "content_hash": item.content_hash, "metadata": item.metadata, "original": name,
               "original_size": len(item.data), "uploaded_by": item.file.uploaded_by}  # fmt: skip
        document, created = Document.objects.update_or_create(collection_id=collection, path=item.file.path,
                                                              defaults=row)  # fmt: skip
        if not created:
            document.chunks.all().delete()
            if previous_original != name:
                original_release(previous_original)
        Chunk.objects.bulk_create(
            Chunk(
                document=document,
                collection_id=document.collection_id,
                position=c.position,
                heading=c.heading,
                text=c.text,
                page=c.page,
                embedding=v,
            )
            for c, v in zip(item.chunks, vectors, strict=True)
        )
        refresh_document_embeddings([document.pk])
    return not created


def stored_files_import(*, files: list[ImportFile], embeddings: MiniLMEmbeddings) -> None:
    """Import files of one queued job from the default storage, as ``documents_import`` would import
    them from disk, and record on each file what became of it (status, document, passages, reason).

    Their passages are embedded together, as documents_import pools small files, so that short
    files do not leave the model idle between tiny batches. The caller holds the files' row locks in
    a transaction and saves them in it: documents and statuses are committed together, or none is.
    """
    report = ImportReport()
    collection = files[0].job.collection
    paths = [file.path for file in files]
    known = dict(Document.objects.filter(collection=collection, path__in=paths).values_list("path", "content_hash"))
    sender = files[0].job.started_by  # an upload's sender (its originals count against their quota); None: a command
    pending = []
    for file in files:
        source = SourceFile(location=Path(file.path), path=file.path, uploaded_by=sender)
        if (item := _prepare_stored(file, source, known.get(file.path), report)) is not None:
            pending.append(item)
    _embed_and_store(pending, collection=collection, embeddings=embeddings, report=report)
    passages = {item.file.path: len(item.chunks) for item in pending}
    documents = {d.path: d for d in Document.objects.filter(collection=collection, path__in=paths)}
    for file in files:
        file.status, file.reason = _file_outcome(report, file.path)
        stored = file.status in (ImportFileStatus.ADDED, ImportFileStatus.REPLACED)
        file.passages = passages[file.path] if stored else 0
        file.document = documents.get(file.path)


def _prepare_stored(file: ImportFile, source: SourceFile, known_hash: str | None, report: ImportReport):
    problem = _path_problem(file.path)
    if problem:
        report.failed.append((file.path, problem))
        return None
    limit = settings.MAX_IMPORT_FILE_BYTES
    try:
        with default_storage.open(file.upload, "rb") as stream:
            data = stream.read(limit + 1)
    except OSError as exc:
        report.failed.append((file.path, f"cannot read the stored upload ({exc.strerror or exc})"))
        return None
    if len(data) > limit:
        report.failed.append((file.path, f"larger than the {filesizeformat(limit)} import limit"))
        return None
    return _prepare_bytes(source, data, known_hash, report)


def _file_outcome(report: ImportReport, path: str) -> tuple[str, str]:
    """The ImportFile status and failure reason of ``path`` in ``report``."""
    reasons = dict(report.failed)
    if path in reasons:
        return ImportFileStatus.FAILED, reasons[path]
    for status, done in [
        (ImportFileStatus.ADDED, report.added),
        (ImportFileStatus.REPLACED, report.replaced),
        (ImportFileStatus.UNCHANGED, report.unchanged),
    ]:
        if path in done:
            return status, ""
    return ImportFileStatus.EMPTY, ""
