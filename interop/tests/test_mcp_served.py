"""The MCP server under `manage.py serve` (gunicorn with uvicorn workers, as `make run` and the
Docker image serve): mounted, with its lifespan run by the worker (else it could not answer)."""

import pytest

from interop.tests.test_mcp import post
from ragchat.tests.test_serve import start_serve, stop_all

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_production_server_answers_mcp_requests(tmp_path, alice_token):
    serve, port, _ = start_serve(tmp_path)
    try:
        response = post(f"http://127.0.0.1:{port}", alice_token)
        assert response.status_code == 200
        assert {tool["name"] for tool in response.json()["result"]["tools"]} == {"search_documents", "ask"}
        assert post(f"http://127.0.0.1:{port}").status_code == 401
    finally:
        stop_all(serve)
