"""The knowledge base's read API: the passages that best answer a question.

Every caller that searches documents (the chat, the ``ask`` and ``evaluate`` commands, and
later the HTTP API) comes through ``retrieve``, so they all rank passages the same way.
"""

import functools

from django.conf import settings

from documents.embeddings import MiniLMEmbeddings
from documents.search import Reader, RetrievedChunk, SearchParams, search_chunks


@functools.cache
def get_embeddings() -> MiniLMEmbeddings:
    """The embedding model's LangChain wrapper, one per process."""
    return MiniLMEmbeddings()


def retrieve(
    question: str, *, reader: Reader, collections: list[str] | None = None, top_k: int | None = None
) -> list[RetrievedChunk]:
    """The chunks that best answer ``question`` among those ``reader`` may read, best first.

    ``collections`` narrows the search to those collections; None searches all the reader may read.
    """
    vector = get_embeddings().embed_query(question)
    params = SearchParams.from_settings(top_k=top_k)
    return search_chunks(
        query_vector=vector, query_text=question, params=params, reader=reader, collections=collections
    )


def relevant(passages: list[RetrievedChunk]) -> list[RetrievedChunk]:
    """Drop passages too far from the question to be worth citing (``ANSWER_MIN_SIMILARITY``)."""
    return [passage for passage in passages if passage.similarity >= settings.ANSWER_MIN_SIMILARITY]
