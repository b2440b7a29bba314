"""A token is never written to a log: not by the request log, not with a failure's traceback, not in
Django's error report. (test_schemathesis.py also reads a real server's access and app logs.)"""

import logging

from django.test import RequestFactory
from django.views.debug import SafeExceptionReporterFilter

from api.tests.conftest import Api
from ragchat.requestlog import JsonFormatter


def test_nothing_logged_while_a_token_is_used_holds_it(client, alice_token, knowledge_base, openai_stub, caplog):
    openai_stub.status = 500  # the model fails: the failure is logged with its traceback
    caplog.set_level(logging.DEBUG)
    api = Api(client, alice_token)

    api.post("/questions", {"question": "When to prune roses?"})
    api.get("/conversations", {"q": "roses"})
    Api(client, alice_token + "x").get("/conversations")  # a refused token too

    formatted = [JsonFormatter().format(record) for record in caplog.records]
    assert any("Answering failed" in line for line in formatted)
    assert any("/api/questions" in line for line in formatted)
    assert not [line for line in formatted if alice_token[3:] in line]


def test_django_error_reports_hide_the_authorization_header():
    request = RequestFactory().get("/api/conversations", headers={"Authorization": "Bearer rc_secret"})
    meta = SafeExceptionReporterFilter().get_safe_request_meta(request)
    assert "rc_secret" not in str(meta)
