from django.urls import reverse

from api.tokens import token_create, token_user


def test_staff_see_tokens_but_never_the_raw_token_or_its_hash(staff_client, alice):
    token, raw = token_create(user=alice, name="laptop")
    for url in [reverse("admin:api_apitoken_changelist"), reverse("admin:api_apitoken_change", args=[token.pk])]:
        page = staff_client.get(url).content.decode()
        assert "laptop" in page and raw not in page and token.token_hash not in page


def test_staff_cannot_make_a_token_in_the_admin(staff_client):
    assert staff_client.get(reverse("admin:api_apitoken_add")).status_code == 403


def test_staff_revoke_any_users_token(staff_client, alice):
    token, raw = token_create(user=alice, name="laptop")
    body = {"action": "revoke", "_selected_action": [token.pk]}
    response = staff_client.post(reverse("admin:api_apitoken_changelist"), body, follow=True)
    assert "Revoked 1 token(s)." in response.content.decode()
    assert token_user(raw) is None
