from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from datacare import services


class Command(BaseCommand):
    help = (
        "Delete every user's conversations, with their messages, that have not been updated for DAYS "
        "days. Without --older-than it uses the CONVERSATION_RETENTION_DAYS setting and refuses to run "
        "when that is 0 (keep forever). To enforce the retention period, have a scheduler run it daily, "
        "e.g. the cron line: 30 3 * * * cd /srv/ragchat && .venv/bin/python manage.py purge_conversations "
        "(or a systemd timer)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than", type=int, metavar="DAYS", help="Age in days (default: CONVERSATION_RETENTION_DAYS)."
        )
        parser.add_argument("--dry-run", action="store_true", help="Only print what would be deleted.")

    def handle(self, *args, older_than: int | None, dry_run: bool, **options):
        if older_than is None:
            older_than = settings.CONVERSATION_RETENTION_DAYS
            if older_than == 0:
                raise CommandError(
                    "CONVERSATION_RETENTION_DAYS is 0 (keep conversations forever): nothing to purge. "
                    "Set it, or pass --older-than DAYS."
                )
        if older_than < 1:
            raise CommandError(f"DAYS must be at least 1, not {older_than}.")
        counts = services.conversations_purge(older_than_days=older_than, dry_run=dry_run)
        if dry_run:
            self.stdout.write(f"Dry run: would delete {counts} older than {older_than} days; nothing was changed.")
        else:
            self.stdout.write(self.style.SUCCESS(f"Deleted {counts} older than {older_than} days."))
