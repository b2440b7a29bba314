"""Write a second question set for ``manage.py evaluate``: section headings of long pages.

The questions are made by ``evaluation/headings.py`` (its docstring says how), the same code
``manage.py evaluate_suite --headings`` uses, so a file written here holds the questions of the
suite's "headings" row for that corpus (with the same ``--min-chars`` and ``--seed``).

Run: .venv/bin/python benchmarks/heading_questions.py ../shared/eval/django-docs/corpus > /tmp/headings.jsonl
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evaluation.headings import HEADING_MIN_CHARS, HEADING_SEED, heading_questions  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path, help="Folder of .txt pages (e.g. ../shared/eval/django-docs/corpus).")
    parser.add_argument("--min-chars", type=int, default=HEADING_MIN_CHARS, help="Only pages this long (default 10000)")
    parser.add_argument("--seed", type=int, default=HEADING_SEED, help="Seed of the choice of heading (default 7).")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        parser.error(f"{args.corpus} is not a folder")
    questions = heading_questions(args.corpus, min_chars=args.min_chars, seed=args.seed)
    for question in questions:
        print(json.dumps(question))
    print(f"{len(questions)} heading questions", file=sys.stderr)


if __name__ == "__main__":
    main()
