"""The answer without a model (extractive.py): quotes of the documents and nothing else, even
when a document tries to give orders."""

import re

from conftest import INJECTION, ask, page_of
from conversations import extractive, prompts
from conversations.models import ChatType, Message, MessageStatus


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
