"""Rendering of answers: escaped text, paragraphs and quotes, and citation links.

Everything is escaped first; only markup built here from numbers is added afterwards, so
nothing in a question, a document or a model's answer can inject HTML.
"""

import re

from django import template
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from conversations.models import Message

register = template.Library()
_CITATION = re.compile(r"\[(\d{1,3})\]")


def _link_citations(escaped: str, message: Message) -> str:
    def link(match: re.Match) -> str:
        number = int(match.group(1))
        if message.source(number) is None:
            return match.group(0)  # the model cited a passage it was never given: leave it as text
        url = reverse("conversations:source", args=[message.conversation_id, message.pk, number])
        return format_html('<a class="citation" href="{}" title="Open source {}">[{}]</a>', url, number, number)

    return _CITATION.sub(link, escaped)


@register.simple_tag
def answer_html(message: Message) -> SafeString:
    blocks = []
    for block in re.split(r"\n\s*\n", message.answer.strip()):
        lines = block.split("\n")
        quoted = all(line.startswith(">") for line in lines)
        if quoted:
            lines = [line[1:].lstrip() for line in lines]
        html = "<br>".join(_link_citations(escape(line), message) for line in lines)
        blocks.append(f"<blockquote>{html}</blockquote>" if quoted else f"<p>{html}</p>")
    return mark_safe("\n".join(blocks))
