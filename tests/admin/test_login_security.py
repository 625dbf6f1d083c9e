"""The ops console sign-in: brute force throttled per username from an address
and per address without telling which accounts exist; a password change ends the
account's other sessions and keeps the changer's own."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops(django_user_model):
    return django_user_model.objects.create_superuser("ops", "ops@example.com", "right-horse-battery")


def sign_in(client, username, password, address="198.51.100.7"):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password}, REMOTE_ADDR=address)


def test_five_wrong_passwords_pause_the_account_even_for_the_right_password(ops, settings):
    client = Client()
    for _ in range(settings.LOGIN_FAILURES_PER_USERNAME):
        response = sign_in(client, "ops", "guess")
        assert response.status_code == 200 and "correct username and password" in response.text
    response = sign_in(client, "ops", "right-horse-battery")
    assert response.status_code == 200 and "Too many failed sign-in attempts" in response.text
    assert "_auth_user_id" not in client.session
    # Only from this address: the owner elsewhere is not locked out (test_client_address.py).
    print(
        f"\nsign-in paused after {settings.LOGIN_FAILURES_PER_USERNAME} failures for {settings.LOGIN_THROTTLE_SECONDS} s"
    )


def test_an_unknown_username_is_throttled_exactly_like_a_real_one(ops, settings):
    answers = {}
    for username in ["ops", "nobody-here"]:
        client = Client()
        texts = [
            sign_in(client, username, "guess", address=f"192.0.2.{len(answers) + 1}").text
            for _ in range(settings.LOGIN_FAILURES_PER_USERNAME + 1)
        ]
        answers[username] = ["Too many failed" in text for text in texts]
    assert answers["ops"] == answers["nobody-here"] == [False] * settings.LOGIN_FAILURES_PER_USERNAME + [True]


def test_one_address_trying_many_usernames_is_paused(ops, settings):
    client = Client()
    for n in range(settings.LOGIN_FAILURES_PER_ADDRESS):
        sign_in(client, f"user{n}", "guess")
    response = sign_in(client, "ops", "right-horse-battery")
    assert "Too many failed sign-in attempts" in response.text
    # Another address is not affected.
    response = sign_in(Client(), "ops", "right-horse-battery", address="203.0.113.10")
    assert response.status_code == 302


def test_a_successful_sign_in_clears_the_username_count(ops, settings):
    client = Client()
    for _ in range(settings.LOGIN_FAILURES_PER_USERNAME - 1):
        sign_in(client, "ops", "guess")
    assert sign_in(client, "ops", "right-horse-battery").status_code == 302
    client.logout()
    for _ in range(settings.LOGIN_FAILURES_PER_USERNAME - 1):
        sign_in(client, "ops", "guess")
    assert sign_in(client, "ops", "right-horse-battery").status_code == 302


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(ops):
    laptop, phone = Client(), Client()
    assert sign_in(laptop, "ops", "right-horse-battery").status_code == 302
    assert sign_in(phone, "ops", "right-horse-battery", address="203.0.113.11").status_code == 302
    assert phone.get("/admin/").status_code == 200
    response = laptop.post(
        "/admin/password_change/",
        {
            "old_password": "right-horse-battery",
            "new_password1": "a-new-long-passphrase-42",
            "new_password2": "a-new-long-passphrase-42",
        },
    )
    assert response.status_code == 302, response.content[:500]
    assert laptop.get("/admin/").status_code == 200  # update_session_auth_hash kept it
    response = phone.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
