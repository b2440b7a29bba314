import argparse
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from datacare.dataset import DatasetSummary, dataset_export


def iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, not {value!r}") from None


class Command(BaseCommand):
    help = (
        "Export answered exchanges for building evaluation sets, as JSON lines in the evaluation-set "
        "format (id, question, expected_source; see the `evaluate` command) followed by search query, "
        "answer, chat type, model, date, feedback and the sources given to the model. Hidden, pending "
        "and failed messages are left out. User identities are removed: each line has a pseudonymous id "
        "(stable while SECRET_KEY stays the same) and no username, email, user, conversation or message "
        "id; the questions and comments are exported as written, so review them before sharing. "
        "expected_source is the one a moderator set on the message, or null: a line is valid input for "
        "`evaluate` only once it names the document that answers the question. The summary goes to stderr."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", type=Path, help="Write the lines to this file instead of stdout.")
        parser.add_argument("--only-feedback", action="store_true", help="Only messages rated up or down.")
        parser.add_argument("--since", type=iso_date, metavar="YYYY-MM-DD", help="Only messages from this day on.")
        parser.add_argument("--dry-run", action="store_true", help="Only count the lines that would be written.")

    def handle(self, *args, output: Path | None, only_feedback: bool, since: date | None, dry_run: bool, **opts):
        filters = {"only_feedback": only_feedback, "since": since}
        if dry_run:
            summary = dataset_export(out=None, **filters)
            self.stdout.write(f"Dry run: would export {_describe(summary)}.")
            return
        if output and not output.parent.is_dir():
            raise CommandError(f"No such folder: {output.parent}")
        if output:
            with output.open("w", encoding="utf-8") as file:
                summary = dataset_export(out=file, **filters)
        else:
            summary = dataset_export(out=self.stdout, **filters)
        destination = f" to {output}" if output else ""
        self.stderr.write(self.style.SUCCESS(f"Exported {_describe(summary)}{destination}."))


def _describe(summary: DatasetSummary) -> str:
    return f"{summary.lines} answered message(s) ({summary.thumbs_up} rated up, {summary.thumbs_down} rated down)"
