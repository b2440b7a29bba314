import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection

from conversations import services
from conversations.models import ChatType, Message, MessageStatus


def test_migrations_match_the_models(db):
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_the_vector_extension_and_the_named_indexes_exist(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        assert cursor.fetchone() is not None
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'documents_chunk'")
        indexes = dict(cursor.fetchall())
    assert "USING hnsw (embedding vector_cosine_ops)" in indexes["chunk_embedding_cosine_hnsw"]
    assert "USING gin (search_vector)" in indexes["chunk_search_vector_gin"]


def test_a_failed_message_must_say_why(alice):
    conversation = services.conversation_create(owner=alice, chat_type=ChatType.ANSWER)
    with pytest.raises(IntegrityError):
        Message.objects.create(conversation=conversation, question="q", status=MessageStatus.FAILED, error="")


def test_conversations_list_newest_first_per_user(alice, bob):
    first = services.conversation_create(owner=alice, chat_type="answer")
    second = services.conversation_create(owner=alice, chat_type="answer")
    services.conversation_create(owner=bob, chat_type="answer")
    first.save()  # touched last
    from conversations.models import Conversation

    assert list(Conversation.objects.for_user(alice).recent()) == [first, second]


def test_string_forms_are_readable(alice):
    conversation = services.conversation_create(owner=alice, chat_type="answer", title="Roses")
    message = services.message_create(conversation=conversation, question="When to prune?", chat_type="answer")
    assert (str(conversation), str(message)) == ("Roses", "When to prune?")
