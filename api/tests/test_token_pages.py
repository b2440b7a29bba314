import re

import pytest
from django.urls import reverse

from api.models import ApiToken
from api.tokens import token_create, token_user

RAW = re.compile(r"rc_[A-Za-z0-9_-]{40,}")


def test_the_nav_links_to_the_tokens_page(alice_client):
    page = alice_client.get(reverse("documents:list")).content.decode()
    assert reverse("tokens:list") in page


def test_a_token_made_on_the_page_is_shown_once_and_works(alice_client, alice):
    response = alice_client.post(reverse("tokens:list"), {"name": "laptop", "expires_in_days": "30"})

    assert response.status_code == 201
    [raw] = RAW.findall(response.content.decode())
    assert token_user(raw) == alice
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    listing = alice_client.get(reverse("tokens:list")).content.decode()
    assert "laptop" in listing and raw[:10] in listing and raw not in listing


def test_the_list_shows_last_use_and_only_the_users_tokens(alice_client, alice, bob):
    token_create(user=bob, name="bobs-secret-script")
    mine, raw = token_create(user=alice, name="notebook")
    assert "never" in alice_client.get(reverse("tokens:list")).content.decode()
    token_user(raw)
    page = alice_client.get(reverse("tokens:list")).content.decode()
    assert "notebook" in page and "bobs-secret-script" not in page
    assert ApiToken.objects.get(pk=mine.pk).last_used_at.strftime("%Y-%m-%d %H:%M") in page


@pytest.mark.parametrize(
    "form, error",
    [
        ({"name": ""}, "This field is required."),
        ({"name": "laptop", "expires_in_days": "0"}, "greater than or equal to 1"),
        ({"name": "x" * 101}, "at most 100 characters"),
        ({"name": "taken"}, "You already have a token called “taken”"),
    ],
    ids=["no name", "zero days", "long name", "taken name"],
)
def test_a_bad_form_says_why_and_makes_nothing(alice_client, alice, form, error):
    token_create(user=alice, name="taken")
    response = alice_client.post(reverse("tokens:list"), form)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert ApiToken.objects.count() == 1 and not RAW.search(response.content.decode())


def test_revoking_stops_the_token_and_takes_it_off_the_list(alice_client, alice):
    token, raw = token_create(user=alice, name="old-laptop")
    response = alice_client.post(reverse("tokens:revoke", args=[token.pk]), follow=True)
    assert "no longer works" in response.content.decode()
    assert token_user(raw) is None
    assert "old-laptop" not in alice_client.get(reverse("tokens:list")).content.decode()


def test_another_users_token_is_404_and_keeps_working(alice_client, bob):
    token, raw = token_create(user=bob, name="laptop")
    assert alice_client.post(reverse("tokens:revoke", args=[token.pk])).status_code == 404
    assert token_user(raw) == bob


def test_revoking_needs_post_with_csrf(client, alice):
    token, raw = token_create(user=alice, name="laptop")
    client.force_login(alice)
    assert client.get(reverse("tokens:revoke", args=[token.pk])).status_code == 405
    client.handler.enforce_csrf_checks = True
    assert client.post(reverse("tokens:revoke", args=[token.pk])).status_code == 403
    assert token_user(raw) == alice
