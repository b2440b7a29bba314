"""Who calls the API: a bearer token (scripts), or the browser's session with its CSRF token (the docs
page's "Try it out"). Cookies are sent by the browser on its own, so a session request that changes
something must carry the CSRF token: django-ninja's session auth checks it; a bearer token is never
sent by a browser unasked, so it needs none."""

from django.http import HttpRequest
from ninja.security import HttpBearer, django_auth

from api.tokens import token_user


class TokenAuth(HttpBearer):
    def __call__(self, request: HttpRequest):
        # Not HttpBearer.__call__: in DEBUG it logs an unexpected Authorization header whole, token and all.
        scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            return None
        return self.authenticate(request, raw.strip())

    def authenticate(self, request: HttpRequest, token: str):
        user = token_user(token)
        if user is not None:
            # The token's user is the request's user: the same reads, permissions and limits as the pages,
            # and the request log's user id (ragchat.requestlog reads the cached user).
            request.user = request._cached_user = user
        return user


AUTH = [TokenAuth(), django_auth]
