"""Login throttling: after too many failed log-ins for a user name from one address, refuse more
attempts for a while, with a message that says so.

Failures are counted from Django's ``user_login_failed`` signal, so every login form (the site's
and the admin's) counts them; both forms check the count before trying the password.
"""

import hashlib

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from ragchat.proxies import client_ip
from ragchat.ratelimit import RateLimit


def login_failures() -> RateLimit:
    return RateLimit("login", settings.LOGIN_FAILURE_LIMIT, settings.LOGIN_FAILURE_WINDOW_SECONDS)


def throttle_key(request, username: str) -> str:
    # Hashed: user names may hold characters some cache backends refuse in keys.
    raw = f"{client_ip(request)}\n{username.strip().casefold()}"
    return hashlib.sha256(raw.encode()).hexdigest()


def count_failure(sender, credentials: dict, request=None, **kwargs) -> None:
    if request is not None:
        login_failures().hit(throttle_key(request, credentials.get("username", "")))


class ThrottledLoginMixin:
    """Refuse to check the password while this user name and address are over the limit."""

    def clean(self):
        limit = login_failures()
        username = self.data.get("username", "")
        if self.request is not None and limit.exceeded(throttle_key(self.request, username)):
            minutes = max(1, round(limit.retry_after() / 60))
            raise forms.ValidationError(
                "Too many failed log-ins for this user name. Please wait %(minutes)s minute(s) and try again.",
                code="throttled",
                params={"minutes": minutes},
            )
        return super().clean()


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass
