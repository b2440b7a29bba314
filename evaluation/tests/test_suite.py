import re

import pytest

from evaluation.evalset import Question
from evaluation.report import HEADINGS, QUESTIONS
from evaluation.suite import SuiteError, collection_name, load_suite, set_name_of
from evaluation.tests.conftest import question, write_set


def test_every_folder_of_the_suite_is_a_set_and_nothing_else_is(suite_dir):
    suite = load_suite(suite_dir)
    assert [(s.name, s.collection, s.corpus) for s in suite] == [
        ("alpha", "eval-alpha", suite_dir / "alpha" / "corpus"),
        ("beta", "eval-beta", suite_dir / "beta" / "corpus"),
    ]
    assert [q.id for q in suite[1].questions[QUESTIONS]] == ["b1", "b2", "b3"]
    assert list(suite[1].questions) == [QUESTIONS]  # no heading questions unless asked for


def test_sets_chooses_which_sets_run_and_an_unknown_name_is_refused(suite_dir):
    assert [s.name for s in load_suite(suite_dir, names=["beta"])] == ["beta"]
    with pytest.raises(SuiteError, match=r"No set named gamma in .* \(it holds: alpha, beta\)"):
        load_suite(suite_dir, names=["beta", "gamma"])


def test_heading_questions_come_from_long_pages_of_the_sets_own_corpus(suite_dir):
    alpha, beta = load_suite(suite_dir, headings=True, heading_min_chars=300)
    assert list(alpha.questions) == [QUESTIONS]  # no page of alpha is that long: no heading row
    [heading] = beta.questions[HEADINGS]
    assert heading.expected_source == "diary.txt"
    assert heading.question in {"Sowing the Broad Beans", "Netting the Young Cabbages", "Mulching the Raspberry Canes"}
    assert load_suite(suite_dir, headings=True, heading_min_chars=300)[1].questions[HEADINGS] == [heading]  # seeded


def test_a_malformed_set_stops_the_suite_naming_every_set_at_fault(suite_dir):
    good = {"page.txt": "A page."}
    write_set(suite_dir, "no-questions", good, None)
    write_set(suite_dir, "empty-questions", good, "\n")
    write_set(suite_dir, "bad-line", good, '{"id": "q1"}\n')
    write_set(suite_dir, "no-corpus", None, [question("q1", "What?", "page.txt")])
    write_set(suite_dir, "empty-corpus", {"picture.png": "not a document"}, [question("q1", "What?", "page.txt")])
    write_set(suite_dir, "wrong-source", good, [question("q1", "What?", "pages.txt")])
    write_set(suite_dir, "two words", good, [question("q1", "What?", "page.txt")])
    write_set(suite_dir, "n" * 96, good, [question("q1", "What?", "page.txt")])
    with pytest.raises(SuiteError) as raised:
        load_suite(suite_dir)
    message = str(raised.value)
    assert message.startswith("Nothing was run; fix or leave out (--sets) these sets:\n")
    assert re.findall(r"^- (.+?): (.*)$", message, flags=re.MULTILINE) == [
        ("bad-line", f"{suite_dir}/bad-line/questions.jsonl, line 1: expected a JSON object with id, question and "
                     "expected_source ('question')"),
        ("empty-corpus", "corpus/ holds no document to import"),
        ("empty-questions", f"{suite_dir}/empty-questions/questions.jsonl holds no questions."),
        ("n" * 96, f"its name is longer than 95 characters (it names the collection eval-{'n' * 96})"),
        ("no-corpus", "no corpus/ folder"),
        ("no-questions", "no questions.jsonl"),
        ("two words", "its name is not letters, digits, - and _ only (it names the collection eval-two words)"),
        ("wrong-source", "1 expected source(s) not in corpus/: pages.txt"),
    ]  # fmt: skip
    # Leaving them out runs the rest.
    assert [s.name for s in load_suite(suite_dir, names=["alpha", "beta"])] == ["alpha", "beta"]


def test_a_folder_without_sets_is_refused(tmp_path):
    with pytest.raises(SuiteError, match="No such folder"):
        load_suite(tmp_path / "missing")
    with pytest.raises(SuiteError, match="holds no evaluation set: a folder with corpus/ and questions.jsonl"):
        load_suite(tmp_path)


def test_a_sets_corpus_folder_is_named_after_its_set(tmp_path):
    assert set_name_of(tmp_path / "django-docs" / "corpus") == "django-docs"
    assert set_name_of(tmp_path / "handbook") == "handbook"
    assert collection_name("django-docs") == "eval-django-docs"


def test_questions_keep_their_order_and_fields(suite_dir):
    [alpha] = load_suite(suite_dir, names=["alpha"])
    assert alpha.questions[QUESTIONS][0] == Question("a1", "When should roses be pruned?", "garden/roses.md")


def test_a_page_that_is_not_utf8_stops_the_heading_questions_with_its_set_named(suite_dir):
    (suite_dir / "beta" / "corpus" / "latin1.txt").write_bytes("Caf\xe9 notes".encode("latin-1"))
    with pytest.raises(SuiteError, match=r"- beta: a page of corpus/ is not UTF-8 text"):
        load_suite(suite_dir, headings=True)
