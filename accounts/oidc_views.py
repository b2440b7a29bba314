"""The two steps of a sign-in with the provider: mozilla-django-oidc's views (they keep the state,
nonce and PKCE verifier in the session and check them), behind OIDC_ENABLED, with every way it can
fail answered by a page that says what happened instead of a bare 400 or 500.

Class-based because they extend the library's views; the flow itself stays the library's.
"""

import logging

import requests
from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.generic import View
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from accounts import oidc

log = logging.getLogger(__name__)

NOT_CONFIRMED = (
    "ragchat could not confirm this sign-in with {provider}: its answer was out of date, had been used "
    "already, or was altered on the way. You are not signed in. Please sign in again."
)
UNREACHABLE = "{provider} cannot be reached right now, so ragchat cannot sign you in with it. Please try again later."
NOT_SIGNED_IN = (
    "{provider} did not sign you in, or your ragchat account is switched off. Please sign in again; "
    "if this keeps happening, ask your administrator."
)


def sign_in_failed(request: HttpRequest, message: str, *, status: int) -> HttpResponse:
    context = {"message": message.format(provider=settings.OIDC_PROVIDER_NAME)}
    return render(request, "registration/sso_failed.html", context, status=status)


class SignInStart(OIDCAuthenticationRequestView):
    """Send the browser to the provider's authorization endpoint, with a new state, nonce and PKCE challenge."""

    def __init__(self, **kwargs):
        # Not the library's __init__, which reads the endpoint: it is read (or discovered) per sign-in.
        View.__init__(self, **kwargs)
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID

    def get(self, request: HttpRequest) -> HttpResponse:
        if not settings.OIDC_ENABLED:
            raise Http404("Single sign-on is switched off on this site.")
        try:
            self.OIDC_OP_AUTH_ENDPOINT = oidc.endpoint("authorization_endpoint")
        except oidc.ProviderUnavailable:
            return sign_in_failed(request, UNREACHABLE, status=503)
        return super().get(request)


class SignInCallback(OIDCAuthenticationCallbackView):
    """Where the provider sends the browser back: check the state, trade the code for tokens, sign in."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if not settings.OIDC_ENABLED:
            raise Http404("Single sign-on is switched off on this site.")
        try:
            return super().get(request)
        except SuspiciousOperation as error:  # unknown state, bad signature, wrong audience...
            log.warning("Single sign-on refused: %s", error)
            return sign_in_failed(request, NOT_CONFIRMED, status=400)
        except (oidc.ProviderUnavailable, requests.ConnectionError, requests.Timeout) as error:
            log.warning("Single sign-on: the provider did not answer: %s", error)
            return sign_in_failed(request, UNREACHABLE, status=502)
        except requests.RequestException as error:  # the token endpoint refused the code
            log.warning("Single sign-on: the provider refused: %s", error)
            return sign_in_failed(request, NOT_CONFIRMED, status=400)

    def login_failure(self) -> HttpResponse:
        # The provider answered with an error (the person cancelled, or may not use this client), the
        # session lost the sign-in it started, or the account is inactive.
        return sign_in_failed(self.request, NOT_SIGNED_IN, status=403)
