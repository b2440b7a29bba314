"""all-MiniLM-L6-v2 on ONNX Runtime: tokenizer, transformer, mean pooling, L2 norm; no torch.

The transformer is the file ``manage.py embeddings_export`` wrote into EMBEDDING_ONNX_DIR from the
package's own weights; everything around it is what sentence-transformers does for this model,
in numpy: its Rust tokenizer truncating at max_seq_length, the mean of the token vectors the
attention mask keeps, and L2 normalisation. Nothing here imports torch or sentence-transformers.
"""

import json
import threading
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from documents.embeddings import max_seq_length, model_path

FP32_FILE = "model.onnx"
INT8_FILE = "model-int8.onnx"
MANIFEST_FILE = "manifest.json"
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
EXPORT_COMMAND = "python manage.py embeddings_export"


class OnnxModelMissing(ImproperlyConfigured):
    """The ONNX backend was chosen but its exported files are absent or from another model."""


def onnx_dir() -> Path:
    return Path(settings.EMBEDDING_ONNX_DIR)


def source_of(folder: Path) -> str | None:
    """The model folder the export in ``folder`` was made from, or None without a finished export."""
    try:
        return json.loads((folder / MANIFEST_FILE).read_text())["source"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def exported_file(*, quantised: bool) -> Path:
    """The exported model file to load; OnnxModelMissing, naming the command, if it cannot be used."""
    folder = onnx_dir()
    path = folder / (INT8_FILE if quantised else FP32_FILE)
    source = source_of(folder)
    if source is None or not path.is_file():
        raise OnnxModelMissing(
            f"EMBEDDING_BACKEND={settings.EMBEDDING_BACKEND} needs the ONNX export of the embedding model, "
            f"but {path} is missing. Run `{EXPORT_COMMAND}` (make run and make test do) to write it "
            f"into EMBEDDING_ONNX_DIR ({folder}), or set EMBEDDING_BACKEND=torch."
        )
    wanted = str(Path(model_path()).resolve())
    if source != wanted:
        raise OnnxModelMissing(
            f"The ONNX export in {folder} was made from {source}, but the embedding model is now {wanted}. "
            f"Run `{EXPORT_COMMAND}` to export it again."
        )
    return path


def session_for(path: Path, threads: int | None = None):
    """An ONNX Runtime session on ``path``, with ``threads`` threads (default EMBEDDING_THREADS; 0: one per core)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = settings.EMBEDDING_THREADS if threads is None else threads
    # One model call at a time per session; parallelism is within each matrix product.
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: its optimiser's notes are not ours to act on
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def padded_tokenizer():
    """The model's tokenizer truncating where the model stops reading; batches are padded here."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(Path(model_path()) / "tokenizer.json"))
    tokenizer.enable_truncation(max_seq_length())
    tokenizer.no_padding()
    return tokenizer


class OnnxEncoder:
    def __init__(self, session, tokenizer, path: Path | None = None):
        self.session = session
        self.tokenizer = tokenizer
        self.path = path
        # A question is a dozen word pieces: split over several threads, each matrix product costs
        # more in handing work over than it saves, and the idle threads then spin, waiting for more,
        # on the cores the database needs for the search that follows (README, "Speed"). So questions
        # get a session of one thread, made on first use; it is the main one when that has one thread
        # (gunicorn's workers on a 2-core machine), so a web worker holds the model once.
        self._query_session = session if settings.EMBEDDING_THREADS == 1 or path is None else None
        self._query_session_lock = threading.Lock()

    @classmethod
    def load(cls, *, quantised: bool) -> "OnnxEncoder":
        path = exported_file(quantised=quantised)
        return cls(session_for(path), padded_tokenizer(), path)

    def query_session(self):
        with self._query_session_lock:
            if self._query_session is None:
                self._query_session = session_for(self.path, threads=1)
            return self._query_session

    def encode_query(self, text: str) -> np.ndarray:
        """One text's L2-normalised vector, computed on one thread."""
        return self._embed_batch([self.tokenizer.encode(text).ids], session=self.query_session())[0]

    def encode(self, texts: list[str], *, batch_size: int) -> np.ndarray:
        """One L2-normalised vector per text, in the order given.

        Texts are batched by token length, as sentence-transformers batches by text length, so a
        batch pads little: the model's time grows with the longest text of each batch.
        """
        ids = [encoding.ids for encoding in self.tokenizer.encode_batch(texts)]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        batches = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
        in_order = np.concatenate([self._embed_batch([ids[i] for i in batch]) for batch in batches])
        vectors = np.empty_like(in_order)
        vectors[order] = in_order
        return vectors

    def _embed_batch(self, batch: list[list[int]], session=None) -> np.ndarray:
        width = max(len(piece_ids) for piece_ids in batch)
        input_ids = np.zeros((len(batch), width), dtype=np.int64)  # 0 is [PAD]
        mask = np.zeros_like(input_ids)
        for row, piece_ids in enumerate(batch):
            input_ids[row, : len(piece_ids)] = piece_ids
            mask[row, : len(piece_ids)] = 1
        inputs = dict(zip(INPUT_NAMES, (input_ids, mask, np.zeros_like(input_ids)), strict=True))
        hidden = (session or self.session).run(None, inputs)[0]
        return normalised(mean_pooled(hidden, mask))


def mean_pooled(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The mean of each text's token vectors, padding left out (sentence-transformers' Pooling)."""
    weights = mask[:, :, None].astype(hidden.dtype)
    return (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)


def normalised(vectors: np.ndarray) -> np.ndarray:
    """Unit length, so cosine similarity is a dot product (sentence-transformers' Normalize)."""
    return vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)
