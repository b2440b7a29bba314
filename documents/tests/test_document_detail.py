"""A document's page (views.document_detail): read whole, rendered safely, a passage highlighted."""

from django.urls import reverse

from documents.collections import personal_collection
from documents.reading import overlap
from documents.tests.conftest import make_document


def url(document) -> str:
    return reverse("documents:document", args=[document.collection_id, document.pk])


def test_markdown_is_rendered(as_user, garden):
    text = "Steps:\n\n1. Boil\n2. Rinse\n\n```\npip install x\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n### Notes"
    document = make_document(garden, "kettle.md", [("Kettle", text)])
    page = as_user("rita").get(url(document)).content.decode()
    assert "<li>Boil</li>" in page and "<pre><code>pip install x\n</code></pre>" in page
    assert "<td>1</td>" in page and "<h3>Notes</h3>" in page


def test_html_and_script_in_a_document_are_inert(as_user, garden):
    text = '<script>alert("x")</script> <img src=x onerror=alert(1)> [click](javascript:alert(1)) **bold**'
    document = make_document(garden, "hostile.md", [("", text)])
    page = as_user("rita").get(url(document)).content.decode()
    assert "<script>alert" not in page and "<img" not in page and 'href="javascript' not in page
    assert "&lt;script&gt;" in page and "<strong>bold</strong>" in page


def test_the_chosen_passage_is_highlighted_and_every_passage_has_an_anchor(as_user, roses):
    second = roses.chunks.get(position=1)
    page = as_user("rita").get(url(roses), {"chunk": second.pk}).content.decode()
    assert '<section id="chunk-0">' in page
    assert '<section id="chunk-1" class="cited" aria-current="true">' in page


def test_an_unknown_or_malformed_chunk_highlights_nothing(as_user, roses):
    for chunk in ["999999", "abc"]:
        response = as_user("rita").get(url(roses), {"chunk": chunk})
        assert response.status_code == 200 and "cited" not in response.content.decode()


def test_overlapping_passages_are_shown_once_each_in_order_under_their_heading(as_user, garden):
    heading = "Guide › Pruning"
    chunks = [(heading, "Cut in winter. Use clean shears."), (heading, "Use clean shears. Burn the cuttings.")]
    document = make_document(garden, "guide.md", chunks)
    page = as_user("rita").get(url(document)).content.decode()
    assert page.count("Use clean shears.") == 1 and page.count("Guide › Pruning") == 1
    assert page.index("Cut in winter.") < page.index("Use clean shears.") < page.index("Burn the cuttings.")
    assert '<section id="chunk-1"><p>Burn the cuttings.</p>' in page


def test_overlap_takes_whole_words_only():
    assert overlap("Cut in winter. Use clean shears.", "Use clean shears. Burn.") == len("Use clean shears.")
    assert overlap("a cat", "at home") == 0 and overlap("text", "") == 0


def test_non_members_get_404(as_user, roses, alice):
    assert as_user("alice").get(url(roses)).status_code == 404


def test_a_document_is_found_only_within_its_collection(as_user, roses, alice):
    """Her own collection's name with his document's id does not open it."""
    mine = personal_collection(alice)
    assert as_user("alice").get(reverse("documents:document", args=[mine.name, roses.pk])).status_code == 404
