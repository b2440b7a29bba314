"""E-books (.epub) through ebooklib: chapters in reading (spine) order, each read as HTML.

A chapter's XHTML goes through the same HTML-to-Markdown path as web pages; the heading path is
book title › chapter title (its first heading, else its table-of-contents entry, else its
<title>) › its subheadings.
"""

import io
import posixpath
import re

from documents.extract.archives import check_container, read_member
from documents.extract.base import ExtractedDocument, ExtractionError, Section, normalise
from documents.extract.text import extract_markdown, html_to_markdown

# DRM lists the encrypted content files here; fonts may be listed too (obfuscated), which is harmless.
_ENCRYPTION = "META-INF/encryption.xml"
_ENCRYPTED_CONTENT = re.compile(rb"URI=\"[^\"]+\.x?html?\"", re.IGNORECASE)


def extract_epub(data: bytes, fallback_title: str) -> ExtractedDocument:
    from ebooklib import ITEM_DOCUMENT, epub

    if _ENCRYPTION in check_container(data, ".epub") and _ENCRYPTED_CONTENT.search(read_member(data, _ENCRYPTION)):
        raise ExtractionError("the .epub file is encrypted (DRM); only e-books without DRM can be read")
    try:
        book = epub.read_epub(io.BytesIO(data))
        titles = book.get_metadata("DC", "title")
        chapters = []
        for idref, _linear in book.spine:
            item = book.get_item_with_id(idref)
            if item is not None and item.get_type() == ITEM_DOCUMENT:
                chapters.append((item.get_name(), item.get_content().decode("utf-8", errors="replace")))
        contents = _toc_titles(book.toc)
    except Exception as exc:  # ebooklib fails on a damaged book with its EpubException, KeyError, XML errors...
        raise ExtractionError(f"not a readable .epub file ({type(exc).__name__}: {exc})") from None
    title = normalise(titles[0][0] if titles else "") or fallback_title
    sections: list[Section] = []
    for number, (name, xhtml) in enumerate(chapters, start=1):
        page_title, markdown = html_to_markdown(xhtml)
        # The chapter's first heading names it (the Markdown reader takes it); without one, its entry in
        # the contents does, before its <title>, which many books set to the book's title on every page.
        chapter = extract_markdown(markdown, contents.get(name) or page_title or f"Chapter {number}")
        sections += [Section(headings=[title, *section.headings], text=section.text) for section in chapter.sections]
    return ExtractedDocument(title=title, sections=sections)


def _toc_titles(entries) -> dict[str, str]:
    """The table of contents' title for each chapter file (the first entry pointing into it)."""
    from ebooklib.epub import Link, Section

    titles: dict[str, str] = {}
    for entry in entries:
        if isinstance(entry, tuple):  # (a section, its entries)
            section, children = entry
            if isinstance(section, Section) and section.href:
                titles.setdefault(_file_of(section.href), section.title)
            for name, value in _toc_titles(children).items():
                titles.setdefault(name, value)
        elif isinstance(entry, Link):
            titles.setdefault(_file_of(entry.href), entry.title)
    return titles


def _file_of(href: str) -> str:
    return posixpath.normpath(href.split("#", 1)[0])
