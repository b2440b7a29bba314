"""Uploading from the knowledge pages in a real headless Chromium, with a real worker process:
files dropped on the form, sent with a progress bar, the job's progress followed to the end, and
the documents listed; then a first upload into "My documents" through the plain file chooser."""

import io
import zipfile

from django.urls import reverse
from playwright.sync_api import expect

from conftest import make_user
from documents.collections import collection_share
from documents.models import Collection, Document, Role
from documents.tests.workers import WAIT_SECONDS
from ragchat.tests.browser import BROWSER_TESTS, log_in, screenshot

pytestmark = BROWSER_TESTS

# A worker on a busy 2-core machine takes a while to load torch and the model before its first job.
JOB_TIMEOUT_MS = WAIT_SECONDS * 1000

DROPPED = {
    "compost.md": "# Compost\n\nTurn the heap every two weeks and keep it as damp as a wrung-out sponge.",
    "seeds.txt": "Seed swap\n\nThe seed swap is on the first Saturday of March, in the club house.",
}


def drop_files(page, target: str, files: dict[str, str]) -> None:
    """Drop ``files`` (name: text) on ``target`` as a person dragging them from their desktop would."""
    transfer = page.evaluate_handle(
        """(files) => {
            const transfer = new DataTransfer();
            for (const [name, text] of files) transfer.items.add(new File([text], name, {type: "text/plain"}));
            return transfer;
        }""",
        list(files.items()),
    )
    page.dispatch_event(target, "dragenter", {"dataTransfer": transfer})
    page.dispatch_event(target, "drop", {"dataTransfer": transfer})


def test_an_editor_drops_files_and_watches_the_worker_import_them(page, live_server, start_worker):
    alice, bob = make_user("alice"), make_user("bob")
    garden = Collection.objects.create(name="garden-club", title="Garden club", owner=bob)
    collection_share(collection=garden, user=alice, role=Role.EDITOR)
    start_worker("browser")

    log_in(page, live_server, "alice")
    page.goto(live_server.url + reverse("documents:collection", args=["garden-club"]))
    drop_files(page, "[data-drop-zone]", DROPPED)
    expect(page.get_by_text("Chosen: compost.md, seeds.txt")).to_be_visible()
    page.get_by_role("button", name="Upload").click()

    # The page answers at once with what was queued; the panel follows the job to its end.
    expect(page.get_by_text("Queued 2 file(s) for import into “Garden club”: compost.md, seeds.txt.")).to_be_visible()
    job = page.locator(".job").first
    expect(job.locator(".job-status")).to_have_text("Succeeded", timeout=JOB_TIMEOUT_MS)
    expect(job.locator(".job-files")).to_have_text("2 of 2 files")
    # jobs.js reloads the page once nothing is running, and the documents are listed.
    expect(page.locator(".documents-table tbody tr td:first-child")).to_have_text(["Compost", "Seed swap"])
    assert set(Document.objects.values_list("uploaded_by__username", flat=True)) == {"alice"}
    screenshot(page, "upload")


def test_a_first_upload_through_the_file_chooser_makes_my_documents(page, live_server, start_worker):
    make_user("carol")
    start_worker("chooser")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes/ideas.md", "# Ideas\n\nA walk along the river, then lunch at the market.")

    log_in(page, live_server, "carol")
    page.goto(live_server.url + reverse("documents:list"))
    page.get_by_label("Files or a .zip of a folder").set_input_files(
        [{"name": "notes.zip", "mimeType": "application/zip", "buffer": buffer.getvalue()},
         {"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": b"\xff\xd8\xff"}]
    )  # fmt: skip
    page.get_by_role("button", name="Upload").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("My documents")
    expect(page.get_by_text("Not imported: photo.jpg: unsupported file type")).to_be_visible()
    expect(page.locator(".job .job-status").first).to_have_text("Succeeded", timeout=JOB_TIMEOUT_MS)
    expect(page.locator(".documents-table tbody tr")).to_contain_text(["notes/ideas.md"])
    page.get_by_role("link", name="Ideas").click()
    expect(page.get_by_role("link", name="Download original")).to_be_visible()
