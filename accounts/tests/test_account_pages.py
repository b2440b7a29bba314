from django.urls import reverse


def test_login_page_logs_in(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": "pw-alice"})
    assert response.status_code == 302 and response.url == reverse("conversations:list")


def test_password_change(client, alice):
    client.force_login(alice)
    response = client.post(
        reverse("password_change"),
        {"old_password": "pw-alice", "new_password1": "another-long-pass-77", "new_password2": "another-long-pass-77"},
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("another-long-pass-77")


def test_staff_see_the_admin_link_and_others_do_not(client, alice, bob):
    bob.is_staff = True
    bob.save()
    client.force_login(alice)
    assert "/admin/" not in client.get(reverse("conversations:list")).content.decode()
    client.force_login(bob)
    assert 'href="/admin/">Admin</a>' in client.get(reverse("conversations:list")).content.decode()


def test_logout(client, alice):
    client.force_login(alice)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("conversations:list")).status_code == 302
