"""Reading an OpenAI chat-completions request (completions.parse_request): the question, its
history, what is ignored and what is refused, with the parameter named."""

import json

import pytest

from interop.calls import Refused
from interop.completions import parse_request


def request(**fields) -> bytes:
    return json.dumps({"model": "ragchat", "messages": [{"role": "user", "content": "Roses?"}]} | fields).encode()


def refusal(body: bytes) -> Refused:
    with pytest.raises(Refused) as refused:
        parse_request(body)
    return refused.value


def test_the_last_user_message_is_the_question_and_earlier_turns_its_history():
    messages = [
        {"role": "system", "content": "You are a pirate."},
        {"role": "user", "content": "When to prune roses?"},
        {"role": "assistant", "content": "In late winter [1]."},
        {"role": "user", "content": "And tomatoes?"},
        {"role": "assistant", "content": "Water them at the base [1]."},
        {"role": "user", "content": "How often?"},
    ]
    call = parse_request(request(messages=messages, temperature=1.7, max_tokens=5, stream=True))
    assert call.question == "How often?"
    assert call.history == [
        ("When to prune roses?", "In late winter [1]."),
        ("And tomatoes?", "Water them at the base [1]."),
    ]
    assert call.stream and not call.include_usage
    assert call.collection is None


def test_a_question_without_an_answer_is_still_a_turn_and_text_parts_are_joined():
    messages = [
        {"role": "user", "content": [{"type": "text", "text": "First"}, {"type": "text", "text": "part"}]},
        {"role": "user", "content": "Second?"},
    ]
    call = parse_request(request(messages=messages, stream_options={"include_usage": True}))
    assert call.history == [("First\npart", "")]
    assert call.question == "Second?" and not call.stream and not call.include_usage


def test_the_model_name_chooses_one_collection():
    assert parse_request(request(model="ragchat:handbook")).collection == "handbook"


@pytest.mark.parametrize(
    ("body", "param", "words"),
    [
        (b"{not json", None, "must be JSON"),
        (b"[1, 2]", None, "JSON object"),
        (request(n=2), "n", "`n` must be 1"),
        (request(messages=[]), "messages", "must be a list of messages"),
        (request(messages=[{"role": "assistant", "content": "Hi"}]), "messages", "last message must be the user's"),
        (request(messages=[{"content": "no role"}]), "messages", "`role`"),
        (request(messages=[{"role": "user", "content": 7}]), "messages", "a string or a list of text parts"),
        (request(messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]),
         "messages", "text only"),
    ],
)  # fmt: skip
def test_a_bad_request_is_refused_with_its_parameter_named(body, param, words):
    refused = refusal(body)
    assert refused.kind == "invalid" and refused.param == param
    assert words in refused.reason


@pytest.mark.parametrize("model", ["gpt-4o", "", None, "ragchathandbook"])
def test_a_model_that_is_not_ragchat_is_not_found(model):
    refused = refusal(request(model=model))
    assert refused.kind == "not_found" and refused.param == "model"
    assert "GET /v1/models lists them" in refused.reason
