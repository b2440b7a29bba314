from django.contrib import admin

from accounts.models import OidcIdentity


@admin.register(OidcIdentity)
class OidcIdentityAdmin(admin.ModelAdmin):
    """Who signs in with the provider as whom. Adding a row joins an existing (local) account to a
    provider identity: its next single sign-on then signs in as that account (README, "Single sign-on")."""

    list_display = ["subject", "user", "issuer", "last_sign_in_at"]
    list_select_related = ["user"]
    search_fields = ["subject", "user__username", "user__email"]
    raw_id_fields = ["user"]
    readonly_fields = ["groups", "created_at", "last_sign_in_at"]
