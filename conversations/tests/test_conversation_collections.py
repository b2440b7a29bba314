"""What a conversation searches: the collections chosen on the start page or in its settings, and
only ever those its owner may read at the time of each question."""

from django.urls import reverse

from conftest import answer_question, make_user
from conversations import services
from conversations.models import Conversation, Message
from documents.collections import collection_get_or_create, collection_share, collection_unshare
from documents.models import Collection, Role, Visibility
from documents.services import documents_import


def _garden_of_carols(docs_dir) -> Collection:
    """Carol's private collection with the garden notes (roses, tomatoes)."""
    collection, _ = collection_get_or_create(name="garden", owner=make_user("carol"), visibility=Visibility.PRIVATE)
    documents_import(paths=[docs_dir / "garden"], collection="garden")
    return collection


def _start(client, question: str, collections: list[Collection]):
    form = {"question": question, "chat_type": "answer", "collections": [c.pk for c in collections]}
    return client.post(reverse("conversations:create"), form)


def test_the_start_page_offers_the_collections_you_can_read(alice_client, knowledge_base, docs_dir):
    _garden_of_carols(docs_dir)
    page = alice_client.get(reverse("conversations:list")).content.decode()
    assert 'name="collections"' in page and " default</label>" in page
    assert "garden" not in page  # Carol's, not shared with Alice


def test_a_first_question_searches_only_the_chosen_collections(alice, alice_client, knowledge_base, docs_dir):
    garden = _garden_of_carols(docs_dir)
    collection_share(collection=garden, user=alice, role=Role.READER)
    _start(alice_client, "When do I prune roses?", [garden])

    message = Message.objects.get()
    assert list(message.conversation.collections.all()) == [garden]
    assert {passage.collection for passage in message.passages()} == {"garden"}
    page = alice_client.get(reverse("conversations:detail", args=[message.conversation_id])).content.decode()
    assert '<span class="collection">garden</span>' in page  # each source shows its collection


def test_a_collection_that_is_not_yours_cannot_be_chosen(alice_client, knowledge_base, docs_dir):
    garden = _garden_of_carols(docs_dir)
    response = _start(alice_client, "When do I prune roses?", [garden])
    assert response.status_code == 400
    assert not Message.objects.exists() and not Conversation.objects.exists()


def test_the_settings_change_what_the_next_question_searches(alice, alice_client, knowledge_base, docs_dir):
    garden = _garden_of_carols(docs_dir)
    collection_share(collection=garden, user=alice, role=Role.READER)
    conversation = services.conversation_create(owner=alice, chat_type="answer")
    first = answer_question(conversation=conversation, question="How do I descale the kettle?")
    assert "kettle.txt" in {passage.path for passage in first.passages()}

    url = reverse("conversations:update", args=[conversation.pk])
    alice_client.post(url, {"title": "Garden", "chat_type": "answer", "collections": [garden.pk]})
    second = answer_question(conversation=conversation, question="How do I descale the kettle?")
    assert {passage.collection for passage in second.passages()} <= {"garden"}


def test_after_access_is_revoked_the_next_answer_no_longer_searches_it(alice, knowledge_base, docs_dir):
    garden = _garden_of_carols(docs_dir)
    collection_share(collection=garden, user=alice, role=Role.READER)
    conversation = services.conversation_create(owner=alice, chat_type="answer", collections=[garden])
    before = answer_question(conversation=conversation, question="When do I prune roses?")
    assert {passage.collection for passage in before.passages()} == {"garden"}

    collection_unshare(collection=garden, user=alice)
    after = answer_question(conversation=conversation, question="When do I prune roses?")
    assert after.passages() == []
    before.refresh_from_db()
    assert "Prune roses" in before.answer  # what was answered before stays
