"""Answers as safe HTML: Markdown rendered, then sanitised (ragchat.markdown), with citation links.

Model output is untrusted; ragchat.markdown says how it is made safe. Citation markers like [2]
become links only when the answer really was given a passage with that number.
"""

import re
from collections.abc import Callable
from html import escape

from django.utils.safestring import SafeString
from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline

from ragchat.markdown import build_markdown, sanitise

# Written exactly as the passages are numbered: \d would also take [٣] or [３], and [03] would
# be shown as [3], changing the answer's text.
_CITATION = re.compile(r"\[([1-9][0-9]{0,2})\]")


def _citation_rule(state: StateInline, silent: bool) -> bool:
    """Inline rule: [n] where passage n exists becomes a citation token (code spans are untouched)."""
    match = _CITATION.match(state.src, state.pos)
    url_for = state.env.get("citation_url")
    if not match or url_for is None:
        return False
    url = url_for(int(match.group(1)))
    if url is None:
        return False
    if not silent:
        label_for = state.env.get("citation_label")
        number = int(match.group(1))
        token = state.push("citation", "", 0)
        token.meta = {"number": number, "url": url, "label": label_for(number) if label_for else ""}
    state.pos = match.end()
    return True


def _render_citation(self, tokens, idx, options, env) -> str:
    url, number, label = (tokens[idx].meta[key] for key in ("url", "number", "label"))
    # The label names a document (a path people chose): escaped, since it lands inside an attribute.
    title = f"Open passage {number}: {escape(label)}" if label else f"Open passage {number}"
    return f'<sup class="cite"><a class="citation" href="{url}" title="{title}">[{number}]</a></sup>'


def _build_markdown() -> MarkdownIt:
    md = build_markdown()
    md.inline.ruler.before("link", "citation", _citation_rule)
    md.add_render_rule("citation", _render_citation)
    return md


_MARKDOWN = _build_markdown()


def render_markdown(
    text: str,
    citation_url: Callable[[int], str | None] | None = None,
    citation_label: Callable[[int], str] | None = None,
) -> SafeString:
    """``text`` as safe HTML; [n] links to ``citation_url(n)``, titled with ``citation_label(n)`` when given."""
    env = {"citation_url": citation_url, "citation_label": citation_label}
    return sanitise(_MARKDOWN.render(text, env))
