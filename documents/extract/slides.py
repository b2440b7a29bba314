"""Presentations (.pptx) through python-pptx: each slide a section titled by its slide title.

A slide's text frames, tables and speaker notes make its text, and its number is the page its
passages are cited by ("deck.pptx, slide 3").
"""

import io

from documents.extract.archives import check_container
from documents.extract.base import Block, ExtractedDocument, ExtractionError, normalise, outline
from documents.extract.tables import looks_like_header, table_text


def extract_pptx(data: bytes, fallback_title: str) -> ExtractedDocument:
    from pptx import Presentation

    check_container(data, ".pptx")
    try:
        presentation = Presentation(io.BytesIO(data))
        slides = [_slide_blocks(number, slide) for number, slide in enumerate(presentation.slides, start=1)]
        metadata_title = presentation.core_properties.title or ""
    except Exception as exc:  # python-pptx fails on a damaged file with KeyError, ValueError, XML errors...
        raise ExtractionError(f"not a readable .pptx file ({type(exc).__name__}: {exc})") from None
    # The deck's title is the one it states, else its first slide's (usually a title slide).
    first_slide_title = next((title for title, _ in slides if title), "")
    title = normalise(metadata_title) or first_slide_title or fallback_title
    blocks = []
    for number, (slide_title, content) in enumerate(slides, start=1):
        blocks += [Block(slide_title or f"Slide {number}", level=1, page=number), *content]
    return outline(title, blocks)


def _slide_blocks(number: int, slide) -> tuple[str, list[Block]]:
    """The slide's title and the blocks of its other shapes (in their order on the slide) and notes."""
    title_shape = slide.shapes.title
    title = " ".join(title_shape.text_frame.text.split()) if title_shape is not None else ""
    skip = title_shape.shape_id if title_shape is not None else None
    blocks = [Block(text, page=number) for text in _shape_texts(slide.shapes, skip)]
    if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
        notes = slide.notes_slide.notes_text_frame.text
        if notes.strip():
            blocks.append(Block(f"Notes: {notes}", page=number))
    return title, blocks


def _shape_texts(shapes, skip: int | None) -> list[str]:
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    texts = []
    for shape in shapes:
        if shape.shape_id == skip:
            continue
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            texts += _shape_texts(shape.shapes, skip)
        elif shape.has_text_frame:
            texts.append("\n".join(paragraph.text for paragraph in shape.text_frame.paragraphs))
        elif shape.has_table:
            rows = [[cell.text for cell in row.cells] for row in shape.table.rows]
            texts.append(table_text(rows, header=bool(rows) and looks_like_header(rows[0])))
    return texts
