"""The evaluation suite: every evaluation set under one folder, checked before any work starts.

A set is a folder (its name names the set) holding ``corpus/``, the documents, and
``questions.jsonl``, an evaluation set (``evalset.py``) whose expected sources are paths within
``corpus/``; ``../shared/eval/`` holds four. Each set is imported into its own evaluation
collection, ``eval-<set name>``: private and owned by nobody, so no one's chat finds it, and kept
between runs like ``evaluate``'s, so a second run reads the files and imports nothing.
"""

from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug

from documents.collections import collection_get_or_create
from documents.models import Collection, Visibility
from documents.services import ImportReport, documents_import, find_source_files
from evaluation.evalset import Question, QuestionFileError, load_questions
from evaluation.headings import HEADING_MIN_CHARS, heading_questions
from evaluation.report import HEADINGS, QUESTIONS

CORPUS_FOLDER = "corpus"
QUESTIONS_FILE = "questions.jsonl"
COLLECTION_PREFIX = "eval-"
MAX_NAME = Collection._meta.get_field("name").max_length - len(COLLECTION_PREFIX)


class SuiteError(ValueError):
    """A suite that cannot be run as asked; the message names every set at fault and why."""


@dataclass(frozen=True)
class EvalSet:
    name: str
    corpus: Path
    questions: dict[str, list[Question]]  # by kind (QUESTIONS, then HEADINGS when asked for)

    @property
    def collection(self) -> str:
        return collection_name(self.name)


def collection_name(set_name: str) -> str:
    return COLLECTION_PREFIX + set_name


def set_name_of(corpus: Path) -> str:
    """The set a corpus folder belongs to: its parent's name for a set's ``corpus/``, else its own."""
    corpus = corpus.resolve()
    return corpus.parent.name if corpus.name == CORPUS_FOLDER else corpus.name


def import_corpus(*, corpus: Path, collection: str, on_file_done=None) -> ImportReport:
    """Import ``corpus`` into ``collection``, made private and owned by nobody if it is new.

    Incremental like ``import_documents``: unchanged files are only read, changed ones replaced.
    """
    collection_get_or_create(name=collection, title=f"Evaluation: {set_name_of(corpus)}", visibility=Visibility.PRIVATE)
    return documents_import(paths=[corpus], collection=collection, on_file_done=on_file_done)


def load_suite(
    folder: Path, *, names: list[str] | None = None, headings: bool = False, heading_min_chars: int = HEADING_MIN_CHARS
) -> list[EvalSet]:
    """The sets under ``folder`` (its folders not starting with a dot), or only those ``names``.

    Every set is checked before any is imported, and a SuiteError names every one at fault: a
    macro average over fewer sets than asked would not compare with earlier runs, and stopping
    now costs nothing while finding the fault after an hour of imports would.
    """
    if not folder.is_dir():
        raise SuiteError(f"No such folder: {folder}")
    found = {path.name: path for path in sorted(folder.iterdir()) if path.is_dir() and not path.name.startswith(".")}
    unknown = sorted(set(names or []) - set(found))
    if unknown:
        raise SuiteError(f"No set named {', '.join(unknown)} in {folder} (it holds: {', '.join(found) or 'none'}).")
    chosen = [path for name, path in found.items() if not names or name in names]
    if not chosen:
        raise SuiteError(f"{folder} holds no evaluation set: a folder with {CORPUS_FOLDER}/ and {QUESTIONS_FILE}.")
    sets, problems = [], []
    for path in chosen:
        try:
            sets.append(load_set(path, headings=headings, heading_min_chars=heading_min_chars))
        except SuiteError as exc:
            problems.append(str(exc))
    if problems:
        raise SuiteError("Nothing was run; fix or leave out (--sets) these sets:\n" + "\n".join(problems))
    return sets


def load_set(folder: Path, *, headings: bool = False, heading_min_chars: int = HEADING_MIN_CHARS) -> EvalSet:
    """One set, checked: a SuiteError gives every reason it cannot be run."""
    reasons = _name_problems(folder.name)
    corpus = folder / CORPUS_FOLDER
    documents = {file.path for file in find_source_files([corpus])} if corpus.is_dir() else set()
    if not corpus.is_dir():
        reasons.append(f"no {CORPUS_FOLDER}/ folder")
    elif not documents:
        reasons.append(f"{CORPUS_FOLDER}/ holds no document to import")
    questions: list[Question] = []
    if not (folder / QUESTIONS_FILE).is_file():
        reasons.append(f"no {QUESTIONS_FILE}")
    else:
        try:
            questions = load_questions(folder / QUESTIONS_FILE)
        except QuestionFileError as exc:
            reasons.append(str(exc))
    missing = sorted({question.expected_source for question in questions} - documents) if documents else []
    if missing:
        shown = ", ".join(missing[:3]) + (", ..." if len(missing) > 3 else "")
        reasons.append(f"{len(missing)} expected source(s) not in {CORPUS_FOLDER}/: {shown}")
    if reasons:
        raise SuiteError(f"- {folder.name}: " + "; ".join(reasons))
    return with_headings(EvalSet(folder.name, corpus, {QUESTIONS: questions}), headings, heading_min_chars)


def with_headings(eval_set: EvalSet, headings: bool, min_chars: int = HEADING_MIN_CHARS) -> EvalSet:
    """The set with heading questions of its corpus added, when asked for and its corpus has long pages."""
    try:
        lines = heading_questions(eval_set.corpus, min_chars=min_chars) if headings else []
    except UnicodeDecodeError as exc:  # the import would skip such a file; the headings cannot
        raise SuiteError(f"- {eval_set.name}: a page of {CORPUS_FOLDER}/ is not UTF-8 text ({exc})") from None
    if not lines:
        return eval_set
    return EvalSet(eval_set.name, eval_set.corpus, {**eval_set.questions, HEADINGS: [Question(**x) for x in lines]})


def _name_problems(name: str) -> list[str]:
    try:
        validate_slug(name)
    except ValidationError:
        return [f"its name is not letters, digits, - and _ only (it names the collection {collection_name(name)})"]
    if len(name) > MAX_NAME:
        return [f"its name is longer than {MAX_NAME} characters (it names the collection {collection_name(name)})"]
    return []
