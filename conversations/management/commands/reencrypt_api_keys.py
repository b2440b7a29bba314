from django.core.management.base import BaseCommand

from conversations import crypto
from conversations.models import ChatModelConfig


class Command(BaseCommand):
    help = (
        "Re-encrypt the stored API keys of chat model configurations with the current key (the "
        "first of FIELD_ENCRYPTION_KEY, else SECRET_KEY), after putting a new key first. Run it "
        "before removing an old key. Keys that no longer decrypt are named, to be entered again."
    )

    def handle(self, *args, **options):
        rotated, unreadable = 0, []
        for config in ChatModelConfig.objects.exclude(api_key_encrypted=""):
            try:
                config.api_key_encrypted = crypto.rotate(config.api_key_encrypted)
            except ValueError:
                unreadable.append(config.name)
                continue
            config.save(update_fields=["api_key_encrypted"])
            rotated += 1
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {rotated} stored API key(s)."))
        if unreadable:
            self.stdout.write(
                self.style.WARNING(f"Cannot decrypt, enter again in the admin: {', '.join(sorted(unreadable))}")
            )
