"""A question asked by another program (an OpenAI client, an MCP agent), and a search made by one.

The caller is a user (their API token says who). A question is checked as the chat page checks
it (``QuestionForm``'s limits, the same rate limit, counted together with the pages), stored as
a new conversation of its caller, so moderation and insight see it, and answered by the one
answering pipeline. What the caller may search is what the user may read.
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser

from conversations import services
from conversations.forms import QuestionForm
from conversations.models import ChatType, Message
from documents.models import Collection
from documents.retrieval import retrieve
from documents.search import Reader, RetrievedChunk
from ragchat.ratelimit import RateLimit

# Passages a search may ask for: enough to read around a topic, and well within the candidates each
# side of the hybrid search takes (RETRIEVAL_CANDIDATES, 40 by default).
MAX_SEARCH_PASSAGES = 20


class Refused(Exception):
    """A call refused before anything is stored, with a sentence the caller can act on.

    ``kind`` is "invalid" (bad input), "not_found" (a collection that does not exist or that the
    caller may not read: the two are not told apart) or "rate_limited" (with ``retry_after``).
    """

    def __init__(self, reason: str, *, kind: str, param: str | None = None, retry_after: int = 0):
        super().__init__(reason)
        self.reason, self.kind, self.param, self.retry_after = reason, kind, param, retry_after


def readable_collections(user: AbstractBaseUser) -> list[Collection]:
    return list(Collection.objects.readable_by(user).order_by("name"))


def readable_collection(user: AbstractBaseUser, name: str, *, param: str = "collection") -> Collection:
    """The collection named ``name`` if ``user`` may read it; Refused (not_found) otherwise."""
    collection = Collection.objects.readable_by(user).filter(name=name).first()
    if collection is None:
        raise Refused(f"There is no collection named {name!r} that you can read.", kind="not_found", param=param)
    return collection


def checked_question(question: str, *, param: str = "question") -> str:
    """The question as the chat page's form accepts it (stripped); Refused with the form's reason otherwise."""
    form = QuestionForm({"question": question, "chat_type": ChatType.ANSWER})
    if not form.is_valid():
        raise Refused(" ".join(form.errors["question"]), kind="invalid", param=param)
    return form.cleaned_data["question"]


def count_question(user: AbstractBaseUser) -> None:
    """Count one question against the user's limit, the one the chat pages use; Refused once it is spent."""
    limit = RateLimit("ask", settings.ASK_RATE_LIMIT, settings.ASK_RATE_WINDOW_SECONDS)
    decision = limit.consume(str(user.pk))
    if not decision.allowed:
        reason = (
            f"You have asked {limit.limit} questions in {limit.window} seconds, the most this site allows. "
            f"Please wait {decision.retry_after} seconds and ask again."
        )
        raise Refused(reason, kind="rate_limited", retry_after=decision.retry_after)


def call_submit(*, user: AbstractBaseUser, question: str, collection: Collection | None, request_id: str) -> Message:
    """Store a checked question as a new conversation of ``user`` searching ``collection`` (None: all
    they may read); the conversation is titled from the question."""
    message, _ = services.question_submit(
        owner=user,
        conversation=None,
        question=question,
        chat_type=ChatType.ANSWER,
        submission_id=None,
        request_id=request_id,
        collections=[collection] if collection else (),
    )
    return message


def sources(message: Message) -> list[dict]:
    """The passages the answer cites as [n], as callers receive them."""
    return [dict(n=passage.n, **passage_fields(passage)) for passage in message.passages()]


def passage_fields(passage: RetrievedChunk) -> dict:
    return {
        "path": passage.path,
        "page": passage.page,
        "label": passage.label,
        "title": passage.title,
        "collection": passage.collection,
        "score": passage.score,
        "similarity": passage.similarity,
        "text": passage.text,
    }


@dataclass(frozen=True)
class Search:
    query: str
    collections: list[str] | None  # None: every collection the user may read
    k: int


def checked_search(user: AbstractBaseUser, *, query: str, collections: list[str] | None, k: int) -> Search:
    """A search as the caller asked it, once every part is allowed; Refused with the reason otherwise."""
    if not 1 <= k <= MAX_SEARCH_PASSAGES:
        reason = f"k is the number of passages wanted, from 1 to {MAX_SEARCH_PASSAGES}."
        raise Refused(reason, kind="invalid", param="k")
    names = [readable_collection(user, name, param="collections").name for name in collections or ()]
    return Search(checked_question(query, param="query"), names or None, k)


def search_passages(user: AbstractBaseUser, search: Search) -> list[dict]:
    """The passages that best match the query among those ``user`` may read, best first."""
    found = retrieve(search.query, reader=Reader.for_user(user), collections=search.collections, top_k=search.k)
    return [passage_fields(passage) for passage in found]
