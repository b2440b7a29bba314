"""Properties of extraction and chunking: whatever a file holds, the result can be stored and embedded.

PostgreSQL text cannot hold NUL, and psycopg cannot encode a lone surrogate, so neither may come
out of extraction; the embedding model reads 256 word pieces, so no chunk may be longer, and no
word of a document may be lost on the way. Examples are few: the CPU is shared and chunking runs
the MiniLM tokenizer over every piece it tries.
"""

from pathlib import Path

from django.test import override_settings
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from documents.chunking import HEADING_SEPARATOR, MIN_TEXT_TOKENS, MODEL_MAX_TOKENS, chunk_document
from documents.embeddings import token_count
from documents.extract import SUPPORTED_SUFFIXES, ExtractedDocument, ExtractionError, Section, extract
from documents.extract.pdf import NO_TEXT_LAYER
from documents.tests.pdf import make_pdf, pdf_with_font_map

PROPERTIES = settings(max_examples=100, deadline=None)  # the CPU is shared: few examples, no timing
CHUNKING_PROPERTIES = settings(max_examples=50, deadline=None)


def is_unstorable(text: str) -> bool:
    """A NUL (PostgreSQL text cannot hold it) or a lone surrogate (psycopg cannot encode it)."""
    return any(char == "\x00" or "\ud800" <= char <= "\udfff" for char in text)


def strings_of(document: ExtractedDocument) -> list[str]:
    """Every string extraction returns, all of which end up in the database."""
    return [document.title, *(part for section in document.sections for part in (*section.headings, section.text))]


def assert_storable(document: ExtractedDocument) -> None:
    assert not [text for text in strings_of(document) if is_unstorable(text)]


def squashed(text: str) -> str:
    """The text without its whitespace: what must survive however lines and spaces are tidied."""
    return "".join(text.split())


# --- Generated input --------------------------------------------------------------------------

# Words of any script: letters, marks, digits, punctuation, symbols (emoji) and format characters
# (right-to-left overrides, zero-width joiners). st.characters never yields surrogates.
any_word = st.text(st.characters(categories=["L", "M", "N", "P", "S", "Cf"]), min_size=1, max_size=15)
odd_word = st.sampled_from(
    ["שלום", "مرحبا", "\u202egnp.exe", "👩\u200d👩\u200d👧", "🙂", "e\u0301", "世界", "ﷺ", "a" * 120, "&#0;", "#"]
)
word = st.one_of(any_word, odd_word)
separator = st.sampled_from([" ", "  ", "\t", "\n", "\n\n", "\n\n\n", "\r\n", "\r", ". ", ", ", "; ", "\xa0"])
prose = st.lists(st.tuples(word, separator), max_size=300).map(lambda pairs: "".join(w + s for w, s in pairs))

# Pieces of structure for every reader: markup, character references, Markdown and reST headings.
structure = st.sampled_from(
    ["<p>", "</p>", "<h1>", "</h1>", "<h2>", "<title>", "</title>", "<script>", "</script>", "<style>", "<br/>",
     "<li>", "<svg><title>", "<!--", "-->", "<![CDATA[", "&", "&#", "\n# ", "\n## ", "\n```\n", "\n=====\n",
     "\n-----\n", "\n~~~~\n"]
)  # fmt: skip
reference = st.integers(0, 0x110100).flatmap(lambda n: st.sampled_from([f"&#{n};", f"&#x{n:x};"]))
markup = st.lists(st.one_of(word, separator, structure, reference), max_size=150).map("".join)

file_bytes = st.one_of(
    st.binary(max_size=2000),
    prose.map(str.encode),
    markup.map(str.encode),
    # Mostly text with a few bytes that are not UTF-8 (or are NUL) somewhere inside.
    st.tuples(markup, st.binary(min_size=1, max_size=4), prose).map(lambda t: t[0].encode() + t[1] + t[2].encode()),
)


# --- Extraction -------------------------------------------------------------------------------


@PROPERTIES
@given(data=file_bytes, suffix=st.sampled_from(SUPPORTED_SUFFIXES))
def test_any_file_extracts_to_storable_text_or_raises_extraction_error(data, suffix):
    try:
        document = extract(Path("upload" + suffix), data)
    except ExtractionError as error:
        assert str(error), "the reason is shown to the person importing"
        return
    assert_storable(document)


