"""Encryption of API keys stored in the database (Fernet: AES-128-CBC with HMAC-SHA256).

The key comes from FIELD_ENCRYPTION_KEY, or is derived from SECRET_KEY when that is not set;
rotating either makes stored API keys unreadable, so they must then be entered again.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet() -> Fernet:
    secret = settings.FIELD_ENCRYPTION_KEY or settings.SECRET_KEY
    key = base64.urlsafe_b64encode(hashlib.sha256(("ragchat.api-keys:" + secret).encode()).digest())
    return Fernet(key)


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    """The stored secret, or a ValueError saying it can no longer be read."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError("The stored API key cannot be decrypted (was the encryption key changed?).") from None
