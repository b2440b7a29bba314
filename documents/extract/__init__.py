"""Turn files into clean text split into titled sections.

Every format is reduced to the same shape (``base.ExtractedDocument``: a title and sections with
heading paths and, where the format has them, pages), so chunking and embedding never need to know
where a text came from. One module per family of formats; ``extract`` picks the reader by suffix.
"""

from pathlib import Path

from documents.extract.base import ExtractedDocument, ExtractionError, Section, decode
from documents.extract.epub import extract_epub
from documents.extract.office import extract_docx, extract_odt
from documents.extract.pdf import extract_pdf
from documents.extract.slides import extract_pptx
from documents.extract.tables import extract_csv, extract_xlsx
from documents.extract.text import extract_markdown, extract_plain_text, extract_restructuredtext, html_to_markdown

__all__ = ["SUPPORTED_SUFFIXES", "ExtractedDocument", "ExtractionError", "Section", "extract"]

# Readers given the raw bytes, by suffix: binary formats, and CSV, which finds its own encoding.
# The other suffixes are UTF-8 text.
_BYTES_READERS = {
    ".pdf": extract_pdf,
    ".docx": extract_docx,
    ".pptx": extract_pptx,
    ".xlsx": extract_xlsx,
    ".csv": extract_csv,
    ".epub": extract_epub,
    ".odt": extract_odt,
}
SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".rst", ".html", ".htm", *_BYTES_READERS)


def extract(path: Path, data: bytes) -> ExtractedDocument:
    """Extract a document from the bytes of the file at ``path`` (its suffix picks the reader)."""
    suffix = path.suffix.lower()
    fallback_title = path.stem.replace("_", " ").replace("-", " ").strip() or path.name
    if suffix in _BYTES_READERS:
        return _BYTES_READERS[suffix](data, fallback_title)
    text = decode(data)
    if suffix in (".html", ".htm"):
        title, markdown = html_to_markdown(text)
        return extract_markdown(markdown, title or fallback_title)
    if suffix == ".rst":
        return extract_restructuredtext(text, fallback_title)
    if suffix in (".md", ".markdown"):
        return extract_markdown(text, fallback_title)
    return extract_plain_text(text, fallback_title)
