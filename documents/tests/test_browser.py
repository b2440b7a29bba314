"""The knowledge pages in a real headless Chromium: the collections a user reads, a collection's
documents, and a document with the passage an answer cited highlighted and scrolled into view.

Set UPDATE_SCREENSHOTS=1 to refresh the README's screenshots of these pages from this run.
"""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from conftest import make_user, write_files
from documents.collections import collection_share
from documents.models import Collection, Role, Visibility
from documents.services import documents_import
from ragchat.tests.browser import BROWSER_TESTS, WIDE, log_in, screenshot

pytestmark = BROWSER_TESTS

# Hand-written for these tests. Each section ends with its list or table: Markdown import loses the
# blank line after one (README, "What is not done yet"), which would join a paragraph after it.
EXPENSES = """# Expenses

Travel and meals for work are paid back within two weeks of a complete claim. This page says what
you can claim, how to claim it and how much the daily allowances are.

## What you can claim

Keep every receipt, except for meals.

- Train tickets in second class, and first class on journeys over four hours.
- Taxis after ten at night, or when carrying equipment.
- Hotel nights up to the limits in the table below.
- Meals on the road, as a daily allowance instead of receipts.

## How to claim

A reference names the year, the number and the purpose:

```
EXP-2027-0042  Train Lyon to Paris  89.00 EUR
```

1. Photograph every receipt on the day you get it.
2. Enter each expense in the claims tool with its reference.
3. Submit the claim before the end of the following month.

## Daily allowances

Abroad, the meal allowance is 45 euros a day. Keep no receipts for meals: the allowance covers them.

| Where | Meals a day | Hotel a night |
|---|---|---|
| At home | 25 EUR | 120 EUR |
| Abroad | 45 EUR | 160 EUR |

## Late claims

A claim sent more than three months late is paid only with the approval of your manager.
"""
HANDBOOK = {
    "expenses.md": EXPENSES,
    "leave.md": "# Leave\n\nAsk for leave a week ahead in the calendar. Summer leave is planned by April.",
    "travel.md": "# Travel\n\nBook trains at least two weeks ahead; the travel desk books flights.",
    "office.md": "# The office\n\nThe office opens at eight. The last one out switches off the coffee machine.",
    "onboarding.md": "# Onboarding\n\nA new colleague gets a laptop, a mentor and lunch with the team on day one.",
}
GARDEN_CLUB = {
    "compost.md": "# Compost\n\nTurn the heap every two weeks and keep it as damp as a wrung-out sponge.",
    "seeds.md": "# Seed swap\n\nThe seed swap is on the first Saturday of March, in the club house.",
}
MINE = {
    "reading-list.md": "# Reading list\n\n- The Overstory\n- Braiding Sweetgrass",
    "ideas.txt": "Ideas for the team day\n\nA walk along the river, then lunch at the market.",
}


@pytest.fixture
def knowledge(transactional_db, tmp_path):
    """Alice's own documents, a garden club Bob shares with her as editor, and the staff handbook."""
    alice, bob = make_user("alice"), make_user("bob")
    for folder, files in {"handbook": HANDBOOK, "garden": GARDEN_CLUB, "mine": MINE}.items():
        write_files(tmp_path / folder, files)
    Collection.objects.create(
        name="handbook",
        title="Staff handbook",
        visibility=Visibility.ORGANISATION,
        description="How we work: leave, travel, expenses, the office and a first day.",
    )
    garden = Collection.objects.create(name="garden-club", title="Garden club", owner=bob)  # private
    collection_share(collection=garden, user=alice, role=Role.EDITOR)
    assert not documents_import(paths=[tmp_path / "handbook"], collection="handbook").failed
    assert not documents_import(paths=[tmp_path / "garden"], collection="garden-club").failed
    call_command("import_documents", str(tmp_path / "mine"), "--owner", "alice", verbosity=0)


def test_the_knowledge_pages_from_the_list_to_a_cited_passage_in_its_document(page, live_server, knowledge):
    page.set_viewport_size(WIDE)
    log_in(page, live_server, "alice")

    # The collections she reads: her own first, then the others with her role in each.
    page.get_by_role("link", name="Knowledge").click()
    rows = page.locator(".collection-list > li")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("My documents")
    expect(rows.nth(0)).to_contain_text("2 documents · Only you")
    expect(rows.nth(1)).to_contain_text("Garden club")
    expect(rows.nth(1)).to_contain_text("2 documents · Editor")
    expect(rows.nth(2)).to_contain_text("Staff handbook")
    expect(rows.nth(2)).to_contain_text("5 documents · Reader")
    screenshot(page, "knowledge")

    # A collection's documents, in path order, searchable by title; a reader deletes nothing.
    page.get_by_role("link", name="Staff handbook").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff handbook")
    titles = page.locator(".documents-table tbody tr td:first-child")
    expect(titles).to_have_text(["Expenses", "Leave", "The office", "Onboarding", "Travel"])
    expect(page.locator(".documents-table tbody tr").first).to_contain_text("expenses.md")
    expect(page.get_by_text("Your role: Reader")).to_be_visible()
    expect(page.get_by_role("link", name="Delete")).to_have_count(0)
    screenshot(page, "collection")
    page.get_by_label("Search by title").fill("trav")
    page.get_by_role("button", name="Search").click()
    expect(titles).to_have_text(["Travel"])

    # An answer cites the allowances; its passage opens inside the whole document.
    page.get_by_role("link", name="ragchat").click()
    page.get_by_label("Question").fill("How much is the meal allowance abroad?")
    page.get_by_role("button", name="Ask").click()
    page.wait_for_url(re.compile(r"/conversations/\d+/"))
    answer = page.locator("article.message").first
    answer.locator("summary", has_text="Sources").click()
    answer.locator(".sources li", has_text="Daily allowances").get_by_role("link", name="Expenses").first.click()
    page.get_by_role("link", name="Open the whole document").click()

    cited = page.locator("section.cited")
    expect(cited).to_have_count(1)
    expect(cited).to_contain_text("Abroad, the meal allowance is 45 euros a day.")
    expect(cited).to_be_in_viewport()
    assert page.evaluate("window.scrollY") > 0  # scrolled to: it is below the first screenful
    expect(page.locator(".document h2.document-heading").first).to_have_text("Expenses")
    document = page.locator("article.document")
    expect(document.locator("li", has_text="Taxis after ten at night")).to_be_visible()  # Markdown rendered
    expect(document.locator("td", has_text="160 EUR")).to_be_visible()
    expect(document.locator("pre code")).to_contain_text("EXP-2027-0042")
    text = document.inner_text()
    for sentence in ["Photograph every receipt on the day you get it.", "Keep no receipts for meals"]:
        assert text.count(sentence) == 1  # each passage once, overlaps not repeated
    screenshot(page, "document")
