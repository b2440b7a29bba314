"""The ONNX Runtime backends against the torch model, their clear failures, and a worker without torch.

They read the export `manage.py embeddings_export` wrote into EMBEDDING_ONNX_DIR (make test does).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from documents import embeddings
from documents.embeddings import MiniLMEmbeddings
from documents.embeddings_onnx import MANIFEST_FILE, OnnxEncoder, OnnxModelMissing

TEXTS = [
    "How do I import my own documents?",
    "Descale the kettle every month with white vinegar, then rinse it twice before making tea.",
    "QuerySets are lazy: creating one touches no database until it is evaluated, by iteration, "
    "slicing with a step, pickling, repr(), len(), list() or bool().",
    "Crème brûlée, naïve café, 東京 and 🙂: accents, other scripts and emoji.",
    "A text far longer than the model reads, which both backends must cut at the same word piece. " * 30,
    "",
]


def vectors(backend: str, batch_size: int = 2) -> np.ndarray:
    # Batches of two: texts of different lengths share a batch and there are several batches.
    return np.array(MiniLMEmbeddings(batch_size=batch_size, backend=backend).embed_documents(TEXTS))


def test_onnx_fp32_gives_the_torch_models_vectors():
    cosines = np.sum(vectors("onnx") * vectors("torch"), axis=1)
    assert cosines.min() >= 0.9999, cosines


def test_onnx_int8_stays_close_to_the_torch_model():
    cosines = np.sum(vectors("onnx-int8") * vectors("torch"), axis=1)
    # The empty text is [CLS] [SEP] alone: no words to average the rounding over (0.976 measured).
    assert cosines[:-1].min() >= 0.98 and cosines[-1] >= 0.97, cosines


def test_onnx_vectors_are_unit_length_and_keep_the_order_of_the_texts():
    one_by_one = np.array([MiniLMEmbeddings(backend="onnx").embed_query(text) for text in TEXTS])
    batched = vectors("onnx", batch_size=4)
    np.testing.assert_allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(batched, one_by_one, atol=1e-5)


@pytest.mark.parametrize(("passage_threads", "shared"), [(0, False), (2, False), (1, True)])
def test_a_question_is_embedded_on_one_thread_and_the_model_is_held_once_when_passages_use_one_too(
    settings, passage_threads, shared
):
    settings.EMBEDDING_THREADS = passage_threads
    encoder = OnnxEncoder.load(quantised=False)

    query_session = encoder.query_session()

    assert query_session.get_session_options().intra_op_num_threads == 1
    assert encoder.session.get_session_options().intra_op_num_threads == passage_threads
    assert (query_session is encoder.session) is shared
    np.testing.assert_allclose(encoder.encode_query(TEXTS[1]), encoder.encode(TEXTS[1:2], batch_size=1)[0], atol=1e-5)


def test_the_default_backend_follows_the_setting(settings):
    settings.EMBEDDING_BACKEND = "torch"
    torch_vector = MiniLMEmbeddings().embed_query(TEXTS[0])
    settings.EMBEDDING_BACKEND = "onnx-int8"
    int8_vector = MiniLMEmbeddings().embed_query(TEXTS[0])
    assert torch_vector != int8_vector
    assert int8_vector == MiniLMEmbeddings(backend="onnx-int8").embed_query(TEXTS[0])


def test_a_missing_export_is_reported_with_the_command_to_run(settings, tmp_path, monkeypatch):
    monkeypatch.setattr(embeddings, "_encoders", {})
    settings.EMBEDDING_ONNX_DIR = tmp_path / "not-exported"
    settings.EMBEDDING_BACKEND = "onnx-int8"
    with pytest.raises(OnnxModelMissing) as caught:
        MiniLMEmbeddings().embed_query("anything")
    message = str(caught.value)
    assert "python manage.py embeddings_export" in message
    assert str(tmp_path / "not-exported" / "model-int8.onnx") in message
    assert not embeddings.is_loaded()


def test_an_export_of_another_model_is_refused(settings, tmp_path, monkeypatch):
    (tmp_path / "model.onnx").symlink_to(Path(settings.EMBEDDING_ONNX_DIR) / "model.onnx")
    (tmp_path / MANIFEST_FILE).write_text(json.dumps({"source": "/elsewhere/other-model"}))
    monkeypatch.setattr(embeddings, "_encoders", {})
    settings.EMBEDDING_ONNX_DIR = tmp_path
    with pytest.raises(OnnxModelMissing, match="made from /elsewhere/other-model.*embeddings_export"):
        MiniLMEmbeddings(backend="onnx").embed_query("anything")


def test_an_unknown_backend_names_the_choices(settings):
    settings.EMBEDDING_BACKEND = "tensorflow"
    with pytest.raises(ImproperlyConfigured, match="torch, onnx, onnx-int8"):
        MiniLMEmbeddings().embed_query("anything")


# What a web worker does with the ONNX backend: load every view, embed a question, chunk a text.
WORKER = """
import sys
import django
django.setup()
import ragchat.urls
from documents.chunking import chunk_document
from documents.extract import ExtractedDocument, Section
from documents.retrieval import get_embeddings
get_embeddings().embed_query("How do I descale the kettle?")
chunk_document(ExtractedDocument(title="T", sections=[Section(["T"], "Some words. " * 400)]))
heavy = {"torch", "sentence_transformers", "transformers"}
print(sorted({name.split(".")[0] for name in sys.modules} & heavy))
"""


@pytest.mark.parametrize("backend", ["onnx", "onnx-int8"])
def test_a_worker_on_an_onnx_backend_never_imports_torch(backend):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ragchat.settings",
        "EMBEDDING_BACKEND": backend,
        "EMBEDDING_ONNX_DIR": str(settings.EMBEDDING_ONNX_DIR),
    }
    done = subprocess.run(
        [sys.executable, "-c", WORKER], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
