import math

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts.oidc import provider_logout_url
from accounts.throttle import LoginForm
from ragchat.proxies import client_ip
from ragchat.ratelimit import RateLimit

SIGNUP_WINDOW_SECONDS = 3600


LOCAL_LOGIN_OFF = "Log-in with a password is switched off on this site: sign in with {provider}."


class LoginView(auth_views.LoginView):
    """Django's login, throttled: too many failures answer 429 with a message saying so. With
    LOCAL_LOGIN_ENABLED off the page offers single sign-on only, and a password sent anyway is
    refused before it is checked."""

    form_class = LoginForm
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        if settings.LOCAL_LOGIN_ENABLED:
            return super().post(request, *args, **kwargs)
        refusal = LOCAL_LOGIN_OFF.format(provider=settings.OIDC_PROVIDER_NAME)
        return self.render_to_response(self.get_context_data(refused=refusal), status=403)

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.has_error("__all__", code="throttled"):
            response.status_code = 429
        return response


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """Self-service accounts, only when ALLOW_SIGNUP is on, and only a few per address per hour."""
    if not (settings.ALLOW_SIGNUP and settings.LOCAL_LOGIN_ENABLED):
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


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """Sign out of ragchat; after single sign-on, out of the provider too, when it offers that.

    The provider is reached from a page rather than a redirect: the site's Content-Security-Policy
    (form-action 'self') forbids a form's redirect to another site.
    """
    at_provider = provider_logout_url(request)  # before the session, which holds the ID token, ends
    logout(request)
    if not at_provider:
        return redirect(settings.LOGOUT_REDIRECT_URL)
    context = {"provider_logout_url": at_provider, "provider": settings.OIDC_PROVIDER_NAME}
    return render(request, "registration/provider_logout.html", context)


def password_change(request: HttpRequest) -> HttpResponse:
    """Django's password change, for accounts that log in with a password, while that is switched on."""
    if not settings.LOCAL_LOGIN_ENABLED or (request.user.is_authenticated and not request.user.has_usable_password()):
        raise Http404("This account signs in with single sign-on; its password is kept by the provider.")
    return auth_views.PasswordChangeView.as_view()(request)


def admin_login(request: HttpRequest) -> HttpResponse:
    """The admin's log-in form while local log-in is on; otherwise the site's, which offers single sign-on."""
    if settings.LOCAL_LOGIN_ENABLED:
        return admin.site.login(request)
    return redirect_to_login(request.GET.get("next") or reverse("admin:index"))


def sign_in_options(request: HttpRequest) -> dict:
    """Template context: which ways of signing in (and signing up) the pages offer."""
    return {
        "signup_enabled": settings.ALLOW_SIGNUP and settings.LOCAL_LOGIN_ENABLED,
        "local_login_enabled": settings.LOCAL_LOGIN_ENABLED,
        "oidc_enabled": settings.OIDC_ENABLED,
        "oidc_provider_name": settings.OIDC_PROVIDER_NAME,
    }
