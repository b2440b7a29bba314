"""A small evaluation suite on disk: two sets whose scores are known.

``alpha`` is the shared knowledge base with one question answered by the wrong page on purpose,
so its recall@1 is 1/2; ``beta`` has three pages on unrelated topics, one question each, all
found first. Pooled over the five questions recall@1 would be 4/5; the macro average is 3/4.
"""

import json
from pathlib import Path

import pytest

from conftest import KNOWLEDGE_BASE, write_files

BETA_PAGES = {
    "tea.txt": "Green tea\n\nBrew green tea with water at 80 degrees for two minutes; boiling water makes it bitter.",
    "cats.md": "# Feeding cats\n\nAn adult cat eats two small meals a day; keep fresh water next to the bowl.",
    "taxes/return.txt": "Tax return\n\nFile your income tax return before the end of May, with last year's payslips.",
}
# Long enough for a heading question at --heading-min-chars 300; its headings are in no other page.
GARDEN_DIARY = "Garden diary\n\n" + "\n\n".join(
    f"{heading}\n\n{body}"
    for heading, body in [
        ("Sowing the Broad Beans", "Sow broad beans in November, five centimetres deep, in a sunny bed. " * 2),
        ("Netting the Young Cabbages", "Pigeons eat young cabbages; cover them with a fine net until May. " * 2),
        (
            "Mulching the Raspberry Canes",
            "Spread compost around the raspberry canes each spring to keep weeds down. " * 2,
        ),
    ]
)


def question(id: str, text: str, source: str) -> dict:
    return {"id": id, "question": text, "expected_source": source}


def write_set(root: Path, name: str, files: dict[str, str] | None, questions: list[dict] | str | None) -> Path:
    """A set folder: ``corpus/`` with ``files`` (None: no corpus folder) and ``questions.jsonl``
    holding ``questions`` (a string is written as it is; None: no questions file)."""
    folder = root / name
    folder.mkdir(parents=True)
    if files is not None:
        (folder / "corpus").mkdir()
        write_files(folder / "corpus", files)
    if questions is not None:
        text = questions if isinstance(questions, str) else "\n".join(json.dumps(q) for q in questions) + "\n"
        (folder / "questions.jsonl").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def suite_dir(tmp_path) -> Path:
    root = tmp_path / "suite"
    write_set(
        root,
        "alpha",
        KNOWLEDGE_BASE,
        [
            question("a1", "When should roses be pruned?", "garden/roses.md"),
            question("a2", "How often do I oil a bike chain?", "kettle.txt"),  # the wrong page, on purpose
        ],
    )
    write_set(
        root,
        "beta",
        {**BETA_PAGES, "diary.txt": GARDEN_DIARY},
        [
            question("b1", "At what temperature should green tea be brewed?", "tea.txt"),
            question("b2", "How many meals a day does a cat need?", "cats.md"),
            question("b3", "When is the deadline for my income tax return?", "taxes/return.txt"),
        ],
    )
    (root / "README.md").write_text("Files beside the sets are not sets.")
    (root / ".cache").mkdir()  # nor are hidden folders
    return root
