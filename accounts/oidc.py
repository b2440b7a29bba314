"""The OpenID Connect provider as ragchat sees it: its endpoints, and how its groups become Django groups.

Endpoints set in the settings are used as given; the others are read from the issuer's discovery
document the first time a sign-in needs one, and kept in Django's cache for
OIDC_DISCOVERY_CACHE_SECONDS. Nothing here runs at startup, so a provider that is down makes sign-in
with it fail with a page that says so, never the site.
"""

import logging
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.shortcuts import resolve_url

log = logging.getLogger(__name__)

# Discovery document field -> the setting that overrides it.
ENDPOINT_SETTINGS = {
    "authorization_endpoint": "OIDC_OP_AUTHORIZATION_ENDPOINT",
    "token_endpoint": "OIDC_OP_TOKEN_ENDPOINT",
    "userinfo_endpoint": "OIDC_OP_USER_ENDPOINT",
    "jwks_uri": "OIDC_OP_JWKS_ENDPOINT",
    "end_session_endpoint": "OIDC_OP_LOGOUT_ENDPOINT",
}


class ProviderUnavailable(Exception):
    """The provider's discovery document could not be read (down, unreachable, or not a provider)."""


def endpoint(name: str) -> str:
    """The provider's endpoint ``name`` (a discovery field, e.g. "token_endpoint"); "" if it has none."""
    configured = getattr(settings, ENDPOINT_SETTINGS[name])
    if configured or not settings.OIDC_ISSUER:
        return configured
    return discovery().get(name, "")


def discovery() -> dict:
    """The issuer's discovery document, from the cache or fetched now."""
    url = settings.OIDC_ISSUER + "/.well-known/openid-configuration"
    key = "oidc-discovery:" + url
    document = cache.get(key)
    if document is None:
        document = _fetch_discovery(url)
        cache.set(key, document, settings.OIDC_DISCOVERY_CACHE_SECONDS)
    return document


def _fetch_discovery(url: str) -> dict:
    try:
        response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as error:
        log.warning("OpenID Connect discovery failed at %s: %s", url, error)
        raise ProviderUnavailable(url) from error
    # A document naming another issuer would let that issuer's tokens in (OpenID Connect Discovery 4.3).
    if not isinstance(document, dict) or document.get("issuer", "").rstrip("/") != settings.OIDC_ISSUER:
        log.warning("The discovery document at %s does not name the issuer %s", url, settings.OIDC_ISSUER)
        raise ProviderUnavailable(url)
    return document


def mapped_groups(claims: dict) -> set[str]:
    """The Django groups the user belongs to according to the provider's groups claim.

    With OIDC_GROUPS_MAP, only the provider groups it lists count, each as the Django group it names;
    without it, each provider group is taken by name (the caller keeps only groups that exist).
    """
    value = claims.get(settings.OIDC_GROUPS_CLAIM) or []
    provider_groups = {value} if isinstance(value, str) else {str(group) for group in value}
    if not settings.OIDC_GROUPS_MAP:
        return provider_groups
    return {settings.OIDC_GROUPS_MAP[group] for group in provider_groups if group in settings.OIDC_GROUPS_MAP}


def provider_logout_url(request: HttpRequest) -> str:
    """Where to send someone signing out so the provider ends its session too; "" when it cannot.

    Needs the ID token of their sign-in (kept in the session) and an end-session endpoint.
    """
    id_token = request.session.get("oidc_id_token")
    if not (settings.OIDC_ENABLED and settings.OIDC_LOGOUT_AT_PROVIDER and id_token):
        return ""
    try:
        end_session = endpoint("end_session_endpoint")
    except ProviderUnavailable:
        return ""  # signing out of ragchat must not wait for the provider
    if not end_session:
        return ""
    query = {
        "id_token_hint": id_token,
        "client_id": settings.OIDC_RP_CLIENT_ID,
        "post_logout_redirect_uri": request.build_absolute_uri(resolve_url(settings.LOGOUT_REDIRECT_URL)),
    }
    return f"{end_session}?{urlencode(query)}"
