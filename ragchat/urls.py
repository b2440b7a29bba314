from django.contrib import admin
from django.urls import include, path

from ragchat import health

urlpatterns = [
    path("", include("conversations.urls")),
    path("accounts/tokens/", include("api.urls")),
    path("api/", include("api.rest_urls")),
    path("accounts/", include("accounts.urls")),
    path("oidc/", include("accounts.oidc_urls")),
    path("knowledge/", include("documents.urls")),
    # The OpenAI-compatible endpoint; the MCP server at /mcp is mounted beside Django (ragchat/asgi.py).
    path("v1/", include("interop.urls")),
    # Staff pages of their own under /admin/, before the admin's catch-all.
    path("admin/insight/", include("insight.urls")),
    # The admin's own password form, unless local log-in is switched off (accounts/views.py).
    path("admin/login/", include("accounts.admin_urls")),
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]
