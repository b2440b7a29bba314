"""Single sign-on's URLs, at /oidc/. Their names are mozilla-django-oidc's, which it reverses itself;
the redirect URI to register at the provider is the callback's: https://<site>/oidc/callback/."""

from django.urls import path

from accounts import oidc_views

urlpatterns = [
    path("authenticate/", oidc_views.SignInStart.as_view(), name="oidc_authentication_init"),
    path("callback/", oidc_views.SignInCallback.as_view(), name="oidc_authentication_callback"),
]
