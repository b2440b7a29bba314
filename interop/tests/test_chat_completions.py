"""/v1/chat/completions and /v1/models, called with the official ``openai`` client against ragchat
under uvicorn (ragchat.asgi, as in production): answers with their sources, streamed or whole,
the history of a follow-up, the tokens, and what each user may search."""

from datetime import timedelta

import httpx
import openai
import pytest
from django.utils import timezone

from api.models import ApiToken
from api.tokens import token_create, token_revoke
from conversations.models import Conversation, Message, MessageStatus

pytestmark = pytest.mark.django_db(transaction=True)
KETTLE = [{"role": "user", "content": "How do I descale the kettle?"}]


def client(live_ragchat: str, token: str) -> openai.OpenAI:
    """The official client pointed at ragchat, as the README shows; no retries, so each call is one."""
    return openai.OpenAI(base_url=f"{live_ragchat}/v1", api_key=token, max_retries=0, timeout=120)


def test_a_completion_answers_from_the_documents_with_its_sources(live_ragchat, alice, alice_token, knowledge_base):
    completion = client(live_ragchat, alice_token).chat.completions.create(
        model="ragchat", messages=KETTLE, temperature=0.3, max_tokens=50
    )
    [choice] = completion.choices
    assert choice.finish_reason == "stop" and choice.message.role == "assistant"
    assert "white vinegar" in choice.message.content and "[1]" in choice.message.content
    assert completion.model == "ragchat" and completion.usage is None  # extractive: no model, no tokens
    source = completion.sources[0]
    assert source["n"] == 1 and source["path"] == "kettle.txt" and source["label"] == "kettle.txt"
    assert "white vinegar" in source["text"] and source["page"] is None

    conversation = Conversation.objects.get(owner=alice)
    assert completion.conversation_id == conversation.pk and conversation.title == "How do I descale the kettle?"
    [message] = conversation.messages.all()
    assert message.status == MessageStatus.ANSWERED and message.answer == choice.message.content
    assert completion.id == f"chatcmpl-{message.pk}"


def test_a_streamed_completion_sends_the_pieces_then_the_sources_and_the_usage(
    live_ragchat, alice, alice_token, knowledge_base
):
    stream = client(live_ragchat, alice_token).chat.completions.create(
        model="ragchat", messages=KETTLE, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    finals = [chunk for chunk in chunks if chunk.choices and chunk.choices[0].finish_reason]
    assert [chunk.choices[0].finish_reason for chunk in finals] == ["stop"]
    assert finals[0].sources[0]["path"] == "kettle.txt"
    assert chunks[-1].choices == [] and chunks[-1].usage is None  # the usage chunk: none known without a model
    [message] = Message.objects.filter(conversation__owner=alice)
    assert text == message.answer and "white vinegar" in text
    assert finals[0].conversation_id == message.conversation_id


def test_earlier_turns_are_the_history_of_a_follow_up_and_are_not_stored_again(
    live_ragchat, alice, alice_token, knowledge_base
):
    earlier = client(live_ragchat, alice_token).chat.completions.create(model="ragchat", messages=KETTLE)
    turns = [*KETTLE, {"role": "assistant", "content": earlier.choices[0].message.content}]
    follow_up = client(live_ragchat, alice_token).chat.completions.create(
        model="ragchat", messages=[*turns, {"role": "user", "content": "How often?"}]
    )
    message = Message.objects.get(conversation_id=follow_up.conversation_id)
    # Without a model, a short follow-up is searched together with the question before it.
    assert message.search_query == "How do I descale the kettle? How often?"
    assert "every month" in follow_up.choices[0].message.content
    assert Conversation.objects.filter(owner=alice).count() == 2 and Message.objects.count() == 2


def test_models_lists_ragchat_and_each_collection_the_user_can_read(
    live_ragchat, alice_token, bob_token, knowledge_base, alices_private
):
    alices = [model.id for model in client(live_ragchat, alice_token).models.list()]
    bobs = [model.id for model in client(live_ragchat, bob_token).models.list()]
    assert alices == ["ragchat", "ragchat:alices", "ragchat:default"]
    assert bobs == ["ragchat", "ragchat:default"]


def test_a_model_names_one_collection_and_another_users_is_not_found(
    live_ragchat, alice_token, bob, bob_token, knowledge_base, alices_private
):
    question = [{"role": "user", "content": "What is the safe's code?"}]
    mine = client(live_ragchat, alice_token).chat.completions.create(model="ragchat:alices", messages=question)
    assert [source["path"] for source in mine.sources] == ["diary.txt"]

    with pytest.raises(openai.NotFoundError) as refused:
        client(live_ragchat, bob_token).chat.completions.create(model="ragchat:alices", messages=question)
    assert refused.value.body["code"] == "model_not_found"
    assert refused.value.body["message"] == "There is no collection named 'alices' that you can read."
    everything = client(live_ragchat, bob_token).chat.completions.create(model="ragchat", messages=question)
    assert "diary.txt" not in {source["path"] for source in everything.sources}
    assert not Conversation.objects.filter(owner=bob, collections__name="alices").exists()


def test_no_token_a_revoked_or_an_expired_token_gets_401(live_ragchat, alice, knowledge_base):
    revoked, revoked_raw = token_create(user=alice, name="revoked")
    token_revoke(token=revoked)
    expired_raw = token_create(user=alice, name="expired", expires_at=timezone.now() + timedelta(days=1))[1]
    ApiToken.objects.filter(name="expired").update(expires_at=timezone.now() - timedelta(seconds=1))

    for token in ("rc_not-a-token", revoked_raw, expired_raw):
        with pytest.raises(openai.AuthenticationError) as refused:
            client(live_ragchat, token).chat.completions.create(model="ragchat", messages=KETTLE)
        assert refused.value.body["code"] == "invalid_api_key"
        with pytest.raises(openai.AuthenticationError):
            client(live_ragchat, token).models.list()
    # The client will not send a call without a key; a script might.
    bare = httpx.post(f"{live_ragchat}/v1/chat/completions", json={"model": "ragchat", "messages": KETTLE})
    assert bare.status_code == 401 and bare.headers["WWW-Authenticate"] == "Bearer"
    assert bare.json()["error"]["code"] == "invalid_api_key"
    assert not Conversation.objects.exists()
