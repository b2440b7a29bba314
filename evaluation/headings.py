"""Heading questions: section headings of long pages, a second question kind made from any corpus.

FAQ-style question sets ask about short answers; heading questions ask about single sections deep
inside long pages, where a passage must win on its own against the rest of its page. Together they
keep retrieval settings honest in both directions (the README's "Retrieval quality" uses both).

For every plain-text file of at least ``min_chars`` characters, the heading lines (a paragraph of 3
to 8 words on one line, capitalised, with no sentence punctuation at the end and no code) that occur
in no other file are collected, and one is picked at random with a fixed seed. The question is the
heading itself; the expected source is the file. Plain Python, no Django: ``benchmarks/`` uses it
without setting up the app.
"""

import random
from collections import Counter
from pathlib import Path

# The defaults every published heading set was made with: the same corpus gives the same questions.
HEADING_MIN_CHARS = 10_000
HEADING_SEED = 7
CODE_MARKS = ("(", "=", ">>>", "{", "/", "_")


def is_heading(paragraph: str) -> bool:
    words = paragraph.split()
    return (
        "\n" not in paragraph
        and 3 <= len(words) <= 8
        and paragraph[0].isupper()
        and paragraph[-1] not in ".:;,!?)"
        and not any(mark in paragraph for mark in CODE_MARKS)
    )


def headings(text: str) -> set[str]:
    """Heading lines of a page, its title (first paragraph) excepted."""
    paragraphs = [part.strip() for part in text.split("\n\n")]
    return {part for part in paragraphs[1:] if part and is_heading(part)}


def heading_questions(corpus: Path, *, min_chars: int = HEADING_MIN_CHARS, seed: int = HEADING_SEED) -> list[dict]:
    """One question per long page of ``corpus``, as evaluation-set lines (id, question, expected_source)."""
    pages = {
        path.relative_to(corpus).as_posix(): path.read_text(encoding="utf-8") for path in sorted(corpus.rglob("*.txt"))
    }
    found = {source: headings(text) for source, text in pages.items()}
    occurrences = Counter(heading for page_headings in found.values() for heading in page_headings)
    chooser = random.Random(seed)
    questions = []
    for source, text in pages.items():
        unique = sorted(heading for heading in found[source] if occurrences[heading] == 1)
        if len(text) >= min_chars and unique:
            questions.append(
                {
                    "id": f"heading-{len(questions) + 1:03d}",
                    "question": chooser.choice(unique),
                    "expected_source": source,
                }
            )
    return questions
