"""One ASGI application mounted beside Django's, under a path of its own (the MCP server at /mcp).

Django's ASGI handler answers HTTP only; the ASGI lifespan (server start and stop) goes to the
mounted application, which may need it: the MCP SDK starts its session manager there.
"""

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]], Awaitable[None]]


class PathDispatcher:
    """Requests for ``prefix`` (and below it) go to ``mounted``; every other request to ``default``."""

    def __init__(self, default: ASGIApp, *, prefix: str, mounted: ASGIApp):
        self.default, self.prefix, self.mounted = default, prefix.rstrip("/"), mounted

    async def __call__(self, scope: Scope, receive, send) -> None:
        if scope["type"] == "lifespan" or self._is_mounted(scope.get("path", "")):
            await self.mounted(scope, receive, send)
        else:
            await self.default(scope, receive, send)

    def _is_mounted(self, path: str) -> bool:
        return path == self.prefix or path.startswith(self.prefix + "/")
