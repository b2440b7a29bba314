"""Properties of answer rendering: whatever a model writes, the HTML is inert and citations are honest.

The checks parse the output the way a browser would read it (entities decoded, tabs and
newlines dropped from URLs, case ignored) instead of searching for fixed strings, so a
disguised ``javascript:`` link counts as one.
"""

import re
from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from conversations.rendering import render_markdown

PROPERTIES = settings(max_examples=100, deadline=None)  # the CPU is shared: few examples, no timing

# The whole vocabulary of the rendered HTML. Anything else (script, img, iframe, style, id,
# src, on* handlers) is a hole, whatever its value.
SAFE_ATTRIBUTES = {
    "a": {"href", "title", "class", "rel"},
    "sup": {"class"},
    "ol": {"start"},
    **dict.fromkeys(
        ["p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "li", "hr", "h1", "h2", "h3", "h4", "h5",
         "h6", "table", "thead", "tbody", "tr", "th", "td", "del"],
        set(),
    ),
}  # fmt: skip
SAFE_SCHEMES = {"http", "https", "mailto"}
URL_SCHEME = re.compile(r"([a-z][a-z0-9+.-]*):")


def citation_url(number: int) -> str:
    return f"/conversations/1/messages/1/passages/{number}/"


def citations_for(existing: set[int]):
    return lambda number: citation_url(number) if number in existing else None


class Page(HTMLParser):
    """Elements with their (entity-decoded) attributes, and the text, of an HTML fragment."""

    def __init__(self, markup: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.citations: list[tuple[str, str]] = []  # (href, link text) of each citation link
        self.text: list[str] = []
        self._open_citation: str | None = None
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        self.elements.append((tag, attributes))
        if tag == "a" and "citation" in attributes.get("class", "").split():
            self._open_citation = attributes.get("href", "")
            self.citations.append((self._open_citation, ""))

    def handle_endtag(self, tag):
        if tag == "a":
            self._open_citation = None

    def handle_data(self, data):
        self.text.append(data)
        if self._open_citation is not None:
            href, text = self.citations[-1]
            self.citations[-1] = (href, text + data)


def scheme_of(url: str) -> str | None:
    """The scheme a browser would see: it drops tabs and newlines anywhere, and leading controls."""
    url = re.sub(r"[\t\n\r]", "", url).lstrip("".join(map(chr, range(0x21))))
    match = URL_SCHEME.match(url.lower())
    return match.group(1) if match else None


def assert_inert(markup: str, existing: set[int] = frozenset()) -> Page:
    assert "<script" not in markup.lower()
    page = Page(markup)
    for tag, attributes in page.elements:
        assert tag in SAFE_ATTRIBUTES, markup
        assert set(attributes) <= SAFE_ATTRIBUTES[tag], markup
        assert not any(name.startswith("on") for name in attributes), markup
        for name in ("href", "src"):
            if name in attributes:
                assert scheme_of(attributes[name]) in SAFE_SCHEMES | {None}, markup
    for href, text in page.citations:
        number = int(text.strip("[]"))
        assert number in existing and href == citation_url(number), markup
    return page


# --- Hostile fragments -------------------------------------------------------------------------

NAMED_ENTITIES = {":": ["&colon;"], "\t": ["&Tab;"], "\n": ["&NewLine;"]}


@st.composite
def encoded_char(draw, char: str) -> str:
    """One character as Markdown or HTML may spell it: itself, a numeric or a named entity."""
    forms = [char, f"&#{ord(char)};", f"&#x{ord(char):x};", f"&#X{ord(char):X};", f"&#000{ord(char)};"]
    return draw(st.sampled_from(forms + NAMED_ENTITIES.get(char, [])))


@st.composite
def dangerous_url(draw) -> str:
    """javascript:, vbscript: or data:, disguised by case, entities, whitespace and controls."""
    scheme, payload = draw(
        st.sampled_from(
            [("javascript:", "alert(1)"), ("vbscript:", "msgbox(1)"), ("data:", "text/html;base64,PHNjcmlwdD4=")]
        )
    )
    parts = [draw(st.sampled_from(["", " ", "\x01", "&#32;", "&#0;", "\u200b"]))]
    for char in scheme:
        if draw(st.booleans()):
            char = char.upper()
        parts.append(draw(encoded_char(char)))
        if draw(st.integers(0, 6)) == 0:
            parts.append(draw(st.sampled_from(["\t", "\n", "\r", "&#9;", "&#x0A;", "&Tab;", "&NewLine;", "\x00"])))
    return "".join(parts) + payload


@st.composite
def markdown_link(draw) -> str:
    url = draw(dangerous_url())
    label = draw(st.sampled_from(["click", "[1]", "a [b] c", "![i](x)", "", "`code`"]))
    forms = [
        f"[{label}]({url})",
        f"[{label}](<{url}>)",
        f'[{label}]({url} "title")',
        f"<{url}>",
        f"[{label}][ref]\n\n[ref]: {url}",
        f"[{label}]\n\n[{label}]: {url}",
        f"[{label}][]\n\n[{label}]: <{url}> 'title'",
        f"![{label}]({url})",
        f"[![{label}]({url})]({url})",
        f'<a href="{url}">{label}</a>',
    ]
    return draw(st.sampled_from(forms))


RAW_HTML = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<img src=x onerror=alert(1)>",
    '<img src="x" onerror="alert(1)"/>',
    "<svg onload=alert(1)>",
    "<iframe src=javascript:alert(1)></iframe>",
    "<details open ontoggle=alert(1)>",
    '<a href="#" onclick="alert(1)">x</a>',
    "<style>body{display:none}</style>",
    "<!-- <script>alert(1)</script> -->",
    "<![CDATA[<script>alert(1)</script>]]>",
    '"><script>alert(1)</script>',
    "</textarea><script>alert(1)</script>",
    "&#60;script&#62;alert(1)&#60;/script&#62;",
    "&lt;img src=x onerror=alert(1)&gt;",
    "\\<script>alert(1)\\</script>",
    "`<script>` ``<img onerror=x>``",
    "```html\n<script>alert(1)</script>\n```",
]
BRACKETS = ["[[[x]]]", "[a [b](https://ok.example) c](javascript:alert(1))", "]]]]", "[[[[", "[](", "[x]: <>"]

