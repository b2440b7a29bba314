"""embeddings_export: one real export from the bundled weights, made once for these tests."""

import json
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from documents import embeddings
from documents.embeddings import MiniLMEmbeddings
from documents.embeddings_onnx import FP32_FILE, INT8_FILE, MANIFEST_FILE


def export(**options) -> str:
    out = StringIO()
    call_command("embeddings_export", stdout=out, **options)
    return out.getvalue()


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("onnx") / "export"
    return folder, export(output=folder)


def test_it_writes_both_models_and_a_manifest_of_their_source(exported):
    folder, output = exported
    assert "Wrote the ONNX export to" in output and "lowest cosine with torch" in output
    assert sorted(path.name for path in folder.iterdir()) == sorted([FP32_FILE, INT8_FILE, MANIFEST_FILE])
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    assert manifest["source"] == str(Path(embeddings.model_path()).resolve())
    assert len(manifest["weights_sha256"]) == 64
    # Nothing left beside it: the scratch folder is removed.
    assert [path.name for path in folder.parent.iterdir()] == ["export"]


def test_a_second_run_finds_it_up_to_date_and_writes_nothing(exported):
    folder, _ = exported
    before = {path.name: path.stat().st_mtime_ns for path in folder.iterdir()}
    assert "up to date; nothing to do" in export(output=folder)
    assert {path.name: path.stat().st_mtime_ns for path in folder.iterdir()} == before


def test_the_backend_serves_the_exported_folder(exported, settings, monkeypatch):
    folder, _ = exported
    monkeypatch.setattr(embeddings, "_encoders", {})
    settings.EMBEDDING_ONNX_DIR = folder
    onnx = np.array(MiniLMEmbeddings(backend="onnx").embed_query("Where do roses grow?"))
    torch = np.array(MiniLMEmbeddings(backend="torch").embed_query("Where do roses grow?"))
    assert float(onnx @ torch) >= 0.9999


def test_a_model_folder_without_weights_is_a_clear_error(settings, tmp_path):
    settings.EMBEDDING_MODEL_PATH = str(tmp_path)
    with pytest.raises(CommandError, match="No model weights"):
        export(output=tmp_path / "export")
    assert not (tmp_path / "export").exists()
