import os

from django.core.asgi import get_asgi_application

from ragchat.mounts import PathDispatcher

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ragchat.settings")
django_application = get_asgi_application()

# Imported once Django is set up: the MCP server's tools use the ORM.
from interop.mcp_server import PATH, mcp_application  # noqa: E402

application = PathDispatcher(django_application, prefix=PATH, mounted=mcp_application())
