"""A real OpenID Connect provider for the single sign-on tests: a tiny Django project with
django-oauth-toolkit, run as a process of its own (accounts/tests/oidc_server.py starts it).

Its database is a PostgreSQL database of its own on the test server, and its RS256 signing key is
made by the test run; both come in through the environment.
"""

import json
import os

SECRET_KEY = "oidc-test-provider-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oauth2_provider",
    "accounts.tests.oidc_provider",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "accounts.tests.oidc_provider.urls"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]
DATABASES = {"default": json.loads(os.environ["OIDC_PROVIDER_DATABASE"])}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
LOGIN_URL = "/login/"
# ragchat is on another host name (localhost), but cookies ignore ports: names of its own anyway.
SESSION_COOKIE_NAME = "provider_session"
CSRF_COOKIE_NAME = "provider_csrftoken"

OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": os.environ["OIDC_PROVIDER_KEY"],
    "OAUTH2_VALIDATOR_CLASS": "accounts.tests.oidc_provider.validator.GroupsValidator",
    "SCOPES": {
        "openid": "Sign in",
        "email": "Your e-mail address",
        "profile": "Your name",
        "groups": "Your groups",
    },
    # Sign-out asked by the client with the ID token: no confirmation page, back to the client.
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
}
