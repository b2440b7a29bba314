"""PDF, read by pypdf page by page: each page is a section that records its page number."""

import io

from documents.extract.base import ExtractedDocument, ExtractionError, Section, normalise

# Said of a PDF whose pages have no text to extract, typically scanned images: it is refused rather
# than imported as an empty document, so the person importing knows why it cannot be searched.
NO_TEXT_LAYER = "no text layer; OCR is not available"


def extract_pdf(data: bytes, fallback_title: str) -> ExtractedDocument:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise ExtractionError("the PDF is encrypted")
        pages = [page.extract_text() or "" for page in reader.pages]
        metadata_title = (reader.metadata.title if reader.metadata else None) or ""
    except ExtractionError:
        raise
    except Exception as exc:
        # Only pypdf runs in this block, and on a damaged file it fails with more than its own errors
        # (LimitReachedError on a loop, AttributeError on an object of the wrong type, ...).
        raise ExtractionError(f"not a readable PDF ({exc})") from None
    title = normalise(metadata_title) or fallback_title
    texts = enumerate(map(normalise, pages), start=1)
    sections = [Section(headings=[title, f"page {number}"], text=text, page=number) for number, text in texts if text]
    if pages and not sections:
        raise ExtractionError(NO_TEXT_LAYER)
    return ExtractedDocument(title=title, sections=sections)
