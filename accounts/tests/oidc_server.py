"""The single sign-on tests' provider: the Django project in oidc_provider/ (django-oauth-toolkit),
run with `manage.py runserver` as a process of its own, with its own PostgreSQL database on the test
server and an RS256 key made for the run; and what a test does with it: sign in as a browser would.
"""

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.db import connection

WAIT_SECONDS = 180
CLIENT_ID = "ragchat-test-client"
CLIENT_SECRET = "ragchat-test-secret-not-for-anything-else"
PASSWORD = "provider-password-1"
SETTINGS_MODULE = "accounts.tests.oidc_provider.settings"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rsa_private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


class OidcProvider:
    """A running provider at ``issuer``; ``client()`` registers ragchat, ``user()`` makes people."""

    def __init__(self, log_folder: Path):
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}/o"
        self.log = log_folder / "oidc-provider.log"
        self.environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
            "OIDC_PROVIDER_DATABASE": json.dumps(_own_database()),
            "OIDC_PROVIDER_KEY": rsa_private_key_pem(),
        }
        self._run("migrate", "--noinput")
        with self.log.open("ab") as output:
            command = [sys.executable, "-m", "django", "runserver", f"127.0.0.1:{self.port}", "--noreload"]
            self.process = subprocess.Popen(
                command, cwd=settings.BASE_DIR, env=self.environment, stdout=output, stderr=subprocess.STDOUT
            )
        self._wait_until_up()

    def client(self, *, redirect_uri: str, logout_uri: str = "", client_id: str = CLIENT_ID) -> None:
        """Register a confidential client (ragchat by default), whose secret is CLIENT_SECRET."""
        self._run("provider", "client", client_id, CLIENT_SECRET, "--redirect-uri", redirect_uri,
                  "--logout-uri", logout_uri)  # fmt: skip

    def user(self, name: str, *, groups: list[str], email: str = "") -> None:
        self._run("provider", "user", name, PASSWORD, "--email", email or f"{name}@example.org",
                  "--groups", ",".join(groups))  # fmt: skip

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)

    def _run(self, *command: str) -> None:
        subprocess.run([sys.executable, "-m", "django", *command], cwd=settings.BASE_DIR, env=self.environment,
                       check=True, capture_output=True)  # fmt: skip

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            try:
                if requests.get(self.issuer + "/.well-known/openid-configuration", timeout=2).ok:
                    return
            except requests.ConnectionError:
                pass
            assert self.process.poll() is None, f"the provider exited:\n{self.log.read_text()}"
            assert time.monotonic() < deadline, f"gave up waiting for the provider:\n{self.log.read_text()}"
            time.sleep(0.3)


def _own_database() -> dict:
    """Connection settings of a fresh database beside the test database, on the same server."""
    ours = connection.settings_dict
    name = ours["NAME"] + "_oidc_provider"
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    keys = ("ENGINE", "USER", "PASSWORD", "HOST", "PORT", "PGDATA")
    return {key: ours[key] for key in keys if key in ours} | {"NAME": name}


def sign_in(session: requests.Session, start_url: str, username: str) -> requests.Response:
    """Follow a sign-in from ragchat's ``start_url`` through the provider's log-in form, as a browser
    does; the answer is the last page, after every redirect."""
    login_page = session.get(start_url, timeout=30)
    assert "Test provider" in login_page.text, login_page.text
    form = {
        "csrfmiddlewaretoken": re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page.text)[1],
        "username": username,
        "password": PASSWORD,
        "next": re.search(r'name="next" value="([^"]*)"', login_page.text)[1].replace("&amp;", "&"),
    }
    return session.post(login_page.url, data=form, timeout=30)
