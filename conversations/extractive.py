"""The answer without a language model: the sentences of the best passages that match the question.

It quotes, never paraphrases, and says so: a reader can trust each quote to be in the document
it cites.

Sentences are chosen by the words they share with the question, rarer words counting more, and
by how well retrieval ranked their passage. Nothing is embedded here: retrieval has already
weighed each passage's meaning, and within a passage the words that answer a question are mostly
the question's own (``benchmarks/extractive_quality.py`` measures this against embedding every
sentence, which cost about a CPU-second per answer).
"""

import math
import re
from collections import Counter

from documents.search import RetrievedChunk

NO_MODEL_NOTICE = (
    "No language model is configured, so this answer quotes the passages of your documents "
    "that best match the question instead of writing a new text."
)
EXTRACTIVE_PASSAGES = 4
EXTRACTIVE_SENTENCES = 3
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'“(\[]?[A-Z0-9])|\n{2,}")
_WORD = re.compile(r"[^\W_]+")
# Words that say nothing about what a question is about; without them "How do I ...?" would match
# every sentence with "do" or "I" in it.
_STOPWORD_LIST = """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had
    has have having he her here hers him his how i if in into is it its itself just me more most my
    no nor not of off on once only or other our ours out over own same she should so some such than
    that the their theirs them then there these they this those through to too under until up very
    was we were what when where which while who whom why will with would you your yours"""
_STOPWORDS = frozenset(_STOPWORD_LIST.split())


def split_sentences(text: str) -> list[str]:
    return [" ".join(part.split()) for part in _SENTENCE_END.split(text) if len(part.split()) >= 3]


def terms(text: str) -> set[str]:
    """The words of ``text`` that can tell sentences apart: lowercased, stop words out, plurals folded."""
    return {_folded(word) for word in _WORD.findall(text.lower()) if word not in _STOPWORDS and len(word) > 1}


def _folded(word: str) -> str:
    # A light stemmer, plural first, then the verb's ending: "settings" and "setting" meet as "sett",
    # "prune", "pruned" and "pruning" as "prun", "queries" and "query" as "query". It conflates a
    # few words it should not, which costs less than missing the plural of a question's word.
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    return _without(_without(word, ("es", "s")), ("ing", "ed", "e"))


def _without(word: str, suffixes: tuple[str, ...]) -> str:
    for suffix in suffixes:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            return word[: -len(suffix)]
    return word


def extractive_quotes(question: str, passages: list[RetrievedChunk]) -> list[str]:
    """The sentences of the best passages that best match the question, each with its citation.

    Each sentence scores the rarity-weighted share of the question's words it contains, plus its
    passage's similarity to the question; the best are given in the order of their passages so
    the quotes read naturally.
    """
    candidates = [
        (number, index, sentence, terms(sentence), passage.similarity)
        for number, passage in enumerate(passages[:EXTRACTIVE_PASSAGES], start=1)
        for index, sentence in enumerate(split_sentences(passage.text))
    ]
    if not candidates:
        return []
    wanted = terms(question)
    # How many candidate sentences hold each word: a word in every sentence tells none apart.
    spread = Counter(term for *_, words, _ in candidates for term in words & wanted)
    weight = {term: math.log(1 + len(candidates) / count) for term, count in spread.items()}
    total = sum(weight.values()) or 1.0

    def score(candidate) -> float:
        *_, words, similarity = candidate
        return sum(weight.get(term, 0.0) for term in words) / total + similarity

    best = sorted(candidates, key=score, reverse=True)[:EXTRACTIVE_SENTENCES]
    chosen = sorted(best, key=lambda item: (item[0], item[1]))
    return [f"> {sentence} [{number}]" for number, _, sentence, *_ in chosen]
