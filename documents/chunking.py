"""Split extracted sections into chunks the embedding model reads whole.

all-MiniLM-L6-v2 reads at most 256 word pieces and silently drops the rest, so chunk sizes
are measured in its own word pieces, not characters, and leave room for the heading line
that is embedded with every chunk.
"""

from dataclasses import dataclass

from django.conf import settings
from langchain_text_splitters import RecursiveCharacterTextSplitter

from documents.embeddings import counting_tokenizer, token_count
from documents.extract import ExtractedDocument

HEADING_SEPARATOR = " › "
# Paragraphs first, then lines, then sentences, then words: the split keeps the biggest
# natural unit that fits.
_SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""]


@dataclass
class PlannedChunk:
    position: int
    heading: str
    text: str
    page: int | None = None  # 1-based page (PDF) or slide (presentation) the chunk starts on

    @property
    def embedding_text(self) -> str:
        """What is embedded: the heading path gives a passage the context its text lacks."""
        return f"{self.heading}\n{self.text}" if self.heading else self.text


# The model reads 256 word pieces including its two special tokens; the heading line and the
# newline after it take the rest of the budget, so long headings leave less room for text.
MODEL_MAX_TOKENS = 254
MIN_TEXT_TOKENS = 64
# A longer heading path is cut: otherwise heading and MIN_TEXT_TOKENS of text would not fit together
# and the model would silently drop the end of the chunk.
MAX_HEADING_TOKENS = MODEL_MAX_TOKENS - MIN_TEXT_TOKENS


def _fit_heading(heading: str) -> str:
    """The heading cut after its first MAX_HEADING_TOKENS word pieces."""
    offsets = counting_tokenizer().encode(heading, add_special_tokens=False).offsets
    if len(offsets) <= MAX_HEADING_TOKENS:
        return heading
    return heading[: offsets[MAX_HEADING_TOKENS - 1][1]].rstrip()


def _splitter(heading: str) -> RecursiveCharacterTextSplitter:
    heading_tokens = token_count(heading + "\n") if heading else 0
    size = max(MIN_TEXT_TOKENS, min(settings.CHUNK_TOKENS, MODEL_MAX_TOKENS - heading_tokens))
    return RecursiveCharacterTextSplitter(
        length_function=token_count,
        chunk_size=size,
        chunk_overlap=min(settings.CHUNK_OVERLAP_TOKENS, size // 4),
        separators=_SEPARATORS,
        keep_separator="end",
    )


def chunk_document(document: ExtractedDocument) -> list[PlannedChunk]:
    chunks: list[PlannedChunk] = []
    for section in document.sections:
        heading = _fit_heading(HEADING_SEPARATOR.join(section.headings)[:500])
        for text in _splitter(heading).split_text(section.text):
            text = text.strip()
            if text:
                chunks.append(PlannedChunk(position=len(chunks), heading=heading, text=text, page=section.page))
    return chunks
