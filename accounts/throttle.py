"""Login throttling with django-axes: after too many failed log-ins for a user name from one
address, refuse more attempts for a while, with a message that says so.

axes counts failures in its database table from Django's ``user_login_failed`` signal, and its
authentication backend refuses locked-out attempts before any password is checked, so the site's
login and the admin's are both covered. Counting and checking use the same key, built by
``normalised_username`` and ``ragchat.proxies.client_ip``. The functions here are named by the
AXES_* settings in ragchat/settings.py.
"""

import math
import unicodedata

from axes.models import AccessAttempt
from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.utils import timezone


def normalised_username(request: HttpRequest, credentials: dict | None) -> str:
    """The user name as counted: NFKC (as Django's login form reads it), then case-folded.

    Counting the raw spelling let "ａdmin" (fullwidth a) log in as "admin" without its failures
    ever adding up. Folding case as well costs nothing: other spellings could only fail anyway.
    """
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username).strip().casefold())


def lockout_response(request: HttpRequest, original_response: HttpResponse, credentials: dict | None) -> HttpResponse:
    """The login page as rendered, which shows the form's "too many failed log-ins" error, as 429."""
    original_response.status_code = 429
    return original_response


def minutes_to_wait(request: HttpRequest, username: str) -> int:
    """Whole minutes until this user name and address may try again."""
    name = normalised_username(request, {"username": username})
    attempts = AccessAttempt.objects.filter(username=name, ip_address=request.axes_ip_address)
    last_failure = attempts.aggregate(last=Max("attempt_time"))["last"] or timezone.now()
    seconds = (last_failure + settings.AXES_COOLOFF_TIME - timezone.now()).total_seconds()
    return max(1, math.ceil(seconds / 60))


class ThrottledLoginMixin:
    """Say so when a log-in failed because axes locked this user name and address out."""

    def clean(self):
        try:
            return super().clean()
        except forms.ValidationError:
            if not getattr(self.request, "axes_locked_out", False):
                raise
            raise forms.ValidationError(
                "Too many failed log-ins for this user name. Please wait %(minutes)s minute(s) and try again.",
                code="throttled",
                params={"minutes": minutes_to_wait(self.request, self.cleaned_data.get("username", ""))},
            ) from None


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass
