import pytest
from django.urls import reverse

from documents import embeddings


def test_healthz_answers_without_touching_the_database(client):
    # No database fixture: any query here would fail the test.
    response = client.get(reverse("healthz"))
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_reports_the_database_pgvector_and_the_loaded_model(client, db):
    embeddings.get_encoder()
    response = client.get(reverse("readyz"))
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ready" and body["database"] == "ok" and body["embeddings"] == "loaded"
    assert body["pgvector"].startswith("0.")


def test_readyz_is_503_until_the_worker_has_its_model(client, db, monkeypatch):
    monkeypatch.setattr(embeddings, "_encoders", {})
    response = client.get(reverse("readyz"))
    assert response.status_code == 503 and response.json()["embeddings"] == "not loaded"


def test_readyz_wants_the_configured_backend_not_another(client, db, settings, monkeypatch):
    monkeypatch.setattr(embeddings, "_encoders", {})
    settings.EMBEDDING_BACKEND = "onnx"
    embeddings.get_encoder("onnx-int8")
    assert client.get(reverse("readyz")).status_code == 503
    embeddings.get_encoder()
    assert client.get(reverse("readyz")).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_readyz_is_503_when_the_database_cannot_be_reached(client, unreachable_database):
    embeddings.get_encoder()
    with unreachable_database():
        response = client.get(reverse("readyz"))
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


def test_health_probes_are_not_redirected_to_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get(reverse("healthz")).status_code == 200
    assert client.get(reverse("conversations:list")).status_code == 301
