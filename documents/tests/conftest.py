"""Fixtures of the knowledge pages: one private collection and a member of every role.

Documents are written as rows (with a constant vector): the pages read them, nothing searches them.
"""

import pytest
from django.contrib.auth import get_user_model

from conftest import make_user
from documents import tasks
from documents.collections import collection_share
from documents.models import (
    EMBEDDING_DIMENSIONS,
    Chunk,
    Collection,
    Document,
    ImportJob,
    ImportJobKind,
    Role,
    Visibility,
)
from documents.tests.workers import Worker

VECTOR = [1.0] + [0.0] * (EMBEDDING_DIMENSIONS - 1)


def make_document(collection: Collection, path: str, chunks: list[tuple[str, str]], title: str = "") -> Document:
    """A document of ``collection`` whose chunks are the (heading, text) pairs, in order."""
    document = Document.objects.create(collection=collection, path=path, title=title or path, content_hash="0" * 64,
                                       metadata={"size_bytes": 2048, "file_type": path.rsplit(".", 1)[-1]})  # fmt: skip
    Chunk.objects.bulk_create(
        Chunk(document=document, collection=collection, position=i, heading=heading, text=text, embedding=VECTOR)
        for i, (heading, text) in enumerate(chunks)
    )
    return document


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """These tests make four or five users each; the production hasher made them most of the time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def garden(bob) -> Collection:
    """Bob's private collection, shared with a reader, an editor and a manager."""
    collection = Collection.objects.create(
        name="garden", title="Garden notes", description="What grows where.", owner=bob, visibility=Visibility.PRIVATE
    )
    for username, role in [("rita", Role.READER), ("ed", Role.EDITOR), ("mona", Role.MANAGER)]:
        collection_share(collection=collection, user=make_user(username), role=role)
    return collection


@pytest.fixture
def roses(garden) -> Document:
    return make_document(
        garden,
        "roses.md",
        [("Garden › Roses", "Prune roses in late winter."), ("Garden › Roses", "Remove dead wood first.")],
        title="Roses",
    )


@pytest.fixture
def as_user(client):
    """A client signed in as the user of that name (the fixtures' users: bob, rita, ed, mona, alice)."""

    def sign_in(username: str):
        client.force_login(get_user_model().objects.get(username=username))
        return client

    return sign_in


def run_jobs() -> None:
    """Run every unfinished job here, in this process, with the worker's own task functions.

    For tests of what a job does; test_worker.py runs real worker processes."""
    for job in ImportJob.objects.unfinished().order_by("pk"):
        if job.kind == ImportJobKind.REEMBED:
            tasks.reembed_job_run(job.pk)
        else:
            tasks.import_job_files(job.pk)


@pytest.fixture
def start_worker(transactional_db, tmp_path):
    """Start a real worker process (workers.Worker) by name; every one is stopped after the test."""
    started: list[Worker] = []

    def start(name: str, **env: str) -> Worker:
        worker = Worker(name, tmp_path, **env)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
