"""The path dispatcher of ragchat/asgi.py: the mounted app gets its path and the ASGI lifespan,
Django everything else."""

import asyncio

from ragchat.mounts import PathDispatcher


class Recorder:
    """An ASGI app that notes the scopes it was given."""

    def __init__(self):
        self.seen: list[tuple[str, str]] = []

    async def __call__(self, scope, receive, send) -> None:
        self.seen.append((scope["type"], scope.get("path", "")))


def dispatch(*scopes: dict) -> tuple[Recorder, Recorder]:
    django, mounted = Recorder(), Recorder()
    app = PathDispatcher(django, prefix="/mcp", mounted=mounted)
    for scope in scopes:
        asyncio.run(app(scope, None, None))
    return django, mounted


def test_the_mounted_path_and_the_lifespan_go_to_the_mounted_app_the_rest_to_django():
    paths = ["/mcp", "/mcp/", "/mcp/x", "/mcpx", "/", "/v1/models", "/admin/mcp"]
    django, mounted = dispatch({"type": "lifespan"}, *({"type": "http", "path": path} for path in paths))
    assert mounted.seen == [("lifespan", ""), ("http", "/mcp"), ("http", "/mcp/"), ("http", "/mcp/x")]
    assert django.seen == [("http", "/mcpx"), ("http", "/"), ("http", "/v1/models"), ("http", "/admin/mcp")]
