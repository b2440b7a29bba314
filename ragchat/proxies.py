"""Which forwarded headers to believe: only those a trusted proxy sent.

Behind a TLS-terminating proxy (``BEHIND_PROXY``), X-Forwarded-For and X-Forwarded-Proto say who
the client is and whether it used HTTPS. Anyone who reaches the application directly can send
them too, so they count only when the connection comes from an address in ``TRUSTED_PROXIES``.
Django's SECURE_PROXY_SSL_HEADER believes the header from anyone; ``TrustedProxyMiddleware``
removes it (and X-Forwarded-For) from other peers' requests before anything reads them.
"""

import ipaddress
from collections.abc import Callable
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
FORWARDED_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO")


@lru_cache(maxsize=8)
def _networks(trusted: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in trusted)


def _address(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def is_trusted_proxy(address: str) -> bool:
    """Whether forwarded headers from ``address`` are believed."""
    peer = _address(address)
    if not settings.BEHIND_PROXY or peer is None:
        return False
    return any(peer in network for network in _networks(tuple(settings.TRUSTED_PROXIES)))


def client_ip(request: HttpRequest) -> str:
    """The client's address: the peer itself, or behind trusted proxies the nearest address they
    did not add themselves (the right-most untrusted X-Forwarded-For entry; entries further left
    were written by the client and may be forged)."""
    peer = request.META.get("REMOTE_ADDR", "")
    if not is_trusted_proxy(peer):
        return peer
    for entry in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        address = _address(entry)
        if address is None:
            return peer
        if not is_trusted_proxy(str(address)):
            return str(address)
    return peer


class TrustedProxyMiddleware:
    """Drop forwarded headers that did not come from a trusted proxy.

    Must run before SecurityMiddleware, whose HTTPS redirect reads X-Forwarded-Proto through
    SECURE_PROXY_SSL_HEADER.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_trusted_proxy(request.META.get("REMOTE_ADDR", "")):
            for header in FORWARDED_HEADERS:
                request.META.pop(header, None)
        return self.get_response(request)
