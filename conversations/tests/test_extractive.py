"""The answer without a model (extractive.py): quotes of the documents and nothing else, even
when a document tries to give orders."""

import re

import pytest

from conftest import INJECTION, ask, make_chunk, page_of, write_files
from conversations import extractive, prompts
from conversations.models import ChatType, Message, MessageStatus
from documents.retrieval import relevant, retrieve
from documents.search import Reader
from documents.services import documents_import


def test_without_a_model_the_answer_only_quotes_the_documents(alice_client, poisoned_knowledge_base):
    response = ask(alice_client, "What do the kettle notes say about previous instructions and the system prompt?")

    message = Message.objects.get()
    assert response.status_code == 302 and message.status == MessageStatus.ANSWERED
    notice, *quotes = message.answer.split("\n\n")
    assert notice == extractive.NO_MODEL_NOTICE and quotes
    for quote in quotes:
        sentence, number = re.fullmatch(r"> (.+) \[(\d+)\]", quote).groups()
        assert sentence in " ".join(message.passage(int(number)).text.split())
    assert prompts.BUILT_IN_PROMPTS[ChatType.ANSWER] not in message.answer
    assert any("Citric acid" in source["text"] for source in message.context_used)
    if poisoned_knowledge_base == "injection":
        assert any(quote.startswith(f"> {INJECTION} [") for quote in quotes)  # quoted, and nothing more
    assert "Citric acid" in page_of(alice_client, message)


# A small handbook where the sentence that answers each question is known, and is not always its
# passage's first: quoting by position alone would miss some of them.
HANDBOOK = {
    "leave.md": (
        "# Holidays\n\nEveryone starts the year with twenty-five days of paid leave. Requests go to your "
        "manager at least two weeks ahead. Unused days expire at the end of March of the following year. "
        "Public holidays are not counted against your allowance."
    ),
    "expenses.md": (
        "# Expenses\n\nKeep every receipt. Travel expenses are reimbursed within thirty days of the claim. "
        "Meals abroad are covered up to forty euros a day. Claims without a receipt are refused."
    ),
    "laptops.md": (
        "# Laptops\n\nEach new employee receives a laptop on their first day. The laptop must be encrypted "
        "before it leaves the office. Lost or stolen laptops are reported to the IT desk within 24 hours. "
        "Laptops are replaced every four years."
    ),
}


@pytest.fixture
def handbook(db, tmp_path):
    write_files(tmp_path / "handbook", HANDBOOK)
    assert not documents_import(paths=[tmp_path / "handbook"], collection="handbook").failed


@pytest.mark.parametrize(
    ("question", "answering_sentence", "path"),
    [
        ("When do unused holiday days expire?",
         "Unused days expire at the end of March of the following year.", "leave.md"),
        ("How quickly are travel expenses reimbursed?",
         "Travel expenses are reimbursed within thirty days of the claim.", "expenses.md"),
        ("What should I do if my laptop is stolen?",
         "Lost or stolen laptops are reported to the IT desk within 24 hours.", "laptops.md"),
        ("How often are laptops replaced?", "Laptops are replaced every four years.", "laptops.md"),
    ],
)  # fmt: skip
def test_the_sentence_that_answers_a_question_is_quoted_from_its_document(handbook, question, answering_sentence, path):
    passages = relevant(retrieve(question, reader=Reader.system_override(), collections=["handbook"]))

    quotes = extractive.extractive_quotes(question, passages)

    cited = [re.fullmatch(r"> (.+) \[(\d+)\]", quote).groups() for quote in quotes]
    assert len(cited) == extractive.EXTRACTIVE_SENTENCES
    assert (answering_sentence, path) in [(sentence, passages[int(n) - 1].path) for sentence, n in cited]
    for sentence, n in cited:  # quotes, never paraphrases
        assert sentence in " ".join(passages[int(n) - 1].text.split())


def test_quotes_follow_the_order_of_their_passages_and_sentences(db):
    passages = [
        make_chunk("Roses like sun. Prune roses in late winter above a bud. Remove dead wood first.", 1),
        make_chunk("Tomatoes want water at the base. Pruning tomatoes means pinching side shoots.", 2),
    ]
    quotes = extractive.extractive_quotes("How do I prune roses and tomatoes?", passages)

    places = []
    for quote in quotes:
        sentence, n = re.fullmatch(r"> (.+) \[(\d+)\]", quote).groups()
        places.append((int(n), extractive.split_sentences(passages[int(n) - 1].text).index(sentence)))
    assert len(places) == extractive.EXTRACTIVE_SENTENCES and places == sorted(places)
    assert (2, 1) in places  # the tomato pruning sentence, though its passage ranks second


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("How do I prune my roses?", {"prun", "ros"}),  # question words and stop words say nothing
        ("Pruning, pruned, prunes", {"prun"}),
        ("settings setting", {"sett"}),
        ("queries query", {"query"}),
        ("classes class", {"class"}),
    ],
)
def test_terms_keep_the_words_that_tell_sentences_apart_and_fold_their_endings(text, expected):
    assert extractive.terms(text) == expected


def test_passages_without_a_sentence_give_no_quotes(db):
    assert extractive.extractive_quotes("Anything?", [make_chunk("no", 1)]) == []
