"""Write a second question set for ``manage.py evaluate``: section headings of long pages.

FAQ-style question sets ask about short answers; this one asks about single sections deep inside
long pages, where a passage must win on its own against the rest of its page. Together they keep
retrieval settings honest in both directions (the README's "Retrieval quality" uses both).

For every plain-text file of at least ``--min-chars`` characters, the script collects its heading
lines (a paragraph of 3 to 8 words on one line, capitalised, with no sentence punctuation at the
end and no code), keeps those that occur in no other file, and picks one at random (``--seed``).
The question is the heading itself; the expected source is the file.

Run: .venv/bin/python benchmarks/heading_questions.py ../shared/eval/django-docs/corpus > /tmp/headings.jsonl
"""

import argparse
import json
import random
import sys
from collections import Counter
from pathlib import Path

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


def heading_questions(corpus: Path, *, min_chars: int, seed: int) -> list[dict]:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path, help="Folder of .txt pages (e.g. ../shared/eval/django-docs/corpus).")
    parser.add_argument("--min-chars", type=int, default=10_000, help="Only pages at least this long (default 10000).")
    parser.add_argument("--seed", type=int, default=7, help="Seed of the random choice of heading (default 7).")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        parser.error(f"{args.corpus} is not a folder")
    questions = heading_questions(args.corpus, min_chars=args.min_chars, seed=args.seed)
    for question in questions:
        print(json.dumps(question))
    print(f"{len(questions)} heading questions", file=sys.stderr)


if __name__ == "__main__":
    main()
