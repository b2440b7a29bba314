from pathlib import Path

import pytest

from documents.extract import ExtractionError, extract
from documents.tests.pdf import make_pdf


def test_plain_text_takes_its_first_line_as_title():
    document = extract(Path("notes.txt"), b"Kettle care\n\nDescale monthly.\n")
    assert document.title == "Kettle care"
    assert [(s.headings, s.text) for s in document.sections] == [(["Kettle care"], "Descale monthly.")]


def test_plain_text_without_a_title_line_is_named_after_the_file():
    document = extract(Path("kettle_care.txt"), b"Descale the kettle every month.")
    assert document.title == "kettle care"
    assert document.sections[0].text == "Descale the kettle every month."


def test_a_file_name_title_leaves_its_sequence_number_out_of_the_heading_path():
    document = extract(Path("faq/install-03.txt"), b"Django works with any Python version from 3.10.")
    assert document.title == "install 03"  # shown to people: it names this file among its siblings
    assert document.sections[0].headings == ["install"]


PLAIN_MANUAL = "\n\n".join(
    [
        "Bike manual",
        "Chains",
        "A clean chain runs quietly. " * 25,
        "Oiling",
        "One drop per link, then wipe the rest. " * 20,
        "Brakes",
        "See also",
        "Pads wear faster in the rain. " * 20,
        "Tyres",
        "Pump them weekly.",
    ]
)


def test_plain_text_headings_split_it_into_sections_with_heading_paths():
    document = extract(Path("bikes.txt"), PLAIN_MANUAL.encode())
    assert document.title == "Bike manual"
    assert [s.headings for s in document.sections] == [
        ["Bike manual", "Chains"],
        ["Bike manual", "Oiling"],
        ["Bike manual", "Brakes", "See also"],  # headings met together make one path
    ]
    assert document.sections[1].text.startswith("One drop per link")
    # A section too short to stand alone joins the one before, its heading kept as text.
    assert document.sections[2].text.endswith("Tyres\n\nPump them weekly.")


def test_short_sections_do_not_close_at_the_next_heading():
    document = extract(Path("notes.txt"), b"Notes\n\nIntro\n\nShort.\n\nDetails\n\n" + b"Long text. " * 60)
    assert [s.headings for s in document.sections] == [["Notes", "Intro"]]
    assert document.sections[0].text.startswith("Short.\n\nDetails\n\nLong text.")


@pytest.mark.parametrize(
    "line",
    [
        "git commit -a",
        "SELECT * FROM users",
        "x = compute(y)",
        "I---X---R",
        "A  B  C  D",
        "Call us today!",
        "See below:",
    ],
)
def test_lines_of_code_drawings_and_sentences_are_not_headings(line):
    text = f"Title\n\n{'Some text here. ' * 40}\n\n{line}\n\n{'More text here. ' * 40}"
    document = extract(Path("page.txt"), text.encode())
    assert [s.headings for s in document.sections] == [["Title"]]


def test_markdown_sections_keep_their_heading_path():
    text = b"# Garden\n\nIntro.\n\n## Roses\n\nPrune in winter.\n\n### Climbers\n\nTie them in.\n"
    document = extract(Path("garden.md"), text)
    assert document.title == "Garden"
    assert [s.headings for s in document.sections] == [["Garden"], ["Garden", "Roses"], ["Garden", "Roses", "Climbers"]]
    assert document.sections[2].text == "Tie them in."


def test_restructuredtext_underlined_titles_become_headings():
    text = b"Importing\n=========\n\nIntro.\n\nFolders\n-------\n\nRead recursively.\n"
    document = extract(Path("import.rst"), text)
    assert document.title == "Importing"
    assert document.sections[-1].headings == ["Importing", "Folders"]
    assert document.sections[-1].text == "Read recursively."


def test_restructuredtext_literal_blocks_lose_their_markers_and_nested_sections_keep_paths():
    text = (
        b"Importing\n=========\n\nRun a management command::\n\n    python manage.py import_documents PATH\n\n"
        b"Folders\n-------\n\n* hidden ones are skipped\n* others are read\n\nDeep\n~~~~\n\nNested text.\n"
    )
    document = extract(Path("import.rst"), text)
    first = document.sections[0].text
    assert "command::" not in first and "command:\n\npython manage.py import_documents PATH" in first
    assert [s.headings for s in document.sections] == [
        ["Importing"],
        ["Importing", "Folders"],
        ["Importing", "Folders", "Deep"],
    ]
    assert document.sections[1].text == "- hidden ones are skipped\n- others are read"


def test_restructuredtext_directives_cannot_read_files_or_pass_raw_markup(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("the password is swordfish")
    text = f"Notes\n=====\n\n.. include:: {secret}\n\n.. raw:: html\n\n   <script>x()</script>\n\nKept.\n"
    document = extract(tmp_path / "notes.rst", text.encode())
    everything = " ".join(s.text for s in document.sections)
    assert "swordfish" not in everything and "<script>" not in everything
    assert "Kept." in everything


def test_broken_restructuredtext_is_read_as_far_as_it_goes():
    document = extract(
        Path("broken.rst"), b"Title\n===\n\n`unclosed role and *emphasis\n\n.. unknown-directive::\n\nText.\n"
    )
    assert "Text." in " ".join(s.text for s in document.sections)


def test_html_keeps_visible_text_and_headings_and_drops_scripts_and_navigation():
    html = (
        b"<html><head><title>Site</title><style>p{}</style></head><body><nav>Menu</nav>"
        b"<h1>Bikes</h1><h2>Chains</h2><p>Oil the chain.</p><ul><li>Wipe it.</li></ul>"
        b"<script>alert(1)</script></body></html>"
    )
    document = extract(Path("bikes.html"), html)
    assert document.title == "Bikes"
    chains = document.sections[-1]
    assert chains.headings == ["Bikes", "Chains"]
    assert "Oil the chain." in chains.text and "- Wipe it." in chains.text
    everything = " ".join(s.text for s in document.sections)
    assert "alert" not in everything and "Menu" not in everything


def test_html_without_text_is_empty():
    assert extract(Path("blank.html"), b"<html><body><script>x()</script></body></html>").is_empty


def test_pdf_text_is_extracted_per_page_with_its_title():
    document = extract(Path("manual.pdf"), make_pdf(["Oil the chain monthly."], title="Bike manual"))
    assert document.title == "Bike manual"
    assert document.sections[0].headings == ["Bike manual", "page 1"]
    assert "Oil the chain monthly." in document.sections[0].text


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("broken.pdf", b"%PDF-1.4\nthis is not really a pdf", "not a readable PDF"),
        ("latin1.txt", "café".encode("latin-1"), "not valid UTF-8"),
        ("binary.md", b"\x00\x01\x02binary", "binary file"),
    ],
)
def test_unreadable_files_raise_a_clear_error(name, data, reason):
    with pytest.raises(ExtractionError, match=reason):
        extract(Path(name), data)
