"""Text formats: plain text, Markdown, reStructuredText and HTML.

HTML is rewritten as Markdown headings and goes through the Markdown path, which uses LangChain's
header splitter; reStructuredText is parsed by docutils, its reference parser; plain text is split
at the lines that look like headings.
"""

import io
import re

from bs4 import BeautifulSoup
from django.conf import settings
from langchain_text_splitters import MarkdownHeaderTextSplitter

from documents.extract.base import ExtractedDocument, Section, normalise

_MARKDOWN_LEVELS = [("#" * n, f"h{n}") for n in range(1, 7)]


def extract_plain_text(text: str, fallback_title: str) -> ExtractedDocument:
    text = normalise(text)
    first_line, _, rest = text.partition("\n")
    # A short first line followed by a blank line reads as the title, as in most notes.
    if first_line and len(first_line) <= 150 and rest.startswith("\n") and rest.strip():
        title, body = first_line.strip(), rest.strip()
        path_title = title
    else:
        title, body = fallback_title, text
        # A file name's closing number only orders files ("faq-03"): embedded with every passage
        # of the file it matches no question, so the heading path leaves it out.
        path_title = _SEQUENCE_NUMBER.sub("", fallback_title) or fallback_title
    return ExtractedDocument(title=title, sections=_plain_sections(path_title, body) if body else [])


_SEQUENCE_NUMBER = re.compile(r"(?:\s+\d{1,3})+$")
# Plain text marks its headings by layout only: a short line alone in its paragraph, starting with
# a capital or a number and not ending like a sentence ("Installing on Windows", "16.1. Authors").
# Lines with the marks of code, commands or drawings are not headings.
_PLAIN_HEADING_MAX_WORDS = 10
_PLAIN_HEADING_MAX_CHARS = 80
_NOT_IN_PLAIN_HEADINGS = re.compile(r"[(){}\[\]=<>/\\_`$*|#@;]|--")


def _is_plain_heading(paragraph: str) -> bool:
    words = paragraph.split()
    return (
        "\n" not in paragraph
        and 0 < len(words) <= _PLAIN_HEADING_MAX_WORDS
        and len(paragraph) <= _PLAIN_HEADING_MAX_CHARS
        and (paragraph[0].isupper() or paragraph[0].isdigit())
        and paragraph[-1] not in ".:;,!)"
        and not _NOT_IN_PLAIN_HEADINGS.search(paragraph)
        and any(len(word) >= 3 and word.isalpha() for word in words)
    )


def _plain_sections(title: str, body: str) -> list[Section]:
    """The body split at its heading lines; headings met together form one path under the title.

    A heading closes the section before it only once that section holds half a chunk of text
    (``CHUNK_TOKENS``, in the model's word pieces). Otherwise a heading with a line or two under it
    ("See also" and one cross-reference) became a passage of its own that matched questions by those
    few words alone; now such a heading stays in the text of the section it follows.
    """
    from documents.embeddings import token_count

    least = settings.CHUNK_TOKENS // 2
    sections: list[Section] = []
    headings: list[str] = []  # of the section being filled
    paragraphs: list[str] = []
    size = 0  # word pieces in paragraphs
    for paragraph in body.split("\n\n"):
        line = paragraph.strip()
        if _is_plain_heading(line):
            if not paragraphs:
                headings.append(line)
                continue
            if size >= least:
                sections.append(Section(headings=[title, *headings], text="\n\n".join(paragraphs)))
                headings, paragraphs, size = [line], [], 0
                continue
        paragraphs.append(paragraph)
        size += token_count(paragraph)
    if paragraphs and sections and size < least:
        # The same for a short last section: it joins the one before, its heading lines as text.
        last = sections[-1]
        last.text = "\n\n".join([last.text, *headings, *paragraphs])
    elif paragraphs:
        sections.append(Section(headings=[title, *headings], text="\n\n".join(paragraphs)))
    # A body of heading lines only (a list of short lines) is text, not headings.
    return sections or [Section(headings=[title], text=body)]


