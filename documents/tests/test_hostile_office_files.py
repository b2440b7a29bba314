"""Hostile and damaged office files and e-books (zip containers), and oversized spreadsheets.

Each is refused with a reason before the library that reads its format inflates it, and in an
import the rest of the files go on and the documents stored before are neither lost nor changed.
"""

import io
import re
import struct
import zipfile
from pathlib import Path

import pytest

from documents.extract import ExtractionError, extract
from documents.services import documents_import
from documents.tests.office import make_docx, make_epub, make_odt, make_xlsx, zip_of
from documents.tests.pdf import image_only_pdf
from documents.tests.test_hostile_files import NOISE, stored, without


def zip_bomb(name: str = "word/document.xml", size: int = 2 * 1024 * 1024) -> bytes:
    """A few kilobytes of zip that inflate to ``size`` bytes of zeros."""
    return zip_of({"[Content_Types].xml": b"<Types/>", name: bytes(size)})


def stating_a_smaller_size(data: bytes, size: int) -> bytes:
    """``data`` (a one-member zip) with its member's inflated size rewritten to ``size``, as a forger would."""
    forged = bytearray(data)
    struct.pack_into("<I", forged, 22, size)  # the local file header
    struct.pack_into("<I", forged, forged.rfind(b"PK\x01\x02") + 24, size)  # the central directory
    return bytes(forged)


def sheet_stating_every_cell(data: bytes) -> bytes:
    """An .xlsx whose sheet states it spans the whole grid (A1:XFD1048576) whatever it holds."""
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        members = {info.filename: source.read(info) for info in source.infolist()}
    sheet = members["xl/worksheets/sheet1.xml"]
    members["xl/worksheets/sheet1.xml"] = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', sheet)
    return zip_of(members)


def flagged_encrypted() -> bytes:
    """A one-member zip whose member is marked encrypted (zipfile cannot write one, so the flag is set by hand)."""
    flagged = bytearray(zip_of({"word/document.xml": b"<w:document/>"}))
    flagged[6] |= 0x1  # the local file header's flags
    flagged[flagged.rfind(b"PK\x01\x02") + 8] |= 0x1  # the central directory's
    return bytes(flagged)


HOSTILE_CONTAINERS = [
    ("bomb.docx", zip_bomb(), "refused .docx file: it would inflate"),
    ("bomb.xlsx", zip_bomb("xl/worksheets/sheet1.xml"), "refused .xlsx file: it would inflate"),
    ("password.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + NOISE, "the .docx file is password-protected"),
    ("password.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + NOISE, "the .xlsx file is password-protected"),
    ("flagged.docx", flagged_encrypted(), "refused .docx file: its parts are encrypted"),
    (
        "locked.odt",
        zip_of({"META-INF/manifest.xml": b"<manifest:encryption-data/>", "content.xml": NOISE}),
        "the .odt file is password-protected",
    ),
    (
        "drm.epub",
        zip_of({"META-INF/encryption.xml": b'<CipherReference URI="OEBPS/chapter1.xhtml"/>', "a.xhtml": b""}),
        "the .epub file is encrypted (DRM)",
    ),
    ("truncated.docx", make_docx()[:3000], "not a readable .docx file"),
    ("noise.pptx", NOISE, "not a readable .pptx file (damaged or not a zip container"),
    ("not-a-deck.pptx", zip_of({"hello.txt": b"hi"}), "not a readable .pptx file"),
    ("zero-byte.epub", b"", "not a readable .epub file"),
    ("lying-size.docx", stating_a_smaller_size(zip_of({"word/document.xml": bytes(10**6)}), 1000), "not a readable"),
]


@pytest.mark.parametrize(("name", "data", "reason"), HOSTILE_CONTAINERS, ids=[case[0] for case in HOSTILE_CONTAINERS])
def test_a_hostile_or_damaged_office_file_is_refused_with_a_clear_reason(name, data, reason):
    with pytest.raises(ExtractionError) as refused:
        extract(Path(name), data)
    assert str(refused.value).startswith(reason)


def test_an_office_file_inflating_past_the_limit_is_refused_before_it_is_inflated(settings):
    settings.OFFICE_MAX_UNCOMPRESSED_BYTES, settings.OFFICE_MAX_RATIO = 1024 * 1024, 10**6
    with pytest.raises(ExtractionError, match=r"inflate to 2.0\xa0MB, more than the 1.0\xa0MB allowed"):
        extract(Path("big.docx"), zip_bomb())


def test_an_office_file_of_too_many_parts_is_refused(settings):
    settings.OFFICE_MAX_MEMBERS = 10
    with pytest.raises(ExtractionError, match="11 parts inside, more than the 10 allowed"):
        extract(Path("parts.odt"), zip_of({f"part{n}.xml": b"<p/>" for n in range(11)}))


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("wide.xlsx", make_xlsx({"Grid": [[f"r{r}c{c}" for c in range(10)] for r in range(11)]})),
        ("wide.csv", "\n".join(",".join(f"r{r}c{c}" for c in range(10)) for r in range(11)).encode()),
    ],
)
def test_a_spreadsheet_of_more_cells_than_allowed_is_refused(settings, name, data):
    settings.SPREADSHEET_MAX_CELLS = 100
    with pytest.raises(ExtractionError, match=r"more than 100 cells \(SPREADSHEET_MAX_CELLS\)"):
        extract(Path(name), data)


