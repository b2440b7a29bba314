"""What the chat pages keep beside the chat (sidebar.py): the user's own recent conversations with
the current one marked, and the collections the conversation searches."""

import re

from django.urls import reverse

from conversations import services
from conversations.sidebar import SIDE_LIST_LENGTH
from documents.collections import collection_get_or_create, collection_share, collection_unshare
from documents.models import Role, Visibility


def side_list(page: str) -> str:
    """The side list's HTML within a conversation page."""
    return re.search(r'<nav class="side-list.*?</nav>', page, re.S).group(0)


def page_of(client, conversation) -> str:
    return client.get(reverse("conversations:detail", args=[conversation.pk])).content.decode()


def detail_url(conversation) -> str:
    return reverse("conversations:detail", args=[conversation.pk])


def test_it_lists_only_the_users_own_conversations_newest_first_and_marks_the_current_one(alice_client, alice, bob):
    older = services.conversation_create(owner=alice, chat_type="answer", title="Roses")
    newer = services.conversation_create(owner=alice, chat_type="answer", title="Kettles")
    bobs = services.conversation_create(owner=bob, chat_type="answer", title="Bob's bicycle")

    listed = side_list(page_of(alice_client, older))

    assert listed.index("Kettles") < listed.index("Roses")
    assert "Bob" not in listed and detail_url(bobs) not in listed
    assert re.findall(r'<a href="([^"]+)"[^>]*aria-current="page"', listed) == [detail_url(older)]
    assert f'href="{detail_url(newer)}" title="Kettles">' in listed  # listed, not marked


def test_it_is_bounded_and_links_to_the_full_list(alice_client, alice):
    conversations = [
        services.conversation_create(owner=alice, chat_type="answer", title=f"Topic {n:02d}")
        for n in range(SIDE_LIST_LENGTH + 2)
    ]
    listed = side_list(page_of(alice_client, conversations[-1]))
    assert listed.count("<li>") == SIDE_LIST_LENGTH
    assert "Topic 00" not in listed and "Topic 01" not in listed and f"Topic {SIDE_LIST_LENGTH + 1:02d}" in listed
    assert f'<a href="{reverse("conversations:list")}#conversations">All conversations (older ones, search)' in listed


def test_titles_are_shown_as_text(alice_client, alice):
    conversation = services.conversation_create(owner=alice, chat_type="answer", title='<img src=x onerror="x()">')
    listed = side_list(page_of(alice_client, conversation))
    assert "<img" not in listed and "&lt;img src=x onerror=&quot;x()&quot;&gt;" in listed


def test_a_conversation_that_chose_nothing_searches_all_you_can_read(alice_client, alices_conversation):
    page = page_of(alice_client, alices_conversation)
    assert re.search(rf'Searches:\s*<a href="{reverse("documents:list")}">all you can read</a>', page)


def test_the_chosen_collections_are_named_and_a_withdrawn_one_only_counted(alice_client, alice, bob):
    handbook, _ = collection_get_or_create(name="handbook", title="Staff handbook")
    garden, _ = collection_get_or_create(name="garden", title="Bob's garden", owner=bob, visibility=Visibility.PRIVATE)
    collection_share(collection=garden, user=alice, role=Role.READER)
    conversation = services.conversation_create(owner=alice, chat_type="answer", collections=[handbook, garden])

    page = page_of(alice_client, conversation)
    assert f'<a href="{reverse("documents:collection", args=["garden"])}" class="searched-collection">' in page
    assert "Bob&#x27;s garden</a>, <a" in page and ">Staff handbook</a>" in page and "all you can read" not in page

    collection_unshare(collection=garden, user=alice)
    page = page_of(alice_client, conversation)
    assert "Bob&#x27;s garden" not in page and ">Staff handbook</a>" in page
    assert "(1 chosen collection is no longer shared with you)" in page


def test_when_every_chosen_collection_is_withdrawn_the_page_says_it_searches_nothing(alice_client, alice, bob):
    garden, _ = collection_get_or_create(name="garden", title="Bob's garden", owner=bob, visibility=Visibility.PRIVATE)
    conversation = services.conversation_create(owner=alice, chat_type="answer", collections=[garden])
    page = page_of(alice_client, conversation)
    assert "nothing you can still read" in page and "Bob&#x27;s garden" not in page


def test_the_start_page_keeps_the_whole_list_beside_the_question_form(alice_client, alice, bob):
    services.conversation_create(owner=alice, chat_type="answer", title="Roses")
    services.conversation_create(owner=bob, chat_type="answer", title="Bob's bicycle")
    page = alice_client.get(reverse("conversations:list")).content.decode()
    side = re.search(r'<section class="side-list card" id="conversations".*?</section>', page, re.S).group(0)
    assert page.index('class="ask"') < page.index('class="side-list')  # after the form in the page
    assert ">Roses</a>" in side and "Bob" not in side and 'role="search"' in side
