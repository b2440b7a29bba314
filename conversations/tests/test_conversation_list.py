"""The conversation list (views.conversation_list): the user's own conversations, newest first,
searched and paginated."""

from django.urls import reverse

from conftest import ask
from conversations import services


def test_the_list_requires_login(client, db):
    response = client.get(reverse("conversations:list"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_the_list_shows_nothing_of_another_users_conversations(client, bob, alices_message):
    client.force_login(bob)
    page = client.get(reverse("conversations:list")).content.decode()
    assert "When to prune roses?" not in page
    assert reverse("conversations:detail", args=[alices_message.conversation_id]) not in page


def test_the_list_is_never_cached(alice_client, knowledge_base):
    ask(alice_client, "When to prune roses?")  # the page has a question form
    assert "no-store" in alice_client.get(reverse("conversations:list"))["Cache-Control"]


def test_search_finds_conversations_by_title_and_question(alice_client, alice, alices_message):
    services.conversation_create(owner=alice, chat_type="answer", title="Kettle care")
    page = alice_client.get(reverse("conversations:list"), {"q": "prune"}).content.decode()
    assert "Roses" in page and "Kettle care" not in page
    page = alice_client.get(reverse("conversations:list"), {"q": "kettle"}).content.decode()
    assert "Kettle care" in page and ">Roses<" not in page
    page = alice_client.get(reverse("conversations:list"), {"q": "nothing like this"}).content.decode()
    assert "No conversation matches" in page


def test_the_list_is_newest_first_and_paginated(alice_client, alice):
    for number in range(25):
        services.conversation_create(owner=alice, chat_type="answer", title=f"Topic {number:02d}")
    first_page = alice_client.get(reverse("conversations:list")).content.decode()
    assert first_page.index("Topic 24") < first_page.index("Topic 23")
    assert "Topic 04" not in first_page and "Page 1 of 2" in first_page
    second_page = alice_client.get(reverse("conversations:list"), {"page": 2}).content.decode()
    assert "Topic 04" in second_page and "Topic 24" not in second_page
