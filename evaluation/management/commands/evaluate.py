import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from documents.services import find_source_files
from evaluation.evalset import QuestionFileError, load_questions
from evaluation.scoring import METRICS, evaluate
from evaluation.suite import collection_name, import_corpus, set_name_of


class Command(BaseCommand):
    help = (
        "Measure retrieval on a corpus with known answers. Imports --corpus into its own collection "
        "(incrementally, like import_documents), runs every question of QUESTIONS through the chat's "
        "retrieval, and reports recall@1/5/10, MRR@10 and retrieval latency p50/p95 (query embedding + "
        "search). QUESTIONS is an evaluation set: JSON lines, each an object with id, question and "
        "expected_source (the path of the document that answers it, relative to the corpus); other keys "
        "are ignored, so the files export_dataset and the Message admin's evaluation export write are "
        "valid once every expected_source is filled in."
    )

    def add_arguments(self, parser):
        parser.add_argument("questions", type=Path, help="JSON-lines file of questions.")
        parser.add_argument("--corpus", type=Path, required=True, help="Folder of the documents.")
        parser.add_argument(
            "--collection",
            help="Collection to use (default: eval-<corpus folder name>, or eval-<set name> for a set's corpus/ "
            "folder, the collection evaluate_suite uses).",
        )
        parser.add_argument("--k", type=int, default=10, help="Distinct sources listed per question (default 10).")
        parser.add_argument("--json", action="store_true", dest="as_json", help="Print one JSON object.")

    def handle(self, *args, questions: Path, corpus: Path, collection: str | None, k: int, as_json: bool, **opts):
        if not corpus.is_dir():
            raise CommandError(f"No such corpus folder: {corpus}")
        if not questions.is_file():
            raise CommandError(f"No such questions file: {questions}")
        try:
            question_list = load_questions(questions)
        except QuestionFileError as exc:
            raise CommandError(str(exc)) from None
        collection = collection or collection_name(set_name_of(corpus))
        quiet = opts["verbosity"] == 0

        files = sum(1 for _ in find_source_files([corpus]))
        with tqdm(total=files, unit="file", desc="Importing corpus", disable=quiet) as bar:
            # Its own collection, private and owned by nobody, so no one's chat finds or cites the corpus.
            report = import_corpus(corpus=corpus, collection=collection, on_file_done=lambda _: bar.update())
        if report.failed:
            self.stderr.write(self.style.WARNING(f"{len(report.failed)} corpus file(s) could not be imported."))

        with tqdm(total=len(question_list), unit="question", desc="Retrieving", disable=quiet) as bar:
            metrics, results = evaluate(question_list, collection=collection, k=k, on_question=bar.update)

        if as_json:
            output = {name: round(metrics[name], 4) for name in METRICS}
            output.update(collection=collection, k=k, question_count=len(results))
            output["questions"] = [
                {"id": r.id, "expected_source": r.expected_source, "ranked_sources": r.ranked_sources[:k]}
                for r in results
            ]
            self.stdout.write(json.dumps(output, ensure_ascii=False))
            return
        self.stdout.write(f"{len(results)} questions, collection {collection!r}, {report.chunks_written} chunks added")
        for name in METRICS:
            self.stdout.write(f"  {name:<18} {metrics[name]:.3f}")
