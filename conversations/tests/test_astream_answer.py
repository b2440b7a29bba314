"""The async answer stream (answering.astream_answer): the same pieces as the sync stream, and the
same outcome recorded however it ends (finished, the model failed, the reader stopped it, the
request's task was cancelled because the client went away).

Its blocking steps run in pool threads with their own database connections, so these tests commit
(transaction=True) for those threads to see the question.
"""

import asyncio

import pytest

from conversations import answering, services
from conversations.models import ChatType, Message, MessageStatus

pytestmark = pytest.mark.django_db(transaction=True)


def ask(owner, question: str) -> Message:
    conversation = services.conversation_create(owner=owner, chat_type=ChatType.ANSWER)
    return services.message_create(conversation=conversation, question=question, chat_type=ChatType.ANSWER)


async def read_all(message: Message) -> list[str]:
    return [piece async for piece in answering.astream_answer(message=message)]


def test_the_async_stream_gives_the_same_answer_as_the_sync_stream(alice, knowledge_base):
    sync_message = ask(alice, "How often should the bike chain be oiled?")
    sync_pieces = list(answering.stream_answer(message=sync_message))
    message = ask(alice, "How often should the bike chain be oiled?")

    pieces = asyncio.run(read_all(message))

    assert pieces == sync_pieces and len(pieces) > 1  # the notice, then each quote
    message.refresh_from_db()
    assert message.status == MessageStatus.ANSWERED and message.answer == "".join(pieces)
    assert message.context_used[0]["path"] == "bikes.html"
    assert message.sources.count() == len(message.context_used)


def test_the_model_streams_its_reply_and_its_usage_is_stored(alice, knowledge_base, openai_stub):
    message = ask(alice, "When to prune roses?")

    pieces = asyncio.run(read_all(message))

    # The first word at once; the rest, sent by the stub within milliseconds, joined (llm.Pacer).
    assert pieces[0] == "Roses " and "".join(pieces) == openai_stub.reply
    message.refresh_from_db()
    assert message.status == MessageStatus.ANSWERED and message.answer == openai_stub.reply
    assert (message.prompt_tokens, message.completion_tokens) == (123, 9)


def test_a_model_stream_that_breaks_keeps_what_arrived_and_fails(alice, knowledge_base, openai_stub):
    openai_stub.reply = "Prune roses in late winter above an outward bud [1]."
    openai_stub.drop_after = 3
    message = ask(alice, "When to prune roses?")

    asyncio.run(read_all(message))

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.answer == "Prune roses in "
    assert message.error == "The language model service could not be reached. Please try again later."


def test_a_reader_that_stops_keeps_the_partial_answer(alice, knowledge_base, openai_stub):
    openai_stub.reply = "one two three four five six seven eight"
    message = ask(alice, "When to prune roses?")

    async def read_one_piece_then_stop() -> str:
        stream = answering.astream_answer(message=message)
        first = await anext(stream)
        await stream.aclose()
        return first

    assert asyncio.run(read_one_piece_then_stop()) == "one "
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED and message.error == answering.STOPPED
    assert message.answer == "one "
    assert message.context_used[0]["path"] == "garden/roses.md"


def test_a_client_that_disconnects_while_the_model_writes_keeps_the_partial_answer(alice, knowledge_base, openai_stub):
    """Django's ASGI handler cancels the request's task when the client disconnects."""
    openai_stub.reply = "one two three four"
    openai_stub.token_delay = 30  # the second piece never comes before the cancellation
    message = ask(alice, "When to prune roses?")

    async def cancel_after_the_first_piece() -> None:
        first_piece = asyncio.Event()

        async def read() -> None:
            async for _ in answering.astream_answer(message=message):
                first_piece.set()

        task = asyncio.create_task(read())
        await first_piece.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_after_the_first_piece())
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED and message.error == answering.STOPPED
    assert message.answer == "one "


def _follow_up(owner, first: str, then: str) -> Message:
    """A follow-up question in a conversation whose first question is answered (by the sync stream:
    the cached model's async client belongs to the event loop that first used it)."""
    first_message = ask(owner, first)
    answering.answer_message(message=first_message)
    return services.message_create(conversation=first_message.conversation, question=then, chat_type=ChatType.ANSWER)


def test_a_follow_up_is_rewritten_by_the_model_then_searched_and_answered(alice, knowledge_base, openai_stub):
    openai_stub.replies = [
        "Roses are pruned in late winter [1].",
        "When should roses be pruned back hard?",
        "Hard pruning is done in late winter [1].",
    ]
    message = _follow_up(alice, "When to prune roses?", "And hard?")

    pieces = asyncio.run(read_all(message))

    message.refresh_from_db()
    assert message.search_query == "When should roses be pruned back hard?"
    assert message.answer == "".join(pieces) == "Hard pruning is done in late winter [1]."
    assert message.context_used[0]["path"] == "garden/roses.md"
    assert openai_stub.requests[1]["messages"][-1]["content"] == "And hard?"  # the rewrite was asked


def test_a_rewritten_follow_up_that_finds_nothing_is_told_so_without_asking_the_model(
    alice, knowledge_base, openai_stub, settings
):
    openai_stub.replies = ["Roses are pruned in late winter [1].", "Quantum chromodynamics?"]
    message = _follow_up(alice, "When to prune roses?", "And quarks?")
    settings.ANSWER_MIN_SIMILARITY = 0.99

    assert asyncio.run(read_all(message)) == [answering.NOTHING_FOUND]
    message.refresh_from_db()
    assert message.status == MessageStatus.ANSWERED and message.context_used == []
    assert len(openai_stub.requests) == 2  # the first answer and the rewrite: no call to answer
