"""The production configuration: Django's deployment checks, security headers, docker compose."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "a-production-like-secret-key-for-the-check-Q7x!m2#Lp9vR4tZ8wK3nB6yH1",
    "ALLOWED_HOSTS": "chat.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://chat.example.org",
}


def test_the_deployment_checks_pass_with_production_settings():
    env = {key: value for key, value in os.environ.items() if key not in ("SECURE_SSL_REDIRECT", "SECURE_COOKIES")}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env={**env, **PRODUCTION_ENV}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_responses_carry_the_security_headers(client, db, settings):
    settings.SECURE_SSL_REDIRECT = False  # the test client speaks plain HTTP
    response = client.get(reverse("login"), secure=True)
    assert response["Content-Security-Policy"].startswith("default-src 'self'")
    assert "script-src 'self';" in response["Content-Security-Policy"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert response["X-Frame-Options"] == "DENY" and response["X-Content-Type-Options"] == "nosniff"
    assert settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE and settings.SESSION_COOKIE_HTTPONLY


def test_no_template_has_inline_scripts_styles_or_event_handlers():
    """The Content-Security-Policy forbids them, so browsers would refuse to run them."""
    inline = re.compile(r"<style|\sstyle=|<script(?![^>]*\ssrc=)|\son[a-z]+=", re.IGNORECASE)
    offenders = [
        f"{template.relative_to(ROOT)}: {match.group()}"
        for template in (ROOT / "templates").rglob("*.html")
        for match in inline.finditer(template.read_text())
    ]
    assert offenders == []


def _has_docker_compose() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0


@pytest.mark.skipif(not _has_docker_compose(), reason="Docker Compose is not installed here")
def test_docker_compose_file_is_valid():
    result = subprocess.run(
        ["docker", "compose", "-f", str(ROOT / "docker-compose.yml"), "config", "--quiet"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_the_compose_file_wires_the_deployment_the_readme_describes():
    """Where Docker Compose is missing (these machines), at least the file's wiring is checked."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    image, tag = services["db"]["image"].split(":")
    version = tuple(int(part) for part in tag.split("-")[0].split("."))
    assert image == "pgvector/pgvector" and version >= (0, 8, 4)
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in services["db"]["volumes"])
    web = services["web"]
    assert web["env_file"] == ".env" and web["depends_on"]["db"]["condition"] == "service_healthy"
    assert "readyz" in " ".join(web["healthcheck"]["test"])
    command = (ROOT / "Dockerfile").read_text().split("CMD", 1)[1]
    assert command.index("migrate") < command.index("gunicorn -c gunicorn.conf.py")
    assert services["ollama"]["profiles"] == ["ollama"] and "OLLAMA_HOST" in web["environment"]
    assert set(compose["volumes"]) >= {"pgdata", "ollama", "media"}


def test_the_compose_worker_runs_the_web_image_with_the_same_database_and_storage():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    web, worker = services["web"], services["worker"]
    assert worker["build"] == web["build"] and worker["env_file"] == web["env_file"]
    assert worker["command"] == ["python", "manage.py", "procrastinate", "worker"]
    assert worker["environment"]["DATABASE_URL"] == web["environment"]["DATABASE_URL"]
    assert worker["environment"]["MEDIA_ROOT"] == web["environment"]["MEDIA_ROOT"] == "/app/media"
    assert "media:/app/media" in worker["volumes"] and "media:/app/media" in web["volumes"]
    assert worker["depends_on"]["db"]["condition"] == "service_healthy" and "ports" not in worker


def test_the_web_port_is_published_on_this_host_only_and_its_proxy_is_trusted():
    """Anyone reaching the port directly could forge X-Forwarded-For and X-Forwarded-Proto."""
    web = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["web"]
    assert all(str(port).startswith("127.0.0.1:") for port in web["ports"]), web["ports"]
    assert "TRUSTED_PROXIES" in web["environment"]
