"""Sign-in settings: local accounts and single sign-on with an OpenID Connect provider (README,
"Single sign-on"). Read from the environment like the rest, in a file of their own so that
settings.py stays under the 400 lines every module keeps to; settings.py imports them.

The provider's endpoints are never fetched here: with OIDC_ISSUER alone they are discovered at the
first sign-in (accounts/oidc.py), so a provider that is down cannot stop the site from starting.
"""

import environ
from django.core.exceptions import ImproperlyConfigured

env = environ.Env()

# Either way of signing in can be switched off, not both: someone must be able to sign in.
LOCAL_LOGIN_ENABLED = env.bool("LOCAL_LOGIN_ENABLED", default=True)
OIDC_ENABLED = env.bool("OIDC_ENABLED", default=False)
# Shown on the login page's button: "Sign in with <name>".
OIDC_PROVIDER_NAME = env("OIDC_PROVIDER_NAME", default="your organisation")
# The provider's issuer URL: its endpoints are read from <issuer>/.well-known/openid-configuration
# at the first sign-in (and again after OIDC_DISCOVERY_CACHE_SECONDS). Each endpoint below, when
# set, is used as given instead. ID tokens must name this issuer when it is set.
OIDC_ISSUER = env("OIDC_ISSUER", default="").rstrip("/")
OIDC_DISCOVERY_CACHE_SECONDS = env.int("OIDC_DISCOVERY_CACHE_SECONDS", default=3600)
OIDC_OP_AUTHORIZATION_ENDPOINT = env("OIDC_OP_AUTHORIZATION_ENDPOINT", default="")
OIDC_OP_TOKEN_ENDPOINT = env("OIDC_OP_TOKEN_ENDPOINT", default="")
OIDC_OP_USER_ENDPOINT = env("OIDC_OP_USER_ENDPOINT", default="")
OIDC_OP_JWKS_ENDPOINT = env("OIDC_OP_JWKS_ENDPOINT", default="")
OIDC_OP_LOGOUT_ENDPOINT = env("OIDC_OP_LOGOUT_ENDPOINT", default="")
# Sign out at the provider too when signing out of ragchat (its end-session endpoint, if it has one).
OIDC_LOGOUT_AT_PROVIDER = env.bool("OIDC_LOGOUT_AT_PROVIDER", default=True)
# The client registered at the provider; the secret comes from the environment only.
OIDC_RP_CLIENT_ID = env("OIDC_RP_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env("OIDC_RP_CLIENT_SECRET", default="")
OIDC_RP_SIGN_ALGO = env("OIDC_RP_SIGN_ALGO", default="RS256")
# How the client proves itself at the token endpoint: the secret in the form (client_secret_post),
# or true for HTTP Basic (client_secret_basic), which some providers (Okta's default) require.
OIDC_TOKEN_USE_BASIC_AUTH = env.bool("OIDC_TOKEN_USE_BASIC_AUTH", default=False)
# Add the scope that releases the groups claim if the provider has one (often "groups").
OIDC_RP_SCOPES = env("OIDC_RP_SCOPES", default="openid email profile")
# Seconds to wait for the provider on each server-to-server call.
OIDC_TIMEOUT = env.float("OIDC_TIMEOUT", default=10.0)
# The claim that lists the user's groups, and how its values become Django groups:
# "provider-group=django-group,..." (only those listed count; missing Django groups are created),
# or empty: each provider group joins the Django group of the same name, if staff created one.
OIDC_GROUPS_CLAIM = env("OIDC_GROUPS_CLAIM", default="groups")
OIDC_GROUPS_MAP = env.dict("OIDC_GROUPS_MAP", default={})
# mozilla-django-oidc's own switches, fixed: PKCE on every sign-in, and the ID token kept in the
# session for the provider's sign-out (its id_token_hint).
OIDC_USE_PKCE = True
OIDC_STORE_ID_TOKEN = True

if not (LOCAL_LOGIN_ENABLED or OIDC_ENABLED):
    raise ImproperlyConfigured("LOCAL_LOGIN_ENABLED and OIDC_ENABLED are both off: nobody could sign in.")
if OIDC_ENABLED and not (OIDC_RP_CLIENT_ID and OIDC_RP_CLIENT_SECRET):
    raise ImproperlyConfigured("OIDC_ENABLED needs OIDC_RP_CLIENT_ID and OIDC_RP_CLIENT_SECRET.")
if (
    OIDC_ENABLED
    and not OIDC_ISSUER
    and not all((OIDC_OP_AUTHORIZATION_ENDPOINT, OIDC_OP_TOKEN_ENDPOINT, OIDC_OP_USER_ENDPOINT, OIDC_OP_JWKS_ENDPOINT))
):
    raise ImproperlyConfigured(
        "OIDC_ENABLED needs OIDC_ISSUER (endpoints discovered at the first sign-in) or all four of "
        "OIDC_OP_AUTHORIZATION_ENDPOINT, OIDC_OP_TOKEN_ENDPOINT, OIDC_OP_USER_ENDPOINT and OIDC_OP_JWKS_ENDPOINT."
    )

# What settings.py takes with its star import: the settings, not this module's `env` and imports.
__all__ = [name for name in dir() if name.isupper()]