@PROPERTIES
@given(text=st.one_of(prose, st.text(st.characters(codec="utf-8", exclude_characters="\x00"))))
def test_a_text_file_keeps_every_visible_character(text):
    assume(not text.startswith("\ufeff"))  # a leading byte-order mark is dropped, as it should be
    document = extract(Path("notes.txt"), text.encode())

    body = "".join(section.text for section in document.sections)
    # The first line may have become the title; either way nothing else is lost.
    assert squashed(text) in {squashed(body), squashed(document.title + body)}
    assert_storable(document)


headline = st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=20)
paragraph = st.lists(headline, min_size=1, max_size=20).map(" ".join)
outline = st.lists(st.tuples(st.integers(1, 6), headline, paragraph), min_size=1, max_size=8)


@PROPERTIES
@given(outline=outline)
def test_markdown_text_stays_under_its_own_heading(outline):
    markdown = "\n\n".join(f"{'#' * level} {heading}\n\n{text}" for level, heading, text in outline)
    document = extract(Path("notes.md"), markdown.encode())

    assert document.title == next((heading for level, heading, _ in outline if level == 1), "notes")
    for _, heading, text in outline:
        assert any(s.headings[-1] == heading and text in s.text for s in document.sections), (heading, text)
    assert all(section.headings[0] == document.title for section in document.sections)


HIDDEN = "⟦hidden 7f3a⟧"
# Text that is not markup: no tags, references or Markdown headings and fences.
visible_text = st.text(st.characters(categories=["L", "N", "Zs", "P", "S"], exclude_characters="<&#`~"), max_size=60)
hidden_text = st.text(st.characters(categories=["L", "N", "Zs", "P", "S"], exclude_characters="<"), max_size=40)
hidden_element = st.tuples(
    st.sampled_from(["script", "style", "noscript", "nav", "header", "footer", "aside", "form", "template", "svg"]),
    hidden_text,
    hidden_text,
).map(lambda t: f"<{t[0]}>{t[1]} {HIDDEN} {t[2]}</{t[0]}>")
visible_element = st.tuples(st.sampled_from(["p", "li", "div", "td"]), visible_text)
# Headings are kept only above some text (a heading alone says nothing), so they are not checked.
heading_element = st.tuples(st.sampled_from(["h1", "h2", "h3"]), visible_text).map(
    lambda t: "<{0}>{1}</{0}>".format(*t)
)


@PROPERTIES
@given(
    head=st.lists(hidden_element, max_size=2),
    body=st.lists(st.one_of(hidden_element, heading_element, visible_element), min_size=1, max_size=10),
)
def test_html_keeps_the_visible_text_and_never_scripts_styles_or_navigation(head, body):
    html = "<html><head><title>Page</title>{}</head><body>{}</body></html>".format(
        "".join(head), "".join(part if isinstance(part, str) else "<{0}>{1}</{0}>".format(*part) for part in body)
    )
    document = extract(Path("page.html"), html.encode())

    everything = " ".join(strings_of(document))
    assert HIDDEN not in everything
    for _, text in (part for part in body if not isinstance(part, str)):
        assert squashed(text) in squashed(everything)
    assert_storable(document)


@PROPERTIES
@given(
    code_points=st.lists(
        st.one_of(st.sampled_from([0, 0xD800, 0xDFFF, 0x110000]), st.integers(0, 0x10FFFF)), min_size=1
    ),
    hexadecimal=st.booleans(),
    in_heading=st.booleans(),
)
def test_html_character_references_never_produce_unstorable_characters(code_points, hexadecimal, in_heading):
    references = "".join(f"&#x{n:x};" if hexadecimal else f"&#{n};" for n in code_points)
    heading = f"<h1>{references}</h1>" if in_heading else ""
    html = f"<html><head><title>{references}</title></head><body>{heading}<p>x {references}</p></body></html>"
    assert_storable(extract(Path("page.html"), html.encode()))


GOOD_PDF = make_pdf(["Oil the chain every month.", "Check the tyres weekly."], title="Bike manual")


def damaged(changes: list[tuple[int, int]]) -> bytes:
    data = bytearray(GOOD_PDF)
    for offset, value in changes:
        data[offset] = value
    return bytes(data)


damaged_pdf = st.one_of(
    st.integers(0, len(GOOD_PDF) - 1).map(lambda n: GOOD_PDF[:n]),
    st.lists(st.tuples(st.integers(0, len(GOOD_PDF) - 1), st.integers(0, 255)), min_size=1, max_size=8).map(damaged),
)