citation_marker = st.builds(
    "[{}]".format,
    st.one_of(st.integers(0, 1200).map(str), st.sampled_from(["01", "001", "\u0661", "\uff11", " 1 ", "1.5"])),
)

hostile_text = st.lists(
    st.one_of(
        st.sampled_from(RAW_HTML),
        st.sampled_from(BRACKETS),
        markdown_link(),
        citation_marker,
        st.text(max_size=20),
    ),
    max_size=10,
).flatmap(
    lambda pieces: st.lists(
        st.sampled_from(["", " ", "\n", "\n\n", "\n> ", "\n- ", "\n1. ", "\n    ", "\n| "]),
        min_size=len(pieces),
        max_size=len(pieces),
    ).map(lambda separators: "".join(sep + piece for sep, piece in zip(separators, pieces, strict=True)))
)
existing_passages = st.sets(st.integers(1, 12), max_size=6)


# --- Properties ------------------------------------------------------------------------------


@PROPERTIES
@given(text=st.text(), existing=existing_passages)
def test_any_text_renders_to_inert_html(text, existing):
    assert_inert(render_markdown(text, citations_for(existing)), existing)


@PROPERTIES
@given(text=st.text(alphabet="[]()<>!&#;:*_`\\\"' \n\t|-=>~0123456789javscriptJAVS%x"), existing=existing_passages)
def test_markdown_punctuation_soup_renders_to_inert_html(text, existing):
    assert_inert(render_markdown(text, citations_for(existing)), existing)


@PROPERTIES
@given(text=hostile_text, existing=existing_passages)
def test_hostile_fragments_render_to_inert_html(text, existing):
    assert_inert(render_markdown(text, citations_for(existing)), existing)


@PROPERTIES
@given(text=hostile_text)
def test_without_passages_nothing_becomes_a_citation(text):
    assert Page(render_markdown(text)).citations == []


@PROPERTIES
@given(url=dangerous_url(), label=st.sampled_from(["click", "here"]))
def test_a_disguised_dangerous_link_loses_its_scheme_but_keeps_its_text(url, label):
    page = assert_inert(render_markdown(f"See [{label}]({url}) now."))
    # Some disguises (``&#0;javascript:``) survive as a harmless relative link; none keeps its scheme.
    links = [attributes["href"] for tag, attributes in page.elements if tag == "a"]
    assert all(scheme_of(href) is None for href in links)
    assert label in "".join(page.text)


word = st.text(alphabet="abcdefghijklmnopqrstuvwxyzéßжשا中", min_size=1, max_size=8)
prose = st.lists(
    st.one_of(word, citation_marker.filter(lambda marker: "." not in marker and " " not in marker)),
    min_size=1,
    max_size=15,
)


@PROPERTIES
@given(tokens=prose, existing=existing_passages)
def test_markers_link_exactly_the_passages_given_and_the_text_is_unchanged(tokens, existing):
    text = " ".join(tokens)
    page = assert_inert(render_markdown(text, citations_for(existing)), existing)

    # A marker cites a passage only when written as the passages are numbered: [3], not [03] or [٣].
    expected = [token for token in tokens if re.fullmatch(r"\[[1-9][0-9]*\]", token) and int(token[1:-1]) in existing]
    assert [link_text for _, link_text in page.citations] == expected
    assert "".join(page.text).strip() == text
