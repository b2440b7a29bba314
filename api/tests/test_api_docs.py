"""The OpenAPI document and the docs page: served from this site, within its Content-Security-Policy."""

from django.urls import reverse

from ragchat.tests.browser import BROWSER_TESTS, log_in


def test_the_openapi_document_is_openapi_3_with_every_resource(client):
    schema = client.get("/api/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    assert {"/api/conversations", "/api/questions", "/api/collections", "/api/my-documents/uploads"} <= set(
        schema["paths"]
    )
    assert {"TokenAuth", "SessionAuth"} <= set(schema["components"]["securitySchemes"])
    errors = schema["paths"]["/api/conversations/{conversation_id}"]["get"]["responses"]["404"]["content"]
    assert list(errors) == ["application/problem+json"]


def test_the_docs_page_loads_swagger_ui_from_this_site_only(client):
    response = client.get("/api/docs")
    page = response.content.decode()
    assert response.status_code == 200
    assert "/static/ninja/swagger-ui-bundle.js" in page and "cdn" not in page.lower()
    assert "script-src 'self'" in response["Content-Security-Policy"]


def browser_test(function):
    for mark in BROWSER_TESTS:
        function = mark(function)
    return function


@browser_test
def test_the_docs_page_works_in_a_browser_without_breaking_the_csp(page, live_server, alice):
    """The ``page`` fixture fails the test on any CSP violation or script error."""
    from playwright.sync_api import expect

    log_in(page, live_server, "alice")
    page.goto(live_server.url + reverse("api:openapi-view"))
    expect(page.get_by_text("ragchat API").first).to_be_visible()
    expect(page.locator(".opblock-summary-path", has_text="/api/conversations/{conversation_id}").first).to_be_visible()