@PROPERTIES
@given(data=damaged_pdf)
@example(data=damaged([(21, 0), (403, 1)]))  # an object found referring to itself: LimitReachedError
@example(data=damaged([(485, 0)]))  # a NUL in the title
@example(data=damaged([(664, ord("+"))]))  # a garbled trailer: AttributeError deep in pypdf
def test_a_damaged_pdf_extracts_to_storable_text_or_raises_extraction_error(data):
    try:
        document = extract(Path("manual.pdf"), data)
    except ExtractionError as error:
        # A damage that leaves pages without their text reads as a PDF without a text layer.
        assert str(error).startswith("not a readable PDF") or str(error) in ("the PDF is encrypted", NO_TEXT_LAYER)
        return
    assert_storable(document)


utf16_units = st.lists(st.one_of(st.sampled_from([0, 0xD800, 0xDC00, 0xFEFF]), st.integers(0, 0xFFFF)), max_size=12)


@PROPERTIES
@given(text=utf16_units.filter(bool), title=st.none() | utf16_units)
def test_pdf_text_mapped_to_any_utf16_is_storable(text, title):
    try:
        document = extract(Path("manual.pdf"), pdf_with_font_map(text, title=title))
    except ExtractionError:
        return  # a title that is not UTF-16 may make the PDF unreadable: reported, not stored
    assert_storable(document)


# --- Chunking ---------------------------------------------------------------------------------

heading_part = st.one_of(
    word,
    st.text(st.characters(categories=["L", "N", "P", "S", "Zs"]), min_size=1, max_size=300),
    # Long headings of one word piece per word, past what leaves room for text.
    st.lists(st.sampled_from(["a", "7", "—", "世", "🙂", "ש"]), min_size=50, max_size=400).map(" ".join),
)
section = st.builds(Section, headings=st.lists(heading_part, min_size=1, max_size=4), text=prose)
HEADING_TOKENS = MODEL_MAX_TOKENS - MIN_TEXT_TOKENS


def numbered(sections: list[Section]) -> list[Section]:
    """Give each section a heading path that starts with its number, to tell their chunks apart."""
    return [Section([f"§{n}§ {s.headings[0]}", *s.headings[1:]], s.text) for n, s in enumerate(sections)]


def chunks_by_section(sections: list[Section]) -> list[list]:
    chunks = chunk_document(ExtractedDocument(title="T", sections=sections))
    assert [chunk.position for chunk in chunks] == list(range(len(chunks)))
    grouped: list[list] = [[] for _ in sections]
    for chunk in chunks:
        number = int(chunk.heading.removeprefix("§").partition("§")[0])
        assert not any(grouped[number + 1 :]), "chunks come in the order of their sections"
        grouped[number].append(chunk)
    return grouped


@CHUNKING_PROPERTIES
@given(sections=st.lists(section, min_size=1, max_size=3).map(numbered))
def test_chunks_are_non_empty_fit_the_model_and_keep_their_heading_path(sections):
    for section, chunks in zip(sections, chunks_by_section(sections), strict=True):
        assert bool(chunks) == bool(section.text.strip())
        path = HEADING_SEPARATOR.join(section.headings)[:500]
        for chunk in chunks:
            assert chunk.text and chunk.text == chunk.text.strip()
            # The model reads 256 word pieces with its two special tokens: the chunk must fit whole.
            assert token_count(chunk.embedding_text) <= MODEL_MAX_TOKENS
            assert path.startswith(chunk.heading)
            if token_count(path) <= HEADING_TOKENS:
                assert chunk.heading == path


@CHUNKING_PROPERTIES
@given(sections=st.lists(section, min_size=1, max_size=3).map(numbered))
def test_chunks_are_passages_of_their_section_from_its_start_to_its_end(sections):
    for section, chunks in zip(sections, chunks_by_section(sections), strict=True):
        assert all(chunk.text in section.text for chunk in chunks)
        if chunks:
            assert section.text.strip().startswith(chunks[0].text)
            assert section.text.strip().endswith(chunks[-1].text)


@CHUNKING_PROPERTIES
@given(sections=st.lists(section, min_size=1, max_size=3).map(numbered))
def test_without_overlap_the_chunks_hold_every_character_of_the_text_once_in_order(sections):
    with override_settings(CHUNK_OVERLAP_TOKENS=0):
        grouped = chunks_by_section(sections)
    for section, chunks in zip(sections, grouped, strict=True):
        assert squashed("".join(chunk.text for chunk in chunks)) == squashed(section.text)
