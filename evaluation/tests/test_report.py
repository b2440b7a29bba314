import pytest

from evaluation.report import ALL_KINDS, HEADINGS, QUESTIONS, Row, averages, macro_average, render_table, table_json
from evaluation.scoring import METRICS, RankedResult


def ranked(rank: int | None, latency: float = 10.0) -> RankedResult:
    """A question whose expected source "hit" came back at ``rank`` (None: not at all)."""
    sources = [f"other-{n}" for n in range(1, 12)]
    if rank:
        sources.insert(rank - 1, "hit")
    return RankedResult(id=f"q{rank}", expected_source="hit", ranked_sources=sources, latency_ms=latency)


def row(set_name: str, ranks: list[int | None], *, kind: str = QUESTIONS, system: str = "ragchat", latency=10.0) -> Row:
    return Row.scored(system=system, set_name=set_name, kind=kind, results=[ranked(r, latency) for r in ranks])


def test_the_macro_average_is_the_mean_of_the_sets_not_of_their_questions():
    small = row("small", [1, None], latency=10.0)  # recall@1 1/2, MRR 1/2
    large = row("large", [1, 1, 1, 1, 1, 1, 2, 2], latency=30.0)  # recall@1 6/8, MRR 7/8
    average = macro_average([small, large])
    assert average["recall@1"] == pytest.approx((1 / 2 + 6 / 8) / 2)  # pooled would be 7/10
    assert average["recall@5"] == pytest.approx((1 / 2 + 1) / 2)
    assert average["mrr@10"] == pytest.approx((1 / 2 + 7 / 8) / 2)
    assert (average["retrieval_ms_p50"], average["retrieval_ms_p95"]) == (20.0, 20.0)


def test_averages_per_kind_and_over_every_row_for_each_system():
    rows = [
        row("a", [1], system="ragchat"),
        row("a", [2], system="peer"),
        row("b", [None], system="ragchat"),
        row("b", [1], system="peer"),
        row("b", [1, 1, 1], kind=HEADINGS, system="ragchat"),
    ]
    found = {(a.system, a.kind): a for a in averages(rows)}
    assert list(found) == [("ragchat", QUESTIONS), ("peer", QUESTIONS), ("ragchat", HEADINGS), ("ragchat", ALL_KINDS),
                           ("peer", ALL_KINDS)]  # fmt: skip
    assert found["ragchat", QUESTIONS].metrics["recall@1"] == 0.5
    assert found["peer", QUESTIONS].metrics["mrr@10"] == pytest.approx(0.75)
    assert found["ragchat", ALL_KINDS].metrics["recall@1"] == pytest.approx(2 / 3)  # three rows, each counted once
    assert found["ragchat", ALL_KINDS].question_count == 5


def test_the_table_lists_each_set_with_the_systems_side_by_side_then_the_averages():
    rows = [row("b", [1, 2]), row("a", [1]), row("a", [3], system="peer"), row("a", [1, 1], kind=HEADINGS)]
    lines = render_table(rows).splitlines()
    assert (
        lines[0] == "| set | kind | system | questions | recall@1 | recall@5 | recall@10 | MRR@10 | p50 ms | p95 ms |"
    )
    assert lines[1] == "|---|---|---|---|---|---|---|---|---|---|"
    cells = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]
    assert [c[:4] for c in cells] == [
        ["a", "questions", "ragchat", "1"],
        ["a", "questions", "peer", "1"],
        ["a", "headings", "ragchat", "2"],
        ["b", "questions", "ragchat", "2"],
        ["**macro average** (2 sets)", "questions", "ragchat", "3"],
        ["**macro average** (1 set)", "questions", "peer", "1"],
        ["**macro average** (1 set)", "headings", "ragchat", "2"],
        ["**macro average** (3 rows)", "all", "ragchat", "5"],
        ["**macro average** (1 row)", "all", "peer", "1"],
    ]
    assert cells[3][4:] == ["0.500", "1.000", "1.000", "0.750", "10.0", "10.0"]


def test_the_json_has_every_row_with_its_questions_ranks_and_every_average():
    output = table_json([row("a", [1, None]), row("b", [4])])
    assert [r["set"] for r in output["rows"]] == ["a", "b"]
    first = output["rows"][0]
    assert set(first) == {"set", "kind", "system", "question_count", "questions", *METRICS}
    assert first["questions"] == [{"id": "q1", "expected_source": "hit", "rank": 1},
                                  {"id": "qNone", "expected_source": "hit", "rank": None}]  # fmt: skip
    assert output["rows"][1]["mrr@10"] == 0.25
    [average] = output["averages"]
    assert average == {"kind": QUESTIONS, "system": "ragchat", "row_count": 2, "question_count": 3,
                       "recall@1": 0.25, "recall@5": 0.75, "recall@10": 0.75, "mrr@10": 0.375,
                       "retrieval_ms_p50": 10.0, "retrieval_ms_p95": 10.0}  # fmt: skip
