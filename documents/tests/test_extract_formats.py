"""The office formats and e-books: headings kept as heading paths, table rows with their column
names, slides and PDF pages recorded. Every file is written in the test by the library that reads it."""

import datetime
from pathlib import Path

import pytest

from documents.chunking import chunk_document
from documents.extract import SUPPORTED_SUFFIXES, ExtractionError, extract
from documents.tests.office import make_docx, make_epub, make_odt, make_pptx, make_xlsx
from documents.tests.pdf import image_only_pdf, make_pdf_pages

WORD_PROCESSED = [("report.docx", make_docx), ("report.odt", make_odt)]


def outline(document) -> list[tuple[list[str], str, int | None]]:
    return [(section.headings, section.text, section.page) for section in document.sections]


@pytest.mark.parametrize(("name", "make"), WORD_PROCESSED, ids=[name for name, _ in WORD_PROCESSED])
def test_word_processor_files_keep_headings_lists_and_tables_with_column_names(name, make):
    document = extract(Path(name), make())

    assert document.title == "Harbour report"
    assert [section.headings for section in document.sections] == [
        ["Harbour report", "Tides"],
        ["Harbour report", "Tides", "Spring tides"],
        ["Harbour report", "Storms"],
    ]
    tides, spring, storms = (section.text for section in document.sections)
    assert tides == "The tide turns twice a day.\n\n- Check the gauge at dawn"
    assert spring.endswith("Name: Ada; Role: Engineer\nName: Grace; Role: Admiral")
    assert storms == "Close the gates before a storm."
    assert all(section.page is None for section in document.sections)


def test_a_docx_without_a_stated_title_is_named_by_its_first_heading():
    document = extract(Path("notes.docx"), make_docx(title=""))
    assert document.title == "Tides"
    assert document.sections[0].headings == ["Tides"]


def test_each_slide_is_a_section_titled_by_its_slide_title_on_its_own_page():
    document = extract(Path("review.pptx"), make_pptx())

    assert document.title == "Harbour review"  # the first slide's title, as no title is stated
    assert outline(document) == [
        (["Harbour review"], "Spring season", 1),
        (
            ["Harbour review", "Tides"],
            "The tide turns twice a day\nCheck the gauge at dawn\n\nNotes: Mention the moon.",
            2,
        ),
        (["Harbour review", "Crew"], "Name: Ada; Role: Engineer\nName: Grace; Role: Admiral", 3),
    ]


def test_each_sheet_is_a_section_and_each_row_carries_its_column_names():
    document = extract(Path("crew_list.xlsx"), make_xlsx())

    assert outline(document) == [
        (["crew list", "Crew"], "Name: Ada; Role: Engineer\nName: Grace; Role: Admiral", None),
        (["crew list", "Boats"], "Boat: Swift; Length: 12.5", None),
    ]


def test_sheet_values_are_written_plainly_unnamed_columns_numbered_and_headerless_sheets_kept_as_rows():
    sheets = {
        "Log": [
            ["Day", "Tide", "Note"],
            [datetime.datetime(2026, 3, 1), 4.0, None],
            [datetime.date(2026, 3, 2), 3.5, "calm"],
        ],
        "Crew": [["Name", None, "Role"], ["Ada", "night shift", "Engineer"]],
        "Numbers": [[1, 2], [3, 4]],
        "Empty": [],
    }
    document = extract(Path("log.xlsx"), make_xlsx(sheets))

    assert outline(document) == [
        (["log", "Log"], "Day: 2026-03-01; Tide: 4\nDay: 2026-03-02; Tide: 3.5; Note: calm", None),
        (["log", "Crew"], "Name: Ada; Column 2: night shift; Role: Engineer", None),
        (["log", "Numbers"], "1; 2\n3; 4", None),
    ]


def test_chunks_of_a_long_sheet_are_cut_between_rows(settings):
    settings.CHUNK_TOKENS, settings.CHUNK_OVERLAP_TOKENS = 64, 0
    rows = [["Boat", "Harbour", "Owner"]] + [[f"Boat {n}", "North quay", f"Owner {n}"] for n in range(200)]

    chunks = chunk_document(extract(Path("boats.xlsx"), make_xlsx({"Boats": rows})))

    assert len(chunks) > 5
    lines = [line for chunk in chunks for line in chunk.text.split("\n")]
    assert lines == [f"Boat: Boat {n}; Harbour: North quay; Owner: Owner {n}" for n in range(200)]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"Name,Role\nAda,Engineer\nGrace,Admiral\n", "Name: Ada; Role: Engineer\nName: Grace; Role: Admiral"),
        ("Name;Caf\xe9\nAda;noir\n".encode("cp1252"), "Name: Ada; Caf\xe9: noir"),
        (b"\xef\xbb\xbfName\tAge\nAda\t36\nGrace\t85\n", "Name: Ada; Age: 36\nName: Grace; Age: 85"),
        (b"1,2\n3,4\n", "1; 2\n3; 4"),
        (b"Name,Code\nAda,x\x81y\n", "Name: Ada; Code: x\x81y"),  # 0x81 is no Windows-1252 character: Latin-1
        (b'Name,Note\nAda,"two\nlines"\n', "Name: Ada; Note: two lines"),
    ],
    ids=["comma", "windows-1252 semicolons", "utf-8 bom tabs", "no header", "latin-1", "quoted newline"],
)
def test_csv_dialect_encoding_and_header_row_are_detected(data, expected):
    document = extract(Path("crew.csv"), data)
    assert outline(document) == [(["crew"], expected, None)]


def test_epub_chapters_are_read_in_reading_order_with_their_titles_as_headings():
    document = extract(Path("tales.epub"), make_epub())

    assert document.title == "Harbour tales"
    assert outline(document) == [
        (["Harbour tales", "Tides and currents"], "The tide turns twice a day.", None),
        (["Harbour tales", "Storms"], "Close the gates.", None),
        (["Harbour tales", "Storms", "After the storm"], "Count the boats.", None),
    ]


def test_each_pdf_page_is_recorded_on_its_sections_and_chunks():
    data = make_pdf_pages([["Harbour entrance depth."], ["Storm gates close at dusk."]], title="Harbour report")

    document = extract(Path("harbour-report.pdf"), data)

    assert [(section.text, section.page) for section in document.sections] == [
        ("Harbour entrance depth.", 1),
        ("Storm gates close at dusk.", 2),
    ]
    assert [(chunk.text, chunk.page) for chunk in chunk_document(document)] == [
        ("Harbour entrance depth.", 1),
        ("Storm gates close at dusk.", 2),
    ]


def test_a_pdf_without_a_text_layer_is_refused_with_the_reason():
    with pytest.raises(ExtractionError, match=r"^no text layer; OCR is not available$"):
        extract(Path("scan.pdf"), image_only_pdf())


def test_the_new_formats_are_supported_for_import():
    assert {".docx", ".pptx", ".xlsx", ".csv", ".epub", ".odt"} <= set(SUPPORTED_SUFFIXES)
