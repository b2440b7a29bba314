from django.apps import AppConfig


class InteropConfig(AppConfig):
    """ragchat for programs that speak other protocols: the OpenAI-compatible endpoint (/v1) and
    the MCP server (/mcp). No models of its own: each call is a conversation of its caller."""

    name = "interop"
