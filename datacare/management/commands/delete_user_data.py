from django.core.management.base import BaseCommand

from datacare import services
from ragchat.commands import user_named


class Command(BaseCommand):
    help = (
        "Delete everything stored about one user: their conversations, messages and message sources, "
        "their personal collection (“My documents”) with its documents and passages and, unless "
        "--keep-account, the account itself (with what cascades from it, such as their memberships and "
        "admin log entries of actions the user took as staff). All in one transaction. Collections they "
        "own that others may read stay, owned by nobody (staff manage them). Other users' data, and "
        "staff actions recorded about this user's messages, are kept. Consider export_user_data first."
    )

    def add_arguments(self, parser):
        parser.add_argument("username", help="The user whose data to delete.")
        parser.add_argument("--keep-account", action="store_true", help="Delete the data but keep the account.")
        parser.add_argument("--dry-run", action="store_true", help="Only print what would be deleted.")

    def handle(self, *args, username: str, keep_account: bool, dry_run: bool, **options):
        user = user_named(username)
        counts = services.user_data_delete(user=user, keep_account=keep_account, dry_run=dry_run)
        if dry_run:
            self.stdout.write(f"Dry run: would delete {counts} of {username!r}; nothing was changed.")
        else:
            self.stdout.write(self.style.SUCCESS(f"Deleted {counts} of {username!r}."))
