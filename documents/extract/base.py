"""The shape every reader reduces a file to, and what the readers share.

A document is a title and a list of sections, each with its heading path (title › chapter › …) and,
for formats with pages (PDF pages, presentation slides), the 1-based page it is on.
"""

import re
from dataclasses import dataclass, field


class ExtractionError(Exception):
    """The file cannot be read as a document; the message says why, for the person importing."""


@dataclass
class Section:
    headings: list[str]
    text: str
    page: int | None = None  # 1-based; None where the format has no pages


@dataclass
class ExtractedDocument:
    title: str
    sections: list[Section] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not any(section.text.strip() for section in self.sections)


def decode(data: bytes) -> str:
    if b"\x00" in data:
        raise ExtractionError("binary file (contains NUL bytes), not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExtractionError(f"not valid UTF-8 text (byte {exc.start})") from None


# Characters the database cannot store. PostgreSQL text cannot hold NUL, and a lone surrogate (PDF
# fonts can map a character code to half a pair) cannot be encoded as UTF-8, nor read by the tokenizer.
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


def normalise(text: str) -> str:
    """Drop NUL and replace lone surrogates; unify line endings; collapse blank lines and trailing spaces."""
    text = _LONE_SURROGATE.sub("\ufffd", text.replace("\x00", ""))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


@dataclass(frozen=True)
class Block:
    """One piece of a document as a reader meets it: a heading (with its level) or body text."""

    text: str
    level: int | None = None  # a heading's level, 0 for the document's title; None for body text
    page: int | None = None


def first_heading(blocks: list[Block]) -> str:
    """The text of the first heading of the highest level met (a title, else a first-level heading)."""
    levels = [block.level for block in blocks if block.level is not None and block.level <= 1]
    top = min(levels, default=None)
    return next((block.text for block in blocks if block.level == top), "") if top is not None else ""


def outline(title: str, blocks: list[Block]) -> ExtractedDocument:
    """Sections from the blocks: each heading closes the section before it, as in Markdown.

    A heading replaces every heading of its level or deeper in the path, the document title leads
    every path once, and a change of page closes the section too, so a section is on one page.
    """
    sections: list[Section] = []
    headings: list[tuple[int, str]] = []
    texts: list[str] = []
    page: int | None = None

    def close() -> None:
        body = normalise("\n\n".join(texts))
        texts.clear()
        if body:
            path = [name for _, name in headings]
            if not path or path[0] != title:
                path.insert(0, title)
            sections.append(Section(headings=path, text=body, page=page))

    for block in blocks:
        text = block.text if block.level is None else " ".join(block.text.split())
        if not text.strip():
            continue
        if block.page != page or block.level is not None:
            close()
            page = block.page
        if block.level is None:
            texts.append(text)
        else:
            headings = [(level, name) for level, name in headings if level < block.level] + [(block.level, text)]
    close()
    return ExtractedDocument(title=title, sections=sections)
