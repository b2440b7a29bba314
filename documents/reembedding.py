"""Re-embedding a collection: every passage embedded again with the current model, the vectors
that changed stored (a re-embedding job, run by a worker: documents/tasks.py)."""

import logging

import numpy as np
from django.db import transaction
from django.utils import timezone

from documents.chunking import PlannedChunk
from documents.embeddings import MiniLMEmbeddings
from documents.models import Chunk, Document, ImportJob, ImportJobStatus, refresh_document_embeddings

logger = logging.getLogger(__name__)

# Passages embedded per call and written per transaction.
REEMBED_BATCH_CHUNKS = 256
# A re-embedded vector closer than this (per coordinate) to the stored one is left alone: the same
# model gives slightly different floats depending on what else is in its batch.
VECTOR_TOLERANCE = 1e-5


def collection_reembed(*, job: ImportJob, embeddings: MiniLMEmbeddings | None = None) -> ImportJob:
    """Embed every chunk of the re-embedding ``job``'s collection again with the current model and
    store the vectors that changed; record the outcome on ``job``.

    For after the embedding model changed, or to repair vectors. Chunks are taken in batches by
    primary key and each batch is written in its own transaction, so no lock is held for long and
    a failure (or a killed worker) keeps the batches already done; running it again redoes only
    what differs. Chunks an import deletes meanwhile simply match no row. Cancelling the job
    stops it between two batches.
    """
    embeddings = embeddings or MiniLMEmbeddings()
    changed_documents: set[int] = set()
    last_pk, error = 0, ""
    try:
        while not _cancelled(job) and (batch := _chunk_batch(job.collection, after=last_pk)):
            changed = _reembed_batch(batch, embeddings)
            job.chunks_written += len(changed)
            changed_documents.update(chunk.document_id for chunk in changed)
            last_pk = batch[-1].pk
    except Exception as exc:  # recorded on the job; the batches before it are kept
        logger.exception("Re-embedding of collection %s stopped", job.collection)
        error = f"re-embedding stopped ({type(exc).__name__}: {exc})"
    return _reembed_finish(job, changed_documents, last_pk=last_pk, error=error)


def _cancelled(job: ImportJob) -> bool:
    return ImportJob.objects.filter(pk=job.pk, status=ImportJobStatus.CANCELLED).exists()


def _chunk_batch(collection: str, *, after: int) -> list[Chunk]:
    chunks = Chunk.objects.filter(document__collection=collection, pk__gt=after).order_by("pk")
    return list(chunks.only("pk", "document_id", "position", "heading", "text", "embedding")[:REEMBED_BATCH_CHUNKS])


def _reembed_batch(chunks: list[Chunk], embeddings: MiniLMEmbeddings) -> list[Chunk]:
    """Embed ``chunks`` as an import would and save the vectors that differ; return the chunks saved."""
    texts = [PlannedChunk(position=c.position, heading=c.heading, text=c.text).embedding_text for c in chunks]
    changed = []
    for chunk, vector in zip(chunks, embeddings.embed_documents(texts), strict=True):
        if not np.allclose(chunk.embedding, vector, rtol=0, atol=VECTOR_TOLERANCE):
            chunk.embedding = vector
            changed.append(chunk)
    if changed:
        with transaction.atomic():
            Chunk.objects.bulk_update(changed, ["embedding"])
            refresh_document_embeddings(sorted({chunk.document_id for chunk in changed}))
    return changed


def _reembed_finish(job: ImportJob, changed: set[int], *, last_pk: int, error: str) -> ImportJob:
    """Count documents: ``replaced`` got new vectors, ``failed`` still had chunks to do when it stopped."""
    documents = Document.objects.filter(collection=job.collection)
    unfinished = set()
    if error:
        remaining = Chunk.objects.filter(document__collection=job.collection, pk__gt=last_pk)
        unfinished = set(remaining.values_list("document_id", flat=True).distinct())
        job.errors = [[job.collection, error]]
    job.replaced, job.failed = len(changed - unfinished), len(unfinished)
    job.unchanged = documents.exclude(pk__in=changed | unfinished).count()
    fields = ["replaced", "unchanged", "failed", "chunks_written", "errors"]
    with transaction.atomic():
        # A cancel that came meanwhile stays the job's status; the counts say how far it got.
        if ImportJob.objects.select_for_update().get(pk=job.pk).status != ImportJobStatus.CANCELLED:
            job.status = ImportJobStatus.SUCCEEDED if not error else _status_after_error(last_pk)
            job.finished_at = timezone.now()
            fields += ["status", "finished_at"]
        job.save(update_fields=fields)
    return job


def _status_after_error(last_pk: int) -> str:
    return ImportJobStatus.PARTLY_FAILED if last_pk else ImportJobStatus.FAILED
