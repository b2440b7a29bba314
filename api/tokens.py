"""Personal API tokens: made, checked and revoked here; the one way the API and /v1/ know who calls.

A token is ``rc_`` followed by 32 random bytes (URL-safe base64), shown to its owner once. Only its
SHA-256 is stored. A slow password hash (PBKDF2, argon2) protects guessable secrets; 256 random
bits cannot be guessed, so a plain hash is as safe here, and it lets each request find its token
with one indexed lookup instead of trying a salted hash against every row.

Last use is recorded at most once a minute per token (one conditional UPDATE), so a busy script
does not turn every read into a write.
"""

import hashlib
import secrets
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from api.models import ApiToken

PREFIX = "rc_"
HINT_CHARS = 10
# How stale a token's last_used_at may be before a request writes it again.
LAST_USE_PRECISION = timedelta(minutes=1)
_RANDOM_BYTES = 32


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_create(*, user, name: str, expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns it and the raw token, which is never available again."""
    raw = PREFIX + secrets.token_urlsafe(_RANDOM_BYTES)
    token = ApiToken(user=user, name=name.strip(), token_hash=_digest(raw), hint=raw[:HINT_CHARS])
    token.expires_at = expires_at
    token.full_clean()
    token.save()
    return token, raw


def token_revoke(*, token: ApiToken) -> ApiToken:
    """Stop ``token`` working now; the row stays as a record (admin), out of the owner's list."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def token_user(raw: str) -> AbstractBaseUser | None:
    """The active user a live, unexpired token belongs to; None for anything else."""
    if not raw.startswith(PREFIX) or len(raw) > 100:
        return None
    now = timezone.now()
    token = (
        ApiToken.objects.live()
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now), token_hash=_digest(raw), user__is_active=True)
        .select_related("user")
        .first()
    )
    if token is None:
        return None
    if token.last_used_at is None or token.last_used_at < now - LAST_USE_PRECISION:
        stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USE_PRECISION)
        ApiToken.objects.filter(stale, pk=token.pk).update(last_used_at=now)
    return token.user


def bearer_token(request: HttpRequest) -> str:
    """The token of an ``Authorization: Bearer <token>`` header, or ""."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def bearer_user(request: HttpRequest) -> AbstractBaseUser | None:
    """The user of the request's bearer token, or None (no header, or a token that does not work)."""
    raw = bearer_token(request)
    return token_user(raw) if raw else None
