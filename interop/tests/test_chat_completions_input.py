"""/v1/chat/completions in-process (Django's test client), where a test can set limits and a chat
model: the rate limit and input limits of the pages, refusals in OpenAI's error shape that store
nothing, a failing model, usage and history with a model, and staff seeing each call."""

import json

import pytest
from django.urls import reverse

from conftest import ask
from conversations.models import Conversation, Message, MessageStatus

URL = reverse("interop:chat_completions")
KETTLE = [{"role": "user", "content": "How do I descale the kettle?"}]


def complete(client, token: str, **body):
    payload = {"model": "ragchat", "messages": KETTLE} | body
    return client.post(URL, json.dumps(payload), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")


def error_of(response) -> dict:
    return response.json()["error"]


def test_the_pages_rate_limit_applies_and_is_shared_with_them(client, alice, alice_token, knowledge_base, settings):
    settings.ASK_RATE_LIMIT, settings.ASK_RATE_WINDOW_SECONDS = 2, 3600
    client.force_login(alice)
    ask(client, "When to prune roses?")  # a question asked on the chat page counts too
    assert complete(client, alice_token).status_code == 200

    refused = complete(client, alice_token)

    assert refused.status_code == 429 and 0 < int(refused["Retry-After"]) <= 3600
    assert error_of(refused)["code"] == "rate_limit_exceeded"
    assert error_of(refused)["message"].startswith("You have asked 2 questions in 3600 seconds")
    assert Message.objects.count() == 2


@pytest.mark.parametrize(
    ("body", "param", "words"),
    [
        ({"messages": [{"role": "user", "content": "x" * 4001}]}, "messages",
         "Questions can be at most 4000 characters long (this one has 4001)."),
        ({"messages": [{"role": "user", "content": "   "}]}, "messages", "Please type a question."),
        ({"messages": [{"role": "user", "content": "Roses?\x00"}]}, "messages", "Null characters are not allowed."),
        ({"n": 3}, "n", "`n` must be 1"),
        ({"messages": "Roses?"}, "messages", "must be a list of messages"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_with_a_reason_and_nothing_is_stored(client, alice_token, body, param, words, settings):
    settings.MAX_QUESTION_CHARS = 4000
    response = complete(client, alice_token, **body)
    assert response.status_code == 400
    assert error_of(response)["type"] == "invalid_request_error" and error_of(response)["param"] == param
    assert words in error_of(response)["message"]
    assert not Conversation.objects.exists()


def test_a_body_that_is_not_json_or_too_large_is_refused(client, alice_token, settings):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {alice_token}"}
    not_json = client.post(URL, "model=ragchat", content_type="application/json", **headers)
    assert not_json.status_code == 400 and "must be JSON" in error_of(not_json)["message"]
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    too_large = complete(client, alice_token, messages=[{"role": "user", "content": "Roses? " * 200}])
    assert (
        too_large.status_code == 413
        and error_of(too_large)["message"] == "The request body is too large for this site."
    )
    assert not Conversation.objects.exists()


def test_only_post_is_answered_and_the_session_cookie_is_not_a_token(alice_client, alice_token):
    assert alice_client.get(URL, HTTP_AUTHORIZATION=f"Bearer {alice_token}").status_code == 405
    signed_in_only = alice_client.post(URL, json.dumps({"model": "ragchat", "messages": KETTLE}), "application/json")
    assert signed_in_only.status_code == 401


def test_with_a_model_the_usage_is_given_and_the_history_is_sent_to_it(
    client, alice_token, knowledge_base, openai_stub
):
    openai_stub.replies = ["How often should the kettle be descaled?", "Every month [1]."]
    turns = [
        *KETTLE,
        {"role": "assistant", "content": "With white vinegar [1]."},
        {"role": "user", "content": "How often?"},
    ]

    body = complete(client, alice_token, messages=turns).json()

    assert body["choices"][0]["message"]["content"] == "Every month [1]."
    assert body["usage"] == {"prompt_tokens": 123, "completion_tokens": 9, "total_tokens": 132}
    sent = [(m["role"], m["content"]) for m in openai_stub.requests[-1]["messages"][1:3]]
    assert sent == [("user", "How do I descale the kettle?"), ("assistant", "With white vinegar [1].")]
    assert Message.objects.get().search_query == "How often should the kettle be descaled?"


def test_a_failing_model_is_a_502_with_the_reason_and_the_question_is_kept(
    client, alice_token, knowledge_base, openai_stub
):
    openai_stub.status = 500
    response = complete(client, alice_token)
    assert response.status_code == 502
    message = Message.objects.get()
    assert message.status == MessageStatus.FAILED and message.question == "How do I descale the kettle?"
    assert error_of(response)["message"] == f"{message.error} (reference: {message.request_id})"
    assert error_of(response)["code"] == "answer_failed"


def test_staff_see_each_call_in_the_admin_and_on_the_insight_page(client, alice_token, knowledge_base, staff_client):
    complete(client, alice_token)
    complete(client, alice_token, messages=[{"role": "user", "content": "When to prune roses?"}])

    listed = staff_client.get(reverse("admin:conversations_message_changelist")).content.decode()
    assert "How do I descale the kettle?" in listed and "When to prune roses?" in listed
    insight = staff_client.get(reverse("insight:index")).content.decode()
    assert "Questions<strong>2</strong>" in insight


def stream_events(response) -> list:
    """The server-sent events' data, decoded; the closing "[DONE]" as is."""
    text = b"".join(response.streaming_content).decode()
    data = [block.removeprefix("data: ") for block in text.split("\n\n") if block]
    return [item if item == "[DONE]" else json.loads(item) for item in data]


def test_under_wsgi_a_streamed_call_is_answered_from_the_sync_pipeline(client, alice_token, knowledge_base):
    events = stream_events(complete(client, alice_token, stream=True, stream_options={"include_usage": True}))
    assert events[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert events[-1] == "[DONE]" and events[-2]["choices"] == [] and events[-2]["usage"] is None
    assert events[-3]["choices"][0]["finish_reason"] == "stop" and events[-3]["sources"][0]["path"] == "kettle.txt"
    text = "".join(event["choices"][0]["delta"].get("content", "") for event in events[:-2])
    assert text == Message.objects.get().answer


def test_a_streamed_call_whose_model_fails_ends_with_an_error_event(client, alice_token, knowledge_base, openai_stub):
    openai_stub.status = 500
    events = stream_events(complete(client, alice_token, stream=True))
    message = Message.objects.get()
    assert message.status == MessageStatus.FAILED
    assert events[-1] == {
        "error": {
            "message": f"{message.error} (reference: {message.request_id})",
            "type": "server_error",
            "param": None,
            "code": "answer_failed",
        }
    }


def test_the_request_log_names_the_tokens_user_and_never_the_token(client, alice, alice_token, caplog):
    caplog.set_level("INFO", logger="ragchat.request")
    complete(client, alice_token, messages=[{"role": "user", "content": "   "}])
    [line] = [record for record in caplog.records if record.name == "ragchat.request"]
    assert line.user_id == alice.pk and line.status == 400
    assert alice_token not in caplog.text
