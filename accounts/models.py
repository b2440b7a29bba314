from django.conf import settings
from django.db import models


class OidcIdentity(models.Model):
    """A user's identity at an OpenID Connect provider: the provider's ``sub`` for them, which is
    what single sign-on matches on. Never the e-mail address: whoever controls an address at the
    provider would otherwise take over the local account that has it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oidc_identities")
    issuer = models.CharField(max_length=500, help_text="The provider's issuer URL (or its client id, if unset).")
    subject = models.CharField(max_length=255, help_text="The provider's `sub` claim: stable, never reassigned.")
    groups = models.JSONField(
        default=list,
        blank=True,
        help_text="The Django groups the last sign-in gave; the next sign-in removes only these if they went.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_sign_in_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["issuer", "subject"]
        verbose_name = "single sign-on identity"
        verbose_name_plural = "single sign-on identities"
        constraints = [
            # Each sign-in finds its user by (issuer, subject): one user per identity.
            models.UniqueConstraint(fields=["issuer", "subject"], name="oidc_identity_unique_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer}"
