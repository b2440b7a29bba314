import json

from django.core.management.base import BaseCommand, CommandError

from conversations import services
from conversations.answering import Exchange, answer_message
from conversations.models import ChatType, CitedPassage
from documents.models import Collection
from documents.search import Reader, source_label
from ragchat.commands import user_named


class Command(BaseCommand):
    help = (
        "Ask the knowledge base a question and print the answer with its sources, best first. "
        "With --user the question is asked as that user (only the collections they may read are "
        "searched) and the exchange is stored in a new conversation of theirs. Without --user it "
        "searches every collection, as a staff override, and stores nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("question")
        parser.add_argument("--collection", default="", help="Search only this collection.")
        parser.add_argument("--chat-type", default=ChatType.ANSWER, choices=ChatType.values)
        parser.add_argument("--json", action="store_true", dest="as_json", help="Print one JSON object.")
        parser.add_argument("--user", help="Store the exchange in a new conversation of this user.")

    def handle(self, *args, question: str, collection: str, chat_type: str, as_json: bool, user: str | None, **opts):
        if not question.strip():
            raise CommandError("The question is empty.")
        result = (
            self._ask_and_store(question, collection, chat_type, user)
            if user
            else self._ask(question, collection, chat_type)
        )
        if as_json:
            self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))
        else:
            self._print(result)
        if result["error"]:
            raise CommandError(f"The answer failed: {result['error']}")

    def _print(self, result: dict) -> None:
        self.stdout.write(result["answer"])
        self.stdout.write("\nSources:")
        for source in result["sources"]:
            label = source_label(source["path"], source["page"])
            self.stdout.write(f"  [{source['n']}] {source['title']} ({label}, score {source['score']:.4f})")
        self.stdout.write(self.style.SUCCESS(f"\nAnswered in {result['latency_ms']} ms"))

    def _ask(self, question: str, collection: str, chat_type: str) -> dict:
        # No user: a staff tool reading every collection, and saying so.
        exchange = Exchange(
            question=question,
            chat_type=chat_type,
            reader=Reader.system_override(),
            collections=[collection] if collection else None,
        ).run()
        passages = [CitedPassage(**vars(passage), n=n) for n, passage in enumerate(exchange.passages, start=1)]
        answer = exchange.answer
        return _result(answer.text, chat_type, answer.model_name, exchange.latency_ms, exchange.error, passages)

    def _ask_and_store(self, question: str, collection: str, chat_type: str, username: str) -> dict:
        owner = user_named(username)
        chosen = Collection.objects.filter(name=collection) if collection else ()
        conversation = services.conversation_create(owner=owner, chat_type=chat_type, collections=chosen)
        message = services.message_create(conversation=conversation, question=question, chat_type=chat_type)
        answer_message(message=message)
        result = _result(
            message.answer, chat_type, message.model_name, message.latency_ms, message.error, message.passages()
        )
        return result | {"conversation_id": conversation.pk, "message_id": message.pk}


def _result(answer: str, chat_type: str, model: str, latency_ms: int, error: str, passages: list[CitedPassage]) -> dict:
    return {
        "answer": answer,
        "chat_type": chat_type,
        "model": model,
        "latency_ms": latency_ms,
        "error": error,
        "sources": [passage.summary() for passage in passages],
    }
