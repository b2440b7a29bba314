import json

import pytest


class Api:
    """Requests to /api/ as a program sends them: JSON bodies, a bearer token (or none)."""

    def __init__(self, client, token: str | None):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str, params=None, **headers):
        return self.client.get("/api" + path, params or {}, headers={**self.headers, **headers})

    def post(self, path: str, body=None, **headers):
        return self._send(self.client.post, path, body, headers)

    def patch(self, path: str, body=None, **headers):
        return self._send(self.client.patch, path, body, headers)

    def delete(self, path: str, **headers):
        return self.client.delete("/api" + path, headers={**self.headers, **headers})

    def upload(self, path: str, files: list, **headers):
        return self.client.post("/api" + path, {"files": files}, headers={**self.headers, **headers})

    def _send(self, method, path, body, headers):
        data = json.dumps(body if body is not None else {})
        return method("/api" + path, data, content_type="application/json", headers={**self.headers, **headers})


@pytest.fixture
def as_alice(client, alice_token) -> Api:
    return Api(client, alice_token)


@pytest.fixture
def as_bob(bob_token) -> Api:
    from django.test import Client

    return Api(Client(), bob_token)


@pytest.fixture
def anonymous(client) -> Api:
    return Api(client, None)


def is_problem(response, status: int) -> dict:
    """The response is a problem (RFC 9457) of that status; returns its body."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"] and body["type"] == "about:blank"
    assert len(body["detail"]) > 20, "a sentence a person can act on"
    return body
