"""The suite's table: one row per set, question kind and system, then the macro averages.

``evaluate_suite`` prints it for ragchat; ``benchmarks/peer_benchmark.py`` prints the same table
with langchain-postgres' rows beside ragchat's, so both read the same way.

A macro average is the mean of the rows' values, each set counting once whatever its number of
questions (a pooled average would let the largest set decide). Latency is averaged the same way:
the mean of the sets' p50 and the mean of their p95.
"""

from dataclasses import dataclass

from evaluation.scoring import METRICS, RankedResult, compute_metrics

RAGCHAT = "ragchat"
# The kinds of question a set is scored on: its own questions file, and headings of its long pages.
QUESTIONS = "questions"
HEADINGS = "headings"
ALL_KINDS = "all"
COLUMNS = {
    "recall@1": "recall@1",
    "recall@5": "recall@5",
    "recall@10": "recall@10",
    "mrr@10": "MRR@10",
    "retrieval_ms_p50": "p50 ms",
    "retrieval_ms_p95": "p95 ms",
}


@dataclass(frozen=True)
class Row:
    """One system's scores on one kind of question of one set."""

    system: str
    set_name: str
    kind: str
    results: list[RankedResult]
    metrics: dict[str, float]

    @classmethod
    def scored(cls, *, system: str, set_name: str, kind: str, results: list[RankedResult]) -> "Row":
        return cls(system, set_name, kind, results, compute_metrics(results))


@dataclass(frozen=True)
class Average:
    """The macro average of one system's rows of one kind (or of every kind: ``ALL_KINDS``)."""

    system: str
    kind: str
    rows: list[Row]

    @property
    def metrics(self) -> dict[str, float]:
        return macro_average(self.rows)

    @property
    def question_count(self) -> int:
        return sum(len(row.results) for row in self.rows)


def macro_average(rows: list[Row]) -> dict[str, float]:
    """Each metric's mean over ``rows``: every set weighs the same."""
    return {name: sum(row.metrics[name] for row in rows) / len(rows) for name in METRICS}


def averages(rows: list[Row]) -> list[Average]:
    """Per system, an average per kind of question, and one over every row when there are several kinds."""
    systems = list(dict.fromkeys(row.system for row in rows))
    kinds = list(dict.fromkeys(row.kind for row in rows))
    found = []
    for kind in kinds + ([ALL_KINDS] if len(kinds) > 1 else []):
        for system in systems:
            chosen = [row for row in rows if row.system == system and kind in (row.kind, ALL_KINDS)]
            if chosen:
                found.append(Average(system, kind, chosen))
    return found


def _cells(metrics: dict[str, float]) -> list[str]:
    return [f"{metrics[name]:.1f}" if name.startswith("retrieval_ms") else f"{metrics[name]:.3f}" for name in METRICS]


def render_table(rows: list[Row]) -> str:
    """A Markdown table: every set's rows (systems side by side), then the macro averages."""
    lines = [
        "| set | kind | system | questions | " + " | ".join(COLUMNS.values()) + " |",
        "|---|---|---|---|" + "---|" * len(COLUMNS),
    ]
    by_set = sorted(rows, key=lambda row: (row.set_name, _kind_order(row.kind)))  # sort is stable: systems keep order
    for row in by_set:
        cells = [row.set_name, row.kind, row.system, str(len(row.results)), *_cells(row.metrics)]
        lines.append("| " + " | ".join(cells) + " |")
    for average in averages(rows):
        counted = "row" if average.kind == ALL_KINDS else "set"
        label = f"**macro average** ({len(average.rows)} {counted}{'' if len(average.rows) == 1 else 's'})"
        cells = [label, average.kind, average.system, str(average.question_count), *_cells(average.metrics)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _kind_order(kind: str) -> int:
    return [QUESTIONS, HEADINGS].index(kind) if kind in (QUESTIONS, HEADINGS) else 2


def _rounded(metrics: dict[str, float]) -> dict[str, float]:
    return {name: round(metrics[name], 4) for name in METRICS}


def table_json(rows: list[Row]) -> dict:
    """The table for machines, with each question's rank (None: not retrieved) to compare runs question by question."""
    return {
        "rows": [
            {
                "set": row.set_name,
                "kind": row.kind,
                "system": row.system,
                "question_count": len(row.results),
                **_rounded(row.metrics),
                "questions": [{"id": r.id, "expected_source": r.expected_source, "rank": r.rank} for r in row.results],
            }
            for row in rows
        ],
        "averages": [
            {
                "kind": average.kind,
                "system": average.system,
                "row_count": len(average.rows),
                "question_count": average.question_count,
                **_rounded(average.metrics),
            }
            for average in averages(rows)
        ],
    }