def test_a_sheet_stating_it_fills_the_whole_grid_is_read_by_the_cells_it_has():
    data = sheet_stating_every_cell(make_xlsx({"Crew": [["Name", "Role"], ["Ada", "Engineer"]]}))
    document = extract(Path("crew.xlsx"), data)
    assert [section.text for section in document.sections] == ["Name: Ada; Role: Engineer"]


def test_bad_office_files_and_a_scanned_pdf_are_refused_by_name_and_the_rest_imported(knowledge_base, docs_dir):
    before = stored()
    (docs_dir / "bomb.docx").write_bytes(zip_bomb())
    (docs_dir / "scan.pdf").write_bytes(image_only_pdf())
    (docs_dir / "crew.xlsx").write_bytes(make_xlsx())

    report = documents_import(paths=[docs_dir])

    reasons = dict(report.failed)
    assert sorted(reasons) == ["bomb.docx", "scan.pdf"]
    assert re.fullmatch(r"refused .docx file: it would inflate \d+ times its size, more than the 100 times "
                        r"allowed \(OFFICE_MAX_RATIO\); it looks like a zip bomb", reasons["bomb.docx"])  # fmt: skip
    assert reasons["scan.pdf"] == "no text layer; OCR is not available"
    assert report.added == ["crew.xlsx"] and not report.empty
    assert without(stored(), "crew.xlsx") == before


# Nine levels of entities, each ten of the one before: a billion "lol"s from a few hundred bytes.
LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">'
    + b"".join(b'<!ENTITY lol%d "%s">' % (n, b"&lol%d;" % (n - 1) * 10) for n in range(1, 10))
    + b"]>"
)
_W = b"http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_ODF = b"urn:oasis:names:tc:opendocument:xmlns"
_SHEET = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
# For each format: the part of a good file replaced, and a body of that part using the last entity.
ENTITY_BOMBS = {
    "docx": (
        make_docx,
        "word/document.xml",
        b'<w:document xmlns:w="%s"><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>' % _W,
    ),
    "odt": (
        make_odt,
        "content.xml",
        b'<office:document-content xmlns:office="%s:office:1.0" xmlns:text="%s:text:1.0"><office:body>'
        b"<office:text><text:p>&lol9;</text:p></office:text></office:body></office:document-content>" % (_ODF, _ODF),
    ),
    "xlsx": (
        make_xlsx,
        "xl/worksheets/sheet1.xml",
        b'<worksheet xmlns="%s"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
        b"</sheetData></worksheet>" % _SHEET,
    ),
    "epub": (
        make_epub,
        "EPUB/tides.xhtml",
        b'<html xmlns="http://www.w3.org/1999/xhtml"><body><p>&lol9;</p></body></html>',
    ),
}


def with_member(data: bytes, name: str, body: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        members = {info.filename: source.read(info) for info in source.infolist()}
    assert name in members, "the part replaced must be one the reader reads"
    return zip_of({**members, name: body})


@pytest.mark.parametrize("kind", ENTITY_BOMBS)
def test_xml_entities_inside_an_office_file_are_never_expanded_into_a_billion_characters(kind):
    make, member, body = ENTITY_BOMBS[kind]
    try:
        document = extract(Path(f"laughs.{kind}"), with_member(make(), member, LAUGHS + body))
    except ExtractionError as refused:
        assert str(refused).startswith(f"not a readable .{kind} file")
        return
    assert sum(len(section.text) for section in document.sections) < 10_000
