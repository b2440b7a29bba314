import json

import pytest
from django.core.management import CommandError, call_command

from conversations.models import Message


def run_ask(capsys, *args) -> str:
    call_command("ask", *args)
    return capsys.readouterr().out


def test_ask_json_prints_the_answer_and_its_sources_best_first(knowledge_base, capsys):
    result = json.loads(run_ask(capsys, "How often should I oil my bicycle chain?", "--json"))
    assert {"answer", "chat_type", "latency_ms", "sources"} <= set(result)
    assert result["chat_type"] == "answer"
    assert "300 kilometres" in result["answer"]
    assert isinstance(result["latency_ms"], int)
    first = result["sources"][0]
    assert (first["path"], first["title"]) == ("bikes.html", "Bicycle maintenance")
    scores = [s["score"] for s in result["sources"]]
    assert scores == sorted(scores, reverse=True)
    assert not Message.objects.exists()  # nothing stored without --user


def test_ask_can_be_limited_to_a_collection_and_a_chat_type(knowledge_base, docs_dir, capsys):
    from documents.services import documents_import

    documents_import(paths=[docs_dir / "kettle.txt"], collection="kitchen")
    out = run_ask(
        capsys, "How do I descale the kettle?", "--collection", "kitchen", "--chat-type", "summarize", "--json"
    )
    result = json.loads(out)
    assert result["chat_type"] == "summarize"
    assert {s["collection"] for s in result["sources"]} == {"kitchen"}


def test_ask_prints_readable_text_by_default(knowledge_base, capsys):
    out = run_ask(capsys, "When do I prune roses?")
    assert "Sources:" in out and "[1] Garden (garden/roses.md" in out


def test_ask_with_a_user_stores_the_exchange(knowledge_base, alice, capsys):
    result = json.loads(run_ask(capsys, "When do I prune roses?", "--json", "--user", "alice"))
    message = Message.objects.get(pk=result["message_id"])
    assert message.conversation.owner == alice
    assert result["sources"][0]["path"] == message.context_used[0]["path"] == "garden/roses.md"


def test_ask_refuses_an_empty_question_and_an_unknown_user(db):
    with pytest.raises(CommandError, match="empty"):
        call_command("ask", "  ")
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("ask", "roses?", "--user", "nobody")


def test_ask_exits_non_zero_when_the_model_fails(knowledge_base, openai_stub, capsys):
    openai_stub.status = 500
    with pytest.raises(CommandError, match="The answer failed"):
        call_command("ask", "When do I prune roses?", "--json")
    assert "overloaded" in json.loads(capsys.readouterr().out)["error"]
