"""Where a staff-edited chat model configuration may take an API key from, and send it to.

Staff may edit model configurations without being trusted with the server's secrets. Otherwise
one could name SECRET_KEY or DATABASE_URL as the key variable and a server of their own as the
base URL, and the next answer would send that secret there. So the variable must match
CHAT_MODEL_KEY_ENV_PATTERNS and the host CHAT_MODEL_ALLOWED_HOSTS (or be CHAT_MODEL_BASE_URL's,
which the operator chose). Both are checked when a configuration is saved and again when its key
is used, since rows saved before the check, or by other means, skip the form.
"""

from fnmatch import fnmatchcase
from urllib.parse import urlsplit

from django.conf import settings


class EndpointRefused(ValueError):
    """A configuration that would read a forbidden variable or send a key to an unlisted host."""


def check_key_env(name: str) -> None:
    patterns = settings.CHAT_MODEL_KEY_ENV_PATTERNS
    if name and not any(fnmatchcase(name, pattern) for pattern in patterns):
        raise EndpointRefused(
            f"The environment variable {name} may not hold a chat model key: only names matching "
            f"{', '.join(patterns)} (CHAT_MODEL_KEY_ENV_PATTERNS) may."
        )


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def check_base_url(url: str) -> None:
    """An empty URL is the provider's own endpoint, chosen by its client library."""
    if not url:
        return
    host = _host(url)
    allowed = [*settings.CHAT_MODEL_ALLOWED_HOSTS, _host(settings.CHAT_MODEL_BASE_URL)]
    if not any(pattern and fnmatchcase(host, pattern.lower()) for pattern in allowed):
        raise EndpointRefused(
            f"Chat model keys may not be sent to {host or url}: add the host to CHAT_MODEL_ALLOWED_HOSTS first."
        )
