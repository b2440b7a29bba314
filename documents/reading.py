"""A document as people read it: its passages in order, each shown once, rendered from Markdown.

Chunks are consecutive pieces of a section, and the splitter repeats the end of one piece at the
start of the next (``CHUNK_OVERLAP_TOKENS``) so that no sentence loses its context when embedded.
Shown one after another they would repeat that text, so each block leaves out what the block
before it in the same section already showed, while staying a block of its own (its anchor and
highlight are those of its chunk).
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.safestring import SafeString

from documents.models import Chunk
from ragchat.markdown import render_markdown


@dataclass(frozen=True)
class Block:
    chunk_id: int
    position: int
    heading: str
    html: SafeString


def overlap(previous: str, text: str) -> int:
    """The length of the longest start of ``text`` that ``previous`` ends with, taken only when it
    is whole words on both sides, so a chance match of a letter or two is kept."""
    start = previous.find(text[:1]) if text else -1
    while start != -1:
        size = len(previous) - start
        starts_a_word = start == 0 or previous[start - 1].isspace()
        ends_a_word = size == len(text) or text[size].isspace() or text[size - 1] in ".,;:!?"
        if starts_a_word and ends_a_word and text.startswith(previous[start:]):
            return size
        start = previous.find(text[0], start + 1)
    return 0


def document_blocks(chunks: Iterable[Chunk]) -> list[Block]:
    """The chunks (in position order) as blocks of rendered Markdown, without repeated overlaps."""
    blocks: list[Block] = []
    previous: Chunk | None = None
    for chunk in chunks:
        text = chunk.text
        if previous is not None and previous.heading == chunk.heading and previous.position + 1 == chunk.position:
            text = text[overlap(previous.text, text) :].lstrip()
        blocks.append(Block(chunk.pk, chunk.position, chunk.heading, render_markdown(text)))
        previous = chunk
    return blocks
