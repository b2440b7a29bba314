from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand
from oauth2_provider.models import Application


class Command(BaseCommand):
    help = (
        "Set up the test provider: `provider client ID SECRET --redirect-uri URI --logout-uri URI` registers "
        "ragchat as a confidential client; `provider user NAME PASSWORD --email E --groups a,b` makes or "
        "changes a user and sets their groups."
    )

    def add_arguments(self, parser):
        parser.add_argument("what", choices=["client", "user"])
        parser.add_argument("name")
        parser.add_argument("secret")
        parser.add_argument("--redirect-uri", default="")
        parser.add_argument("--logout-uri", default="")
        parser.add_argument("--email", default="")
        parser.add_argument("--groups", default="")

    def handle(self, *args, what, name, secret, redirect_uri, logout_uri, email, groups, **options):
        if what == "client":
            Application.objects.filter(client_id=name).delete()
            Application.objects.create(
                name="ragchat",
                client_id=name,
                client_secret=secret,  # stored hashed by the toolkit
                client_type=Application.CLIENT_CONFIDENTIAL,
                authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
                algorithm=Application.RS256_ALGORITHM,
                redirect_uris=redirect_uri,
                post_logout_redirect_uris=logout_uri,
                skip_authorization=True,
            )
            return
        user, _ = User.objects.update_or_create(username=name, defaults={"email": email, "first_name": name.title()})
        user.set_password(secret)
        user.save()
        user.groups.set([Group.objects.get_or_create(name=group)[0] for group in groups.split(",") if group])
