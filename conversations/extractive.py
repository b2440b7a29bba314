"""The answer without a language model: the sentences of the best passages that match the question.

It quotes, never paraphrases, and says so: a reader can trust each quote to be in the document
it cites.
"""

import re

import numpy as np

from documents.retrieval import get_embeddings
from documents.search import RetrievedChunk

NO_MODEL_NOTICE = (
    "No language model is configured, so this answer quotes the passages of your documents "
    "that best match the question instead of writing a new text."
)
EXTRACTIVE_PASSAGES = 4
EXTRACTIVE_SENTENCES = 3
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'“(\[]?[A-Z0-9])|\n{2,}")


def split_sentences(text: str) -> list[str]:
    return [" ".join(part.split()) for part in _SENTENCE_END.split(text) if len(part.split()) >= 3]


def extractive_quotes(question: str, passages: list[RetrievedChunk]) -> list[str]:
    """The sentences of the best passages closest in meaning to the question, each with its citation.

    Sentences are ranked by cosine similarity to the question with the same embedding model,
    then given in the order of their passages so the quotes read naturally.
    """
    candidates = [
        (number, index, sentence)
        for number, passage in enumerate(passages[:EXTRACTIVE_PASSAGES], start=1)
        for index, sentence in enumerate(split_sentences(passage.text))
    ]
    if not candidates:
        return []
    embeddings = get_embeddings()
    question_vector = np.array(embeddings.embed_query(question))
    sentence_vectors = np.array(embeddings.embed_documents([sentence for _, _, sentence in candidates]))
    best = np.argsort(-(sentence_vectors @ question_vector))[:EXTRACTIVE_SENTENCES]
    chosen = sorted((candidates[i] for i in best), key=lambda item: (item[0], item[1]))
    return [f"> {sentence} [{number}]" for number, _, sentence in chosen]
