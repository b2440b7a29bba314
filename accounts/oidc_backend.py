"""Signing in with the organisation's OpenID Connect provider: mozilla-django-oidc's authentication
backend, changed where ragchat needs it.

- Users are found by the provider's ``sub`` (accounts/services.py), never by e-mail address.
- Endpoints are read when a sign-in needs them (accounts/oidc.py), not when the backend is made:
  Django makes every backend for every log-in, password ones included.
- The ID token must be for this client and, when OIDC_ISSUER is set, from that issuer; an expired
  or altered token is refused like a bad signature (SuspiciousOperation: the callback's error page).
- Nobody is signed in, and no session from an earlier sign-in counts, while OIDC_ENABLED is off;
  inactive users are refused on every request, as Django's ModelBackend does.
"""

import jwt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import SuspiciousOperation
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from accounts import oidc
from accounts.services import oidc_user_sign_in


class OidcBackend(OIDCAuthenticationBackend):
    OIDC_OP_TOKEN_ENDPOINT = property(lambda self: oidc.endpoint("token_endpoint"))
    OIDC_OP_USER_ENDPOINT = property(lambda self: oidc.endpoint("userinfo_endpoint"))
    OIDC_OP_JWKS_ENDPOINT = property(lambda self: oidc.endpoint("jwks_uri"))
    OIDC_RP_CLIENT_ID = property(lambda self: settings.OIDC_RP_CLIENT_ID)
    OIDC_RP_CLIENT_SECRET = property(lambda self: settings.OIDC_RP_CLIENT_SECRET)
    OIDC_RP_SIGN_ALGO = property(lambda self: settings.OIDC_RP_SIGN_ALGO)
    OIDC_RP_IDP_SIGN_KEY = None  # keys come from the provider's JWKS endpoint

    def __init__(self, *args, **kwargs):
        # Not the library's __init__, which reads (here: would discover) every endpoint.
        self.UserModel = get_user_model()

    def authenticate(self, request, nonce=None, **kwargs):
        # Only the callback view passes the nonce of a sign-in it started; a password log-in whose
        # URL happens to carry ?code=&state= must not be taken for one.
        if not settings.OIDC_ENABLED or nonce is None:
            return None
        return super().authenticate(request, nonce=nonce, **kwargs)

    def verify_token(self, token, **kwargs):
        try:
            payload = super().verify_token(token, **kwargs)
        except jwt.InvalidTokenError as error:  # expired, not yet valid, malformed
            raise SuspiciousOperation(f"The ID token was refused: {error}") from error
        audience = payload.get("aud")
        audiences = [audience] if isinstance(audience, str) else audience or []
        if settings.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("The ID token is for another client.")
        if settings.OIDC_ISSUER and str(payload.get("iss", "")).rstrip("/") != settings.OIDC_ISSUER:
            raise SuspiciousOperation("The ID token is from another issuer.")
        return payload

    def get_or_create_user(self, access_token, id_token, payload):
        """The user of the verified ID token ``payload``, with the claims of the userinfo endpoint."""
        userinfo = self.get_userinfo(access_token, id_token, payload)
        # OpenID Connect Core 5.3.2: userinfo of another subject must not be used.
        if userinfo.get("sub") != payload.get("sub") or not payload.get("sub"):
            raise SuspiciousOperation("The userinfo answer is about another subject.")
        return oidc_user_sign_in(issuer=payload["iss"], claims={**payload, **userinfo})

    def get_user(self, user_id):
        if not settings.OIDC_ENABLED:
            return None
        return ModelBackend.get_user(self, user_id)
