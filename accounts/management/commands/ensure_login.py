import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Make sure someone can log in: when the database has no user yet, create a staff "
        "superuser (default name: admin) with a random password and print it once. "
        "Does nothing when any user exists. With local log-in switched off (LOCAL_LOGIN_ENABLED=false) "
        "it creates no password account: people sign in with single sign-on, and --staff NAME makes "
        "one of them a staff superuser after their first sign-in."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument(
            "--staff", metavar="NAME", help="make this existing user a staff superuser (e.g. after their first sign-in)"
        )

    def handle(self, *args, username: str, staff: str | None, **options):
        User = get_user_model()
        if staff:
            if not User.objects.filter(username=staff).update(is_staff=True, is_superuser=True):
                raise CommandError(f"No user is named {staff!r}; they appear after their first sign-in.")
            self.stdout.write(self.style.SUCCESS(f"{staff} is now a staff superuser."))
            return
        if User.objects.exists():
            self.stdout.write(
                "Users exist already; log in with yours (reset a password with: "
                "python manage.py changepassword USERNAME)."
            )
            return
        if not settings.LOCAL_LOGIN_ENABLED:
            self.stdout.write(
                f"Log-in with a password is switched off (LOCAL_LOGIN_ENABLED=false): sign in with "
                f"{settings.OIDC_PROVIDER_NAME}, then make yourself staff with: "
                "python manage.py ensure_login --staff YOUR_USERNAME"
            )
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, password=password, email="")
        self.stdout.write(self.style.SUCCESS(f"Created the login {username!r} with password: {password}"))
        self.stdout.write("Keep it now: it is not stored anywhere in clear text and will not be shown again.")
