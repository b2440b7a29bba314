import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from documents.services import find_source_files
from evaluation.headings import HEADING_MIN_CHARS, HEADING_SEED
from evaluation.report import RAGCHAT, Row, render_table, table_json
from evaluation.scoring import evaluate
from evaluation.suite import EvalSet, SuiteError, import_corpus, load_suite


class Command(BaseCommand):
    help = (
        "Measure retrieval on every evaluation set under FOLDER and print one table: per set and "
        "macro-averaged (each set counts once), recall@1/5/10, MRR@10 and retrieval latency p50/p95. "
        "A set is a folder holding corpus/ and questions.jsonl (the format evaluate reads). Every set "
        "is checked first; if any cannot be run, nothing is, and the error names each and why. Each "
        "corpus is imported once per run into its own collection, eval-<set name> (private, owned by "
        "nobody, so no one's chat finds it), kept for the next run, which then imports nothing "
        "unchanged; 'collections delete eval-<set name>' removes one. With --headings each set also "
        f"gets a row of heading questions made from its own corpus (the ones benchmarks/heading_questions.py writes, "
        f"seed {HEADING_SEED}), scored on the same import."
    )

    def add_arguments(self, parser):
        parser.add_argument("folder", type=Path, help="Folder of evaluation sets (e.g. ../shared/eval).")
        parser.add_argument("--sets", nargs="+", metavar="NAME", help="Only these sets (their folder names).")
        parser.add_argument(
            "--headings", action="store_true", help="Also score section headings of each set's long pages."
        )
        parser.add_argument(
            "--heading-min-chars",
            type=int,
            default=HEADING_MIN_CHARS,
            help=f"Pages at least this long give a heading question (default {HEADING_MIN_CHARS}).",
        )
        parser.add_argument("--json", action="store_true", dest="as_json", help="Print one JSON object.")

    def handle(self, *args, folder: Path, sets, headings: bool, heading_min_chars: int, as_json: bool, **opts):
        try:
            suite = load_suite(folder, names=sets, headings=headings, heading_min_chars=heading_min_chars)
        except SuiteError as exc:
            raise CommandError(str(exc)) from None
        quiet = opts["verbosity"] == 0
        rows = []
        for number, eval_set in enumerate(suite, start=1):
            rows += self.run_set(eval_set, label=f"[{number}/{len(suite)}] {eval_set.name}", quiet=quiet)

        if as_json:
            output = {"folder": str(folder), "collections": {s.name: s.collection for s in suite}, **table_json(rows)}
            self.stdout.write(json.dumps(output, ensure_ascii=False))
            return
        self.stdout.write(render_table(rows))
        kept = ", ".join(eval_set.collection for eval_set in suite)
        self.stdout.write(self.style.SUCCESS(f"{len(suite)} set(s) scored; collections kept for the next run: {kept}"))

    def run_set(self, eval_set: EvalSet, *, label: str, quiet: bool) -> list[Row]:
        """Import the set's corpus once, then score every kind of question on that one import."""
        files = sum(1 for _ in find_source_files([eval_set.corpus]))
        with tqdm(total=files, unit="file", desc=f"{label}: importing", disable=quiet) as bar:
            report = import_corpus(
                corpus=eval_set.corpus, collection=eval_set.collection, on_file_done=lambda _: bar.update()
            )
        for path, reason in report.failed:
            self.stderr.write(self.style.WARNING(f"{eval_set.name}: {path} could not be imported: {reason}"))
        rows = []
        for kind, questions in eval_set.questions.items():
            with tqdm(total=len(questions), unit="question", desc=f"{label}: {kind}", disable=quiet) as bar:
                _, results = evaluate(questions, collection=eval_set.collection, on_question=bar.update)
            rows.append(Row.scored(system=RAGCHAT, set_name=eval_set.name, kind=kind, results=results))
        return rows
