"""Untrusted Markdown as safe HTML: answers, and the documents people import.

markdown-it runs with raw HTML disabled (it escapes it) and refuses javascript: and similar
links; nh3 (the Ammonia sanitiser) then allows only the tags a chat answer or a document needs,
as a second, independent line of defence. Callers may add inline rules to their own parser
(conversations adds citation links) and must still pass the result through ``sanitise``.
"""

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a", "hr",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "del", "sup",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title", "class"}, "sup": {"class"}, "ol": {"start"}}


def build_markdown() -> MarkdownIt:
    """A CommonMark parser with tables and strikethrough, and raw HTML escaped."""
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").enable("strikethrough")


def sanitise(html: str) -> SafeString:
    """Keep only the allowed tags, attributes and link schemes of ``html``."""
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(clean)  # noqa: S308 - sanitised by nh3 just above


_MARKDOWN = build_markdown()


def render_markdown(text: str) -> SafeString:
    """``text`` rendered as Markdown and sanitised."""
    return sanitise(_MARKDOWN.render(text))
