import json
import re

import pytest
from django.core.management import CommandError, call_command

from conversations.models import Message


def run_ask(capsys, *args) -> str:
    call_command("ask", *args)
    return capsys.readouterr().out


RESULT_KEYS = {"answer", "chat_type", "model", "latency_ms", "error", "sources"}
SOURCE_KEYS = {"n", "path", "page", "title", "heading", "collection", "score", "similarity"}


def test_ask_json_prints_the_answer_and_its_sources_best_first(knowledge_base, capsys):
    result = json.loads(run_ask(capsys, "How often should I oil my bicycle chain?", "--json"))
    assert set(result) == RESULT_KEYS
    assert (result["chat_type"], result["model"], result["error"]) == ("answer", "", "")  # extractive: no model
    quote = "> Oil the bicycle chain every 300 kilometres, then wipe off the excess oil with a rag. [1]"
    assert result["answer"].split("\n\n")[1] == quote
    assert type(result["latency_ms"]) is int and result["latency_ms"] > 0
    sources = result["sources"]
    assert all(set(source) == SOURCE_KEYS for source in sources)
    assert [source["n"] for source in sources] == list(range(1, len(sources) + 1))
    first = {key: value for key, value in sources[0].items() if key not in ("score", "similarity")}
    assert first == {
        "n": 1,
        "path": "bikes.html",
        "page": None,  # HTML has no pages
        "title": "Bicycle maintenance",
        "heading": "Bicycle maintenance › Chains",
        "collection": "default",
    }
    scores = [source["score"] for source in sources]
    assert scores == sorted(scores, reverse=True) and 0 < sources[0]["similarity"] <= 1
    assert not Message.objects.exists()  # nothing stored without --user


def test_ask_can_be_limited_to_a_collection_and_a_chat_type(knowledge_base, docs_dir, capsys):
    from documents.services import documents_import

    documents_import(paths=[docs_dir / "kettle.txt"], collection="kitchen")
    out = run_ask(
        capsys, "How do I descale the kettle?", "--collection", "kitchen", "--chat-type", "summarize", "--json"
    )
    result = json.loads(out)
    assert (result["chat_type"], result["error"]) == ("summarize", "")
    assert [(s["n"], s["path"], s["collection"]) for s in result["sources"]] == [(1, "kettle.txt", "kitchen")]


def test_ask_json_gives_the_page_of_a_pdf_passage_and_the_text_output_names_it(db, tmp_path, capsys):
    from documents.services import documents_import
    from documents.tests.pdf import make_pdf_pages

    pages = [["Harbour entrance depth is nine metres."], ["Storm gates close at dusk every evening."]]
    (tmp_path / "harbour-report.pdf").write_bytes(make_pdf_pages(pages, title="Harbour report"))
    documents_import(paths=[tmp_path])

    result = json.loads(run_ask(capsys, "When do the storm gates close?", "--json"))
    assert [(s["path"], s["page"]) for s in result["sources"]][0] == ("harbour-report.pdf", 2)
    assert "  [1] Harbour report (harbour-report.pdf, p. 2, score " in run_ask(capsys, "When do the storm gates close?")


def test_ask_prints_readable_text_by_default(knowledge_base, capsys):
    out = run_ask(capsys, "When do I prune roses?")
    answer, sources = out.split("\nSources:\n")
    assert "> Prune roses in late winter, just above an outward-facing bud. [1]" in answer
    assert sources.startswith("  [1] Garden (garden/roses.md, score ")
    assert re.search(r"\nAnswered in \d+ ms\n$", sources)


def test_ask_with_a_user_stores_the_exchange_and_prints_it_as_stored(knowledge_base, alice, capsys):
    result = json.loads(run_ask(capsys, "When do I prune roses?", "--json", "--user", "alice"))
    message = Message.objects.get(pk=result["message_id"])
    assert message.conversation.owner == alice and message.question == "When do I prune roses?"
    assert result == {
        "answer": message.answer,
        "chat_type": "answer",
        "model": message.model_name,
        "latency_ms": message.latency_ms,
        "error": "",
        "sources": [passage.summary() for passage in message.passages()],
        "conversation_id": message.conversation_id,
        "message_id": message.pk,
    }
    assert result["sources"][0]["path"] == "garden/roses.md"


def test_ask_refuses_an_empty_question_and_an_unknown_user(db):
    with pytest.raises(CommandError, match="empty"):
        call_command("ask", "  ")
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("ask", "roses?", "--user", "nobody")


def test_ask_exits_non_zero_when_the_model_fails(knowledge_base, openai_stub, capsys):
    openai_stub.status = 500
    with pytest.raises(CommandError, match="The answer failed"):
        call_command("ask", "When do I prune roses?", "--json")
    # The reason a person can act on; the provider's own words are in the log (and error_detail when stored).
    error = json.loads(capsys.readouterr().out)["error"]
    assert error == "The language model service failed (HTTP 500). Please try again."
