import math

from django import forms
from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import UserCreationForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.throttle import LoginForm
from ragchat.proxies import client_ip
from ragchat.ratelimit import RateLimit

SIGNUP_WINDOW_SECONDS = 3600


class LoginView(auth_views.LoginView):
    """Django's login, throttled: too many failures answer 429 with a message saying so."""

    form_class = LoginForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.has_error("__all__", code="throttled"):
            response.status_code = 429
        return response


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """Self-service accounts, only when ALLOW_SIGNUP is on, and only a few per address per hour."""
    if not settings.ALLOW_SIGNUP:
        raise Http404("Sign-up is switched off on this site.")
    form = UserCreationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if _too_many_sign_ups(request, form):
            return render(request, "registration/signup.html", {"form": form}, status=429)
        login(request, form.save(), backend="django.contrib.auth.backends.ModelBackend")
        return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "registration/signup.html", {"form": form})


def _too_many_sign_ups(request: HttpRequest, form: UserCreationForm) -> bool:
    """Count this sign-up against its address; if over the limit, the form says until when."""
    decision = RateLimit("signup", settings.SIGNUP_RATE_LIMIT, SIGNUP_WINDOW_SECONDS).consume(client_ip(request))
    if decision.allowed:
        return False
    form.add_error(
        None,
        forms.ValidationError(
            "Too many sign-ups from your address. Please wait %(minutes)s minute(s) and try again.",
            code="rate_limited",
            params={"minutes": max(1, math.ceil(decision.retry_after / 60))},
        ),
    )
    return True


def signup_enabled(request: HttpRequest) -> dict:
    """Template context: whether to offer the sign-up link."""
    return {"signup_enabled": settings.ALLOW_SIGNUP}