def extract_markdown(text: str, fallback_title: str) -> ExtractedDocument:
    splitter = MarkdownHeaderTextSplitter(headers_to_split_on=_MARKDOWN_LEVELS, strip_headers=True)
    parts = splitter.split_text(normalise(text))
    title = next((part.metadata["h1"] for part in parts if part.metadata.get("h1")), fallback_title)
    sections = []
    for part in parts:
        headings = [part.metadata[f"h{n}"] for n in range(1, 7) if part.metadata.get(f"h{n}")]
        if not headings or headings[0] != title:
            headings.insert(0, title)
        body = normalise(part.page_content)
        if body:
            sections.append(Section(headings=headings, text=body))
    return ExtractedDocument(title=title, sections=sections)


# docutils, reStructuredText's reference parser, reads the whole syntax (literal blocks, lists,
# directives) that a line-by-line rewrite got wrong. A document is untrusted input: directives that
# read files or pass raw markup through are off, and a malformed document is parsed as far as it
# goes, never refused (its problems would otherwise be printed or raised).
_RST_SETTINGS = {
    "file_insertion_enabled": False,
    "raw_enabled": False,
    "report_level": 5,
    "halt_level": 5,
    "_disable_config": True,
}


def extract_restructuredtext(text: str, fallback_title: str) -> ExtractedDocument:
    from docutils import nodes
    from docutils.core import publish_doctree

    # A stream of its own per document: whatever docutils writes there is never shown.
    doctree = publish_doctree(normalise(text), settings_overrides=dict(_RST_SETTINGS, warning_stream=io.StringIO()))
    # docutils makes a lone top-level section title the document's title (its first child).
    first = doctree.children[0] if doctree.children else None
    title = first.astext().strip() if isinstance(first, nodes.title) else fallback_title
    sections: list[Section] = []
    _rst_sections(doctree, [title], sections)
    return ExtractedDocument(title=title, sections=sections)


def _rst_sections(node, headings: list[str], sections: list[Section]) -> None:
    """``node``'s own text as one section under ``headings``, then each of its subsections in order."""
    from docutils import nodes

    skipped = (
        nodes.title,
        nodes.subtitle,
        nodes.comment,
        nodes.system_message,
        nodes.target,
        nodes.substitution_definition,
    )
    blocks, subsections = [], []
    for child in node.children:
        if isinstance(child, nodes.section):
            subsections.append(child)
        elif not isinstance(child, skipped):
            blocks.append(_rst_block_text(child))
    body = normalise("\n\n".join(block for block in blocks if block.strip()))
    if body:
        sections.append(Section(headings=list(headings), text=body))
    for section in subsections:
        title = section.next_node(nodes.title)
        _rst_sections(section, [*headings, title.astext().strip()] if title else headings, sections)


def _rst_block_text(node) -> str:
    from docutils import nodes

    if isinstance(node, (nodes.bullet_list, nodes.enumerated_list)):
        return "\n".join("- " + " ".join(item.astext().split()) for item in node.children)
    return node.astext()


_DROPPED_HTML = ["script", "style", "noscript", "nav", "header", "footer", "aside", "form", "template", "svg"]


def html_to_markdown(html: str) -> tuple[str, str]:
    """Return the page title and its visible text, with headings as Markdown headings."""
    soup = BeautifulSoup(html, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in soup(_DROPPED_HTML):
        tag.decompose()
    body = soup.body or soup
    for level in range(1, 7):
        for heading in body.find_all(f"h{level}"):
            heading.replace_with(f"\n\n{'#' * level} {heading.get_text(' ', strip=True)}\n\n")
    for item in body.find_all("li"):
        item.insert(0, "- ")
    for block in body.find_all(["p", "div", "li", "pre", "tr", "br", "table", "blockquote", "section"]):
        block.append("\n")
    text = body.get_text()
    first_h1 = re.search(r"^# (.+)$", text, flags=re.MULTILINE)
    return (first_h1.group(1).strip() if first_h1 else title), text
