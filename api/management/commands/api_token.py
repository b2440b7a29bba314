from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from api.models import ApiToken
from api.tokens import token_create, token_revoke
from ragchat.commands import user_named


class Command(BaseCommand):
    help = (
        "Make or revoke personal API tokens. `api_token create USER --name NAME [--expires DAYS]` prints "
        "the new token on its last line (it is shown only this once); `api_token revoke --id ID` or "
        "`api_token revoke USER --name NAME` stops one working."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="{create,revoke}")
        create = actions.add_parser("create", help="Make a token for a user and print it.")
        create.add_argument("username")
        create.add_argument("--name", required=True, help="What the token is for (unique among the user's tokens).")
        create.add_argument("--expires", type=int, metavar="DAYS", help="Days until it stops working (default: never).")
        revoke = actions.add_parser("revoke", help="Revoke a token, by its id or by its user and name.")
        revoke.add_argument("username", nargs="?")
        revoke.add_argument("--name", help="The token's name (with the username).")
        revoke.add_argument("--id", type=int, dest="token_id", help="The token's id (as the admin shows it).")

    def handle(self, *args, action: str, **options):
        if action == "create":
            self._create(options["username"], options["name"], options["expires"])
        else:
            self._revoke(options["username"], options["name"], options["token_id"])

    def _create(self, username: str, name: str, days: int | None) -> None:
        user = user_named(username)
        if days is not None and days < 1:
            raise CommandError("--expires takes a number of days of at least 1.")
        if ApiToken.objects.for_user(user).live().filter(name=name.strip()).exists():
            raise CommandError(f"{username} already has a token called {name!r}; revoke it or choose another name.")
        expires_at = timezone.now() + timedelta(days=days) if days else None
        token, raw = token_create(user=user, name=name, expires_at=expires_at)
        until = f"until {token.expires_at:%Y-%m-%d %H:%M} UTC" if token.expires_at else "with no expiry"
        self.stdout.write(self.style.SUCCESS(f"Token {token.name!r} (id {token.pk}) made for {username}, {until}."))
        self.stdout.write(raw)

    def _revoke(self, username: str | None, name: str | None, token_id: int | None) -> None:
        if token_id is not None:
            tokens = ApiToken.objects.live().filter(pk=token_id)
            what = f"id {token_id}"
        elif username and name:
            tokens = ApiToken.objects.live().filter(user=user_named(username), name=name)
            what = f"{name!r} of {username}"
        else:
            raise CommandError("Say which token: --id ID, or USERNAME --name NAME.")
        token = tokens.first()
        if token is None:
            raise CommandError(f"No live token {what}.")
        token_revoke(token=token)
        self.stdout.write(self.style.SUCCESS(f"Revoked token {token.name!r} (id {token.pk}) of {token.user}."))
