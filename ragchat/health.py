"""Probes for load balancers and orchestrators: is the process up, and can it answer?"""

import logging

from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from documents import embeddings

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process serves requests. Touches nothing else, so a slow database does not
    get healthy workers restarted."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: the database answers, has pgvector, and this worker has its embedding model."""
    checks = {"database": "ok", "pgvector": "missing", "embeddings": "loaded"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
            row = cursor.fetchone()
        if row:
            checks["pgvector"] = row[0]
    except DatabaseError as exc:
        logger.warning("Readiness: database unreachable: %s", exc)
        checks["database"] = "unreachable"
        checks["pgvector"] = "unknown"
    if not embeddings.is_loaded():
        checks["embeddings"] = "not loaded"
    ready = checks["database"] == "ok" and checks["pgvector"] not in ("missing", "unknown")
    ready = ready and checks["embeddings"] == "loaded"
    return JsonResponse({"status": "ready" if ready else "not ready", **checks}, status=200 if ready else 503)
