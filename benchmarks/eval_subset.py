"""An evaluation set's corpus imported into its ``eval-<name>`` collection, whole or a smoke run's part.

Shared by ``extractive_quality.py`` and ``retrieval_profile.py``. Django must be set up first.
"""

import shutil
import tempfile
from pathlib import Path


def import_set(eval_set, limit_files: int | None = None) -> None:
    """Import ``eval_set``'s corpus (incrementally: unchanged files are only read).

    With ``limit_files``, only the first N files by path and every expected source, copied to a
    temporary folder with their paths kept, so the documents keep the paths the questions name.
    """
    from documents.services import find_source_files
    from evaluation.suite import import_corpus

    if limit_files is None:
        import_corpus(corpus=eval_set.corpus, collection=eval_set.collection)
        return
    files = sorted(source.path for source in find_source_files([eval_set.corpus]))
    expected = {question.expected_source for questions in eval_set.questions.values() for question in questions}
    with tempfile.TemporaryDirectory(prefix="eval-subset-") as temp:
        for name in sorted(set(files[:limit_files]) | expected):
            (Path(temp) / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(eval_set.corpus / name, Path(temp) / name)
        import_corpus(corpus=Path(temp), collection=eval_set.collection)
