"""Office files and e-books written by the same libraries that read them, for the extraction tests.

Each builder returns the bytes of a small file about a harbour, with headings two levels deep, a
list and a table, so every reader is tested on the same content.
"""

import io
import zipfile

CREW = [["Name", "Role"], ["Ada", "Engineer"], ["Grace", "Admiral"]]


def make_docx(title: str = "Harbour report") -> bytes:
    import docx

    document = docx.Document()
    document.core_properties.title = title
    document.add_heading("Tides", level=1)
    document.add_paragraph("The tide turns twice a day.")
    document.add_paragraph("Check the gauge at dawn", style="List Bullet")
    document.add_heading("Spring tides", level=2)
    document.add_paragraph("Spring tides run higher than usual.")
    table = document.add_table(rows=len(CREW), cols=2)
    for r, row in enumerate(CREW):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    document.add_heading("Storms", level=1)
    document.add_paragraph("Close the gates before a storm.")
    return _saved(document)


def make_pptx() -> bytes:
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    cover = deck.slides.add_slide(deck.slide_layouts[0])
    cover.shapes.title.text = "Harbour review"
    cover.placeholders[1].text = "Spring season"
    tides = deck.slides.add_slide(deck.slide_layouts[1])
    tides.shapes.title.text = "Tides"
    tides.placeholders[1].text = "The tide turns twice a day\nCheck the gauge at dawn"
    tides.notes_slide.notes_text_frame.text = "Mention the moon."
    crew = deck.slides.add_slide(deck.slide_layouts[5])
    crew.shapes.title.text = "Crew"
    table = crew.shapes.add_table(len(CREW), 2, Inches(1), Inches(2), Inches(4), Inches(1)).table
    for r, row in enumerate(CREW):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    return _saved(deck)


def make_xlsx(sheets: dict[str, list[list]] | None = None) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in (sheets or {"Crew": CREW, "Boats": [["Boat", "Length"], ["Swift", 12.5]]}).items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    return _saved(workbook)


def make_odt() -> bytes:
    from odf import dc
    from odf.opendocument import OpenDocumentText
    from odf.table import Table, TableCell, TableColumn, TableRow
    from odf.text import H, List, ListItem, P

    document = OpenDocumentText()
    document.meta.addElement(dc.Title(text="Harbour report"))
    body = document.text
    body.addElement(H(outlinelevel=1, text="Tides"))
    body.addElement(P(text="The tide turns twice a day."))
    items = List()
    item = ListItem()
    item.addElement(P(text="Check the gauge at dawn"))
    items.addElement(item)
    body.addElement(items)
    body.addElement(H(outlinelevel=2, text="Spring tides"))
    table = Table(name="Crew")
    table.addElement(TableColumn(numbercolumnsrepeated=2))
    for row_values in CREW:
        row = TableRow()
        for value in row_values:
            cell = TableCell()
            cell.addElement(P(text=value))
            row.addElement(cell)
        table.addElement(row)
    body.addElement(table)
    body.addElement(H(outlinelevel=1, text="Storms"))
    body.addElement(P(text="Close the gates before a storm."))
    out = io.BytesIO()
    document.write(out)
    return out.getvalue()


def make_epub() -> bytes:
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("harbour-tales")
    book.set_title("Harbour tales")
    book.set_language("en")
    storms = epub.EpubHtml(title="Storms", file_name="storms.xhtml", lang="en")
    storms.content = "<h1>Storms</h1><p>Close the gates.</p><h2>After the storm</h2><p>Count the boats.</p>"
    tides = epub.EpubHtml(title="Tides", file_name="tides.xhtml", lang="en")
    tides.content = "<p>The tide turns twice a day.</p>"  # no heading of its own: the contents name it
    book.add_item(storms)
    book.add_item(tides)
    book.toc = [epub.Link("tides.xhtml", "Tides and currents", "tides"), epub.Link("storms.xhtml", "Storms", "storms")]
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", tides, storms]  # reading order differs from the order the files were added
    out = io.BytesIO()
    epub.write_epub(out, book)
    return out.getvalue()


def zip_of(members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip archive of ``members`` (name: bytes), as a hand-made (or hostile) office file would be."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def _saved(document) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
