import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Make sure someone can log in: when the database has no user yet, create a staff "
        "superuser (default name: admin) with a random password and print it once. "
        "Does nothing when any user exists."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username: str, **options):
        User = get_user_model()
        if User.objects.exists():
            self.stdout.write(
                "Users exist already; log in with yours (reset a password with: "
                "python manage.py changepassword USERNAME)."
            )
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, password=password, email="")
        self.stdout.write(self.style.SUCCESS(f"Created the login {username!r} with password: {password}"))
        self.stdout.write("Keep it now: it is not stored anywhere in clear text and will not be shown again.")
