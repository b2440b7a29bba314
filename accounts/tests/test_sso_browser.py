"""Single sign-on in Chromium: the login page's button, the provider's form, the chat page, and
signing out of both, with the site's Content-Security-Policy on (the page fixture fails on a violation)."""

from django.urls import reverse
from playwright.sync_api import expect

from accounts.tests.oidc_server import PASSWORD
from ragchat.tests.browser import BROWSER_TESTS, screenshot

pytestmark = BROWSER_TESTS


def test_signing_in_and_out_with_the_provider_in_a_browser(page, live_server, sso):
    sso.user("ivan", groups=["finance-team"])
    login = live_server.url + reverse("login")
    page.goto(login)
    screenshot(page, "login-sso")

    page.get_by_role("link", name="Sign in with Example SSO").click()
    page.get_by_label("Provider user name").fill("ivan")
    page.get_by_label("Provider password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in at the provider").click()

    page.wait_for_url(live_server.url + reverse("conversations:list"))
    expect(page.locator(".who")).to_have_text("ivan")

    page.get_by_role("button", name="Log out").click()  # a form: the provider is reached from the next page

    page.wait_for_url(login)
    page.get_by_role("link", name="Sign in with Example SSO").click()
    expect(page.get_by_label("Provider user name")).to_be_visible()  # the provider forgot ivan too
