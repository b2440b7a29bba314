"""The jobs panel in a real headless Chromium, with a real worker: it follows a job live and shows
the new documents when the job ends."""

from django.core.files.base import ContentFile
from django.urls import reverse
from playwright.sync_api import expect

from conftest import KNOWLEDGE_BASE, make_user
from documents.collections import personal_collection
from documents.jobs import upload_job_start
from documents.tests.workers import WAIT_SECONDS, block, feed
from ragchat.tests.browser import BROWSER_TESTS, log_in

pytestmark = BROWSER_TESTS


def test_the_jobs_panel_follows_a_job_live_and_then_shows_its_documents(page, live_server, start_worker):
    alice = make_user("alice")
    mine = personal_collection(alice)
    files = [(name, ContentFile(KNOWLEDGE_BASE[name].encode())) for name in ["kettle.txt", "garden/roses.md"]]
    job = upload_job_start(collection=mine, user=alice, files=files)
    pipe = block(job.files.get(path="kettle.txt"))  # the job stays running until the test feeds it

    log_in(page, live_server, "alice")
    page.goto(live_server.url + reverse("documents:collection", args=[mine.name]))
    panel = page.locator("#jobs")
    expect(panel).to_contain_text(f"Upload #{job.pk} · Queued · 0 of 2 files")

    start_worker("browser")
    # Only the page's script can show this: nothing reloads the page while the job runs.
    expect(panel).to_contain_text("Running", timeout=WAIT_SECONDS * 1000)
    expect(panel.get_by_role("button", name="Cancel")).to_be_visible()
    feed(pipe, KNOWLEDGE_BASE["kettle.txt"])

    expect(page.locator(".documents-table")).to_contain_text("garden/roses.md", timeout=WAIT_SECONDS * 1000)
    expect(page.locator(".documents-table")).to_contain_text("kettle.txt")
    expect(panel).to_contain_text("Succeeded · 2 of 2 files")


def test_files_chosen_for_the_next_upload_survive_the_end_of_a_job(page, live_server, start_worker, tmp_path):
    alice = make_user("alice")
    mine = personal_collection(alice)
    job = upload_job_start(collection=mine, user=alice, files=[("kettle.txt", ContentFile(b"Descale monthly."))])
    pipe = block(job.files.get())

    log_in(page, live_server, "alice")
    page.goto(live_server.url + reverse("documents:collection", args=[mine.name]))
    (tmp_path / "next.txt").write_text("The next file to upload.")
    page.locator('input[type="file"]').set_input_files(tmp_path / "next.txt")
    start_worker("browser")
    feed(pipe, "Descale the kettle monthly.")

    panel = page.locator("#jobs")
    expect(panel).to_contain_text("Succeeded · 1 of 1 files", timeout=WAIT_SECONDS * 1000)
    # The page was not reloaded: the chosen file is still there, ready to be sent.
    assert page.locator('input[type="file"]').evaluate("input => input.files[0].name") == "next.txt"
