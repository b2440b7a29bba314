"""A streamed completion through Django's ASGI handler (in this process, with Django's async
client): an async stream, sent piece by piece, fed by answering.astream_answer."""

import asyncio
import json

import pytest
from django.test import AsyncClient
from django.urls import reverse

from conversations.models import Message, MessageStatus

# The ASGI handler runs the view and the answer in other threads: they must see the test's rows.
pytestmark = pytest.mark.django_db(transaction=True)


async def stream(token: str, body: dict):
    response = await AsyncClient().post(
        reverse("interop:chat_completions"),
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.is_async  # an async iterator: Django sends each piece as it comes, not all at the end
    text = b"".join([chunk async for chunk in response.streaming_content]).decode()
    return response, [block.removeprefix("data: ") for block in text.split("\n\n") if block]


def test_under_asgi_a_streamed_completion_is_an_async_stream_of_chunks(alice, alice_token, knowledge_base):
    body = {
        "model": "ragchat",
        "stream": True,
        "messages": [{"role": "user", "content": "How often to oil the chain?"}],
    }
    response, data = asyncio.run(stream(alice_token, body))

    assert response["Content-Type"] == "text/event-stream" and data[-1] == "[DONE]"
    chunks = [json.loads(item) for item in data[:-1]]
    text = "".join(chunk["choices"][0]["delta"].get("content", "") for chunk in chunks)
    message = Message.objects.get(conversation__owner=alice)
    assert message.status == MessageStatus.ANSWERED and text == message.answer and "300 kilometres" in text
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop" and chunks[-1]["sources"][0]["path"] == "bikes.html"
