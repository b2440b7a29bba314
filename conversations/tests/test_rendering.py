from conversations.rendering import render_markdown


def urls(number: int) -> str | None:
    return f"/p/{number}/" if number in (1, 2) else None


def test_markdown_lists_code_and_tables_are_rendered():
    html = render_markdown("Steps:\n\n1. Boil\n2. Rinse\n\n```\npip install x\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |")
    assert "<ol>" in html and "<li>Boil</li>" in html
    assert "<pre><code>pip install x\n</code></pre>" in html
    assert "<table>" in html and "<td>1</td>" in html


def test_citations_link_only_to_passages_that_were_given():
    html = render_markdown("Prune in winter [1], feed in spring [2], never [7].", urls)
    assert '<a class="citation" href="/p/1/" title="Open passage 1" rel="noopener noreferrer nofollow">[1]</a>' in html
    assert 'href="/p/2/"' in html
    assert "never [7]." in html and "/p/7/" not in html


def test_a_citation_is_titled_with_its_source_and_page_escaped():
    labels = {1: "harbour-report.pdf, p. 2", 2: 'quote".pdf'}.get
    html = render_markdown("Gates close at dusk [1], see [2].", urls, labels)
    assert 'title="Open passage 1: harbour-report.pdf, p. 2"' in html
    assert 'title="Open passage 2: quote&quot;.pdf"' in html


def test_citation_markers_inside_code_stay_code():
    html = render_markdown("Use `items[1]` here [1].", urls)
    assert "<code>items[1]</code>" in html and html.count("citation") == 1


def test_html_and_script_in_an_answer_are_shown_as_text():
    html = render_markdown('<script>alert("x")</script> <img src=x onerror=alert(1)> **bold**')
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html and "<strong>bold</strong>" in html


def test_dangerous_links_are_neutralised():
    html = render_markdown("[click](javascript:alert(1)) [data](data:text/html,hi) [ok](https://example.org)")
    assert "javascript:" not in html.split("[click]")[0] and 'href="javascript' not in html
    assert 'href="data:' not in html
    assert '<a href="https://example.org" rel="noopener noreferrer nofollow">ok</a>' in html
