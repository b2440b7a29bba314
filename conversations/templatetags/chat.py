from django import template
from django.urls import reverse
from django.utils.safestring import SafeString

from conversations.models import Message
from conversations.rendering import render_markdown

register = template.Library()


@register.simple_tag
def answer_html(message: Message) -> SafeString:
    """The answer as sanitised HTML, its [n] markers linked to the passages really given and titled by their source."""

    given = {passage.n: passage for passage in message.passages()}  # read once, not once per citation

    def citation_url(number: int) -> str | None:
        if number not in given:
            return None  # the model cited a passage it was never given: leave it as text
        return reverse("conversations:passage", args=[message.conversation_id, message.pk, number])

    def citation_label(number: int) -> str:
        return given[number].label  # only asked for numbers citation_url linked

    return render_markdown(message.answer, citation_url, citation_label)
