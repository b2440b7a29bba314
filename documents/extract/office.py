"""Word-processor files: .docx through python-docx and .odt through odfpy.

Both are read in document order as headings (by heading style or outline level), paragraphs, list
items ("- ") and tables (rows with their column names, as spreadsheets are); the headings make the
heading path the way Markdown headings do.
"""

import io
import re

from documents.extract.archives import check_container, read_member
from documents.extract.base import Block, ExtractedDocument, ExtractionError, first_heading, normalise, outline
from documents.extract.tables import looks_like_header, table_text

# Word's outline levels run 0-8 for headings; 9 is body text.
_WORD_BODY_LEVEL = 9
_HEADING_STYLE = re.compile(r"heading (\d)$", re.IGNORECASE)


def extract_docx(data: bytes, fallback_title: str) -> ExtractedDocument:
    from docx import Document

    check_container(data, ".docx")
    try:
        document = Document(io.BytesIO(data))
        blocks = [_docx_block(item) for item in document.iter_inner_content()]
        metadata_title = document.core_properties.title or ""
    except Exception as exc:  # python-docx fails on a damaged file with KeyError, ValueError, XML errors...
        raise ExtractionError(f"not a readable .docx file ({type(exc).__name__}: {exc})") from None
    title = normalise(metadata_title) or first_heading(blocks) or fallback_title
    return outline(title, blocks)


def _docx_block(item) -> Block:
    from docx.table import Table

    if isinstance(item, Table):
        rows = [[cell.text for cell in row.cells] for row in item.rows]
        return Block(table_text(rows, header=bool(rows) and looks_like_header(rows[0])))
    level = _docx_level(item)
    if level is not None:
        return Block(item.text, level=level)
    return Block(f"- {item.text}" if _docx_is_list_item(item) else item.text)


def _docx_level(paragraph) -> int | None:
    """The heading level of a paragraph (0 for the Title style), or None for body text.

    The outline level is read from the paragraph, then from its style and the styles it is based on;
    a "Heading N" style name counts too, for files whose styles do not state a level.
    """
    style = paragraph.style
    if style is not None and style.name == "Title":
        return 0
    stated = _outline_level(paragraph._p.pPr)
    while stated is None and style is not None:
        stated = _outline_level(style.element.pPr)
        if stated is None and (match := _HEADING_STYLE.match(style.name or "")):
            return int(match.group(1))
        style = style.base_style
    return stated + 1 if stated is not None and stated < _WORD_BODY_LEVEL else None


def _outline_level(pPr) -> int | None:
    """The outline level a paragraph's (or style's) properties state, or None if they state none."""
    from docx.oxml.ns import qn

    element = pPr.find(qn("w:outlineLvl")) if pPr is not None else None
    return int(element.get(qn("w:val"), _WORD_BODY_LEVEL)) if element is not None else None


def _docx_is_list_item(paragraph) -> bool:
    """Numbered or bulleted: numbering stated on the paragraph or on its style."""
    if paragraph._p.pPr is not None and paragraph._p.pPr.numPr is not None:
        return True
    style = paragraph.style
    while style is not None:
        if style.element.pPr is not None and style.element.pPr.numPr is not None:
            return True
        style = style.base_style
    return False


# An ODF table cell may say it repeats many times (a row of empty cells to the sheet's edge); a
# repeat is expanded at most this far, which keeps columns aligned without inflating the row.
_MAX_CELL_REPEAT = 100


def extract_odt(data: bytes, fallback_title: str) -> ExtractedDocument:
    from odf import dc, teletype
    from odf.opendocument import load

    check_container(data, ".odt")
    try:
        manifest = read_member(data, "META-INF/manifest.xml")
    except KeyError:
        raise ExtractionError("not a readable .odt file (it has no manifest)") from None
    if b"encryption-data" in manifest:
        raise ExtractionError("the .odt file is password-protected (encrypted); save it without a password")
    try:
        document = load(io.BytesIO(data))
        blocks: list[Block] = []
        _odt_blocks(document.text, blocks, in_list=False)
        titles = document.meta.getElementsByType(dc.Title)
        metadata_title = teletype.extractText(titles[0]) if titles else ""
    except Exception as exc:  # odfpy fails on a damaged file with KeyError, XML errors...
        raise ExtractionError(f"not a readable .odt file ({type(exc).__name__}: {exc})") from None
    title = normalise(metadata_title) or first_heading(blocks) or fallback_title
    return outline(title, blocks)


def _odt_blocks(element, blocks: list[Block], *, in_list: bool) -> None:
    """The blocks of ``element``'s children in document order; sections and lists are walked into."""
    from odf import teletype
    from odf.namespaces import TABLENS, TEXTNS

    for child in element.childNodes:
        if child.nodeType != child.ELEMENT_NODE:
            continue
        if child.qname == (TEXTNS, "h"):
            blocks.append(Block(teletype.extractText(child), level=int(child.getAttribute("outlinelevel") or 1)))
        elif child.qname == (TEXTNS, "p"):
            text = teletype.extractText(child)
            blocks.append(Block(f"- {text}" if in_list and text.strip() else text))
        elif child.qname == (TABLENS, "table"):
            rows = _odt_rows(child)
            blocks.append(Block(table_text(rows, header=bool(rows) and looks_like_header(rows[0]))))
        elif child.qname in ((TEXTNS, "list"), (TEXTNS, "list-item"), (TEXTNS, "list-header")):
            _odt_blocks(child, blocks, in_list=True)
        elif child.qname in ((TEXTNS, "section"), (TEXTNS, "index-body")):
            _odt_blocks(child, blocks, in_list=in_list)


def _odt_rows(table) -> list[list[str]]:
    from odf import teletype
    from odf.table import CoveredTableCell, TableCell, TableRow

    rows = []
    for row in table.getElementsByType(TableRow):
        cells: list[str] = []
        for cell in row.childNodes:
            if cell.qname not in (TableCell().qname, CoveredTableCell().qname):
                continue
            repeat = int(cell.getAttribute("numbercolumnsrepeated") or 1)
            cells += [teletype.extractText(cell)] * min(repeat, _MAX_CELL_REPEAT)
        rows.append(cells)
    return rows
