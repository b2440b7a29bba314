"""The single sign-on tests' provider, shared by their modules: started once per run, when first needed."""

import pytest
from django.urls import reverse

from accounts.tests.oidc_server import CLIENT_ID, CLIENT_SECRET, OidcProvider


@pytest.fixture(scope="session")
def provider(live_server, django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock():
        provider = OidcProvider(tmp_path_factory.mktemp("oidc"))
    provider.client(redirect_uri=live_server.url + "/oidc/callback/", logout_uri=live_server.url + reverse("login"))
    yield provider
    provider.stop()


@pytest.fixture
def sso(settings, provider):
    """ragchat trusting the provider: only its issuer configured, the endpoints discovered."""
    settings.OIDC_ENABLED = True
    settings.OIDC_PROVIDER_NAME = "Example SSO"
    settings.OIDC_ISSUER = provider.issuer
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_RP_SCOPES = "openid email profile groups"
    settings.OIDC_GROUPS_MAP = {"finance-team": "accounting", "everyone": "staff-all"}
    # The client speaks plain HTTP to the live server, where no client sends a Secure cookie back.
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    return provider
