import re

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import OidcIdentity
from accounts.oidc import mapped_groups

# What Django's default user name validator accepts; anything else in a claim becomes "-".
NOT_IN_USERNAMES = re.compile(r"[^\w.@+-]+")
USERNAME_LENGTH = 150


def oidc_user_sign_in(*, issuer: str, claims: dict) -> AbstractBaseUser:
    """The user signing in with these verified claims, found by the provider's ``sub`` (made on their
    first sign-in), with their name, address and groups updated from the claims.

    A local account with the same e-mail address is left alone: the first sign-in makes an account of
    its own (README, "Single sign-on", says how staff join the two).
    """
    try:
        return _sign_in(issuer=issuer, claims=claims)
    except IntegrityError:
        # Two first sign-ins at once (two tabs; or two people wanting one user name): the other one
        # committed first, and a second try finds its rows.
        return _sign_in(issuer=issuer, claims=claims)


def _sign_in(*, issuer: str, claims: dict) -> AbstractBaseUser:
    with transaction.atomic():
        identity = _identity_for(issuer=issuer, subject=claims["sub"], claims=claims)
        _profile_update(user=identity.user, claims=claims)
        _groups_sync(identity=identity, names=mapped_groups(claims))
        identity.last_sign_in_at = timezone.now()
        identity.save(update_fields=["groups", "last_sign_in_at"])
    return identity.user


def _identity_for(*, issuer: str, subject: str, claims: dict) -> OidcIdentity:
    """The identity row, locked for this sign-in; a new user and identity on the first sign-in."""
    identity = OidcIdentity.objects.select_for_update().select_related("user").filter(issuer=issuer, subject=subject)
    if found := identity.first():
        return found
    user = get_user_model().objects.create_user(username=_free_username(claims))  # no usable password
    return OidcIdentity.objects.create(user=user, issuer=issuer, subject=subject)


def _free_username(claims: dict) -> str:
    """The provider's preferred user name (or the address's local part), made unique with -2, -3..."""
    wanted = claims.get("preferred_username") or (claims.get("email") or "").split("@")[0] or "user"
    base = NOT_IN_USERNAMES.sub("-", str(wanted)).strip("-")[: USERNAME_LENGTH - 6] or "user"
    users = get_user_model().objects
    name, n = base, 1
    while users.filter(username__iexact=name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


def _profile_update(*, user, claims: dict) -> None:
    """The provider is the reference for the person's name and address: copy what it sends."""
    claimed = {"email": "email", "first_name": "given_name", "last_name": "family_name"}
    fields = {field: str(claims[claim]) for field, claim in claimed.items() if claims.get(claim) is not None}
    fields = {field: value[: user._meta.get_field(field).max_length] for field, value in fields.items()}
    changed = [field for field, value in fields.items() if getattr(user, field) != value]
    for field in changed:
        setattr(user, field, fields[field])
    if changed:
        user.save(update_fields=changed)


def _groups_sync(*, identity: OidcIdentity, names: set[str]) -> None:
    """Put the user in the groups the provider says, and out of those an earlier sign-in gave them
    that it no longer says. Groups staff gave by hand are left alone."""
    if settings.OIDC_GROUPS_MAP:
        groups = [Group.objects.get_or_create(name=name)[0] for name in sorted(names)]
    else:
        groups = list(Group.objects.filter(name__in=names))  # by name: only groups staff made
    given = {group.name for group in groups}
    identity.user.groups.remove(*Group.objects.filter(name__in=set(identity.groups) - given))
    identity.user.groups.add(*groups)
    identity.groups = sorted(given)
