from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from datacare import services
from ragchat.commands import user_named


class Command(BaseCommand):
    help = (
        "Export everything stored about one user as JSON: account fields (never the password hash), "
        "every conversation and every message with its sources and feedback, including messages a "
        "moderator has hidden or flagged; their personal collection (“My documents”) with its documents "
        "(path, title, size and type, dates; not their text), the other collections they own and their "
        "memberships. Writes to stdout, or to --output; the summary goes to stderr."
    )

    def add_arguments(self, parser):
        parser.add_argument("username", help="The user whose data to export.")
        parser.add_argument("--output", type=Path, help="Write the JSON to this file instead of stdout.")
        parser.add_argument("--dry-run", action="store_true", help="Only print what would be exported.")

    def handle(self, *args, username: str, output: Path | None, dry_run: bool, **options):
        user = user_named(username)
        if dry_run:
            counts = services.user_data_count(user=user)
            self.stdout.write(f"Dry run: would export {counts} of {username!r}.")
            return
        if output and not output.parent.is_dir():
            raise CommandError(f"No such folder: {output.parent}")

        data = services.user_data_export(user=user)
        text = services.user_data_to_json(data)
        if output:
            output.write_text(text + "\n", encoding="utf-8")
        else:
            self.stdout.write(text)
        counts = services.user_data_count(user=user)
        destination = f" to {output}" if output else ""
        self.stderr.write(self.style.SUCCESS(f"Exported {counts} of {username!r}{destination}."))
