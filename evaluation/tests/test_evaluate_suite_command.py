"""evaluate_suite on the two-set suite of conftest.py, with the real database and embeddings."""

import json

import pytest
from django.core.management import CommandError, call_command

from conftest import run_command
from documents.models import Collection, Document, Visibility
from evaluation import suite
from evaluation.scoring import METRICS
from evaluation.tests.conftest import write_set


@pytest.fixture
def imports(monkeypatch) -> list:
    """Every corpus import the suite makes, as (collection, report)."""
    made = []

    def recording_import(**kwargs):
        report = documents_import(**kwargs)
        made.append((kwargs["collection"], report))
        return report

    documents_import = suite.documents_import
    monkeypatch.setattr(suite, "documents_import", recording_import)
    return made


def run_json(capsys, *args) -> dict:
    call_command("evaluate_suite", *map(str, args), "--json", verbosity=0)
    return json.loads(capsys.readouterr().out)


def test_every_set_gets_its_row_and_the_macro_average_is_the_mean_of_the_sets(db, suite_dir, capsys):
    output = run_json(capsys, suite_dir)

    assert output["collections"] == {"alpha": "eval-alpha", "beta": "eval-beta"}
    rows = {r["set"]: r for r in output["rows"]}
    assert list(rows) == ["alpha", "beta"]
    assert [q["id"] for q in rows["alpha"]["questions"]] == ["a1", "a2"]
    assert rows["alpha"]["questions"][0]["rank"] == 1 and rows["alpha"]["questions"][1]["rank"] in (2, 3)
    assert (rows["alpha"]["recall@1"], rows["alpha"]["recall@5"]) == (0.5, 1.0)
    assert (rows["beta"]["recall@1"], rows["beta"]["mrr@10"]) == (1.0, 1.0)
    assert all(r["retrieval_ms_p95"] >= r["retrieval_ms_p50"] > 0 for r in output["rows"])

    [average] = output["averages"]
    assert (average["kind"], average["system"], average["row_count"], average["question_count"]) == (
        "questions", "ragchat", 2, 5,
    )  # fmt: skip
    for name in METRICS:
        assert average[name] == pytest.approx((rows["alpha"][name] + rows["beta"][name]) / 2, abs=1e-4)
    assert average["recall@1"] == 0.75  # pooled over the five questions it would be 0.8

    # Each set in its own private collection owned by nobody: no one's chat searches it.
    for name in ("eval-alpha", "eval-beta"):
        collection = Collection.objects.get(name=name)
        assert (collection.visibility, collection.owner) == (Visibility.PRIVATE, None)
    assert sorted(Document.objects.filter(collection="eval-beta").values_list("path", flat=True)) == [
        "cats.md", "diary.txt", "taxes/return.txt", "tea.txt",
    ]  # fmt: skip


def test_heading_questions_are_scored_on_their_sets_one_import(db, suite_dir, imports, capsys):
    output = run_json(capsys, suite_dir, "--headings", "--heading-min-chars", "300")

    assert [collection for collection, _ in imports] == ["eval-alpha", "eval-beta"]  # once per set
    assert [(r["set"], r["kind"], r["question_count"]) for r in output["rows"]] == [
        ("alpha", "questions", 2), ("beta", "questions", 3), ("beta", "headings", 1),
    ]  # fmt: skip
    assert output["rows"][2]["questions"][0]["expected_source"] == "diary.txt"
    kinds = [(a["kind"], a["row_count"]) for a in output["averages"]]
    assert kinds == [("questions", 2), ("headings", 1), ("all", 3)]


def test_a_second_run_imports_nothing_and_prints_one_table(db, suite_dir, imports):
    call_command("evaluate_suite", str(suite_dir), "--sets", "beta", verbosity=0)
    out, _ = run_command("evaluate_suite", str(suite_dir), "--sets", "beta", "-v", "0")

    first, second = (report for _, report in imports)
    assert len(first.added) == 4 and (second.added, second.replaced, len(second.unchanged)) == ([], [], 4)
    lines = out.splitlines()
    assert lines[0].startswith("| set | kind | system | questions | recall@1 | recall@5 | recall@10 | MRR@10 |")
    assert lines[2].startswith("| beta | questions | ragchat | 3 | 1.000 | 1.000 | 1.000 | 1.000 |")
    assert lines[3].startswith("| **macro average** (1 set) | questions | ragchat | 3 | 1.000 |")
    assert lines[4] == "1 set(s) scored; collections kept for the next run: eval-beta"


def test_a_malformed_set_stops_the_suite_before_anything_is_imported(db, suite_dir, imports):
    write_set(suite_dir, "gamma", {"page.txt": "A page."}, None)
    with pytest.raises(CommandError, match=r"Nothing was run; .*\n- gamma: no questions.jsonl$"):
        call_command("evaluate_suite", str(suite_dir), verbosity=0)
    assert imports == [] and not Collection.objects.filter(name__startswith="eval-").exists()


def test_progress_and_files_that_could_not_be_imported_go_to_stderr_naming_the_set(db, suite_dir, capfd):
    (suite_dir / "alpha" / "corpus" / "broken.txt").write_bytes(b"\xff\xfe not text \x00")
    call_command("evaluate_suite", str(suite_dir), "--sets", "alpha")
    out, err = capfd.readouterr()
    assert "[1/1] alpha: importing" in err and "[1/1] alpha: questions" in err
    assert "alpha: broken.txt could not be imported" in err
    assert "| alpha | questions | ragchat | 2 |" in out  # the rest of the set is still scored
