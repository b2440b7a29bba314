"""Encryption of API keys stored in the database (Fernet: AES-128-CBC with HMAC-SHA256).

Keys come from FIELD_ENCRYPTION_KEY, a comma-separated list: the first encrypts, all decrypt,
so a new key is put first and the old one kept behind it until every stored key has been
re-encrypted (``manage.py reencrypt_api_keys``). SECRET_KEY and SECRET_KEY_FALLBACKS always
decrypt too, and encrypt when FIELD_ENCRYPTION_KEY is empty: keys stored before a field key was
set stay readable, and rotating SECRET_KEY with its old value in SECRET_KEY_FALLBACKS breaks
nothing. A key that no longer decrypts (every key that made it is gone) must be entered again.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

UNREADABLE = "The stored API key cannot be decrypted (was the encryption key changed?)."


def _fernet_for(secret: str) -> Fernet:
    # Any string works as a secret: it is stretched into a Fernet key with a purpose prefix, so
    # the same SECRET_KEY yields a different key here than in Django's own signing.
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(("ragchat.api-keys:" + secret).encode()).digest()))


def _fernet() -> MultiFernet:
    secrets = [*settings.FIELD_ENCRYPTION_KEY, settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    return MultiFernet([_fernet_for(secret) for secret in secrets if secret])


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    """The stored secret, or a ValueError saying it can no longer be read."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError(UNREADABLE) from None


def can_decrypt(token: str) -> bool:
    """Whether a stored key can still be read with the current keys (for the admin to show)."""
    try:
        decrypt(token)
    except ValueError:
        return False
    return True


def rotate(token: str) -> str:
    """The same secret encrypted with the current first key; ValueError if it cannot be read."""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken:
        raise ValueError(UNREADABLE) from None
