"""How good and how fast the shipped static embedding is (features.embedding): a report, not a test.

Quality: the outlets of the AllSides and extra corpora with a Lin et al. pc1 label and >= 20 articles; at most 40
articles per outlet (the most recent, scorer.text.text_sample); an article = its title + the first 200 words of its
text; a ridge on article embeddings; an outlet's score = the mean of its articles' predictions; Spearman of the
out-of-fold outlet scores with the labels, 5-fold x 3 repeats outlet-grouped CV (scorer.cv.grouped_splits). The
shipped table (int8, Zipf weights) is compared with the float32 table and with SIF weights when `--float32` gives
the float32 table and token frequencies (`python -m evaluation.distill_embedding --float32-out PATH`).

Speed: articles (title + first 200 words) embedded per CPU-second, on real AllSides articles, first call in the
process (the word cache empty) and again (warm).

    python -m evaluation.embedding_check --shared ../shared [--float32 /tmp/emb_f32.npz]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import polars as pl
from sklearn.linear_model import Ridge

from evaluation.data import data_dir, load_all_corpora
from evaluation.distill_embedding import sif_weights, zipf_weights
from features.embedding import StaticEmbedding, WordPieceTokenizer, first_words, load_static_embedding
from jobs.readers.labels import load_labels
from jobs.readers.outlets import OutletResolver
from scorer.cv import grouped_splits, spearman
from scorer.text import text_sample

ALPHAS = (0.001, 0.003, 0.01, 0.03, 0.3)  # l2-normalised 384-d rows: small penalties
CAP = 40
MIN_ARTICLES = 20
WORDS = 200


def article_texts(articles: pl.DataFrame) -> list[str]:
    return [f"{t}\n{first_words(x, WORDS)}" for t, x in zip(articles["title"], articles["text"], strict=True)]


def check_set(shared: Path) -> tuple[pl.DataFrame, dict[str, float]]:
    """The capped articles of the labelled outlets (sorted by outlet) and the outlets' label scores."""
    resolver = OutletResolver.default()
    data = data_dir(shared)
    articles = load_all_corpora(data, resolver).filter(pl.col("corpus") != "pac")  # AllSides + the extra corpora
    labels = load_labels(data / "labels" / "lin2023_domain_pc1.csv", resolver=resolver, score_column="pc1")
    counts = articles.group_by("outlet").len().filter(pl.col("len") >= MIN_ARTICLES)
    kept = labels.join(counts, on="outlet", how="inner")
    y = dict(zip(kept["outlet"].to_list(), kept["label_score"].to_list(), strict=True))
    return text_sample(articles.filter(pl.col("outlet").is_in(list(y))), CAP), y


def cv_spearman(x: np.ndarray, outlets: list[str], y: dict[str, float], alpha: float) -> tuple[float, float]:
    """Mean and sd over repeats of the Spearman of out-of-fold outlet scores (mean article prediction)."""
    names = sorted(y)
    index = {o: i for i, o in enumerate(names)}
    group = np.array([index[o] for o in outlets])
    target = np.array([y[o] for o in names])
    splits = grouped_splits(np.arange(len(names)), n_splits=5, n_repeats=3, seed=0)
    scores = np.full((3, len(names)), np.nan)
    for s in splits:
        train = np.isin(group, s.train)
        model = Ridge(alpha=alpha).fit(x[train], target[group[train]])
        test = np.isin(group, s.test)
        pred = model.predict(x[test])
        sums = np.bincount(group[test], weights=pred, minlength=len(names))
        n = np.bincount(group[test], minlength=len(names))
        scores[s.repeat, s.test] = sums[s.test] / n[s.test]
    rhos = [spearman(target, scores[r]) for r in range(scores.shape[0])]
    return float(np.mean(rhos)), float(np.std(rhos))


def speed(shared: Path, n: int = 5000) -> tuple[float, float]:
    """Articles per CPU-second (title + first 200 words), cold (a fresh word cache) then warm."""
    raw = pl.read_parquet(data_dir(shared) / "corpora" / "allsides_2012_2020.parquet", columns=["title", "text"])
    texts = [f"{t or ''}\n{x or ''}" for t, x in raw.sample(n, seed=1).iter_rows()]
    shipped = load_static_embedding()
    emb = replace(shipped, tokenizer=WordPieceTokenizer(shipped.tokenizer.vocab))
    rates = []
    for _ in range(2):
        started = time.process_time()
        emb.embed(texts, max_words=WORDS)
        rates.append(n / (time.process_time() - started))
    return rates[0], rates[1]


def variants(shipped: StaticEmbedding, float32: Path | None) -> dict[str, StaticEmbedding]:
    """The shipped table (int8, Zipf weights) and, given the float32 table and frequencies, the alternatives."""
    out = {"int8 + Zipf (shipped)": shipped}
    if float32 is None:
        return out
    with np.load(float32, allow_pickle=False) as npz:
        vectors, freq = npz["vectors"].astype(np.float32), npz["freq"]
    out["float32 + Zipf"] = replace(shipped, vectors=vectors, weights=zipf_weights(freq))
    out["float32 + SIF a=1e-3"] = replace(shipped, vectors=vectors, weights=sif_weights(freq))
    for a in (1e-3, 1e-4, 1e-5):
        out[f"int8 + SIF a={a:g}"] = replace(shipped, weights=sif_weights(freq, a))
    out["int8, no weights"] = replace(shipped, weights=np.ones_like(shipped.weights))
    cosine = np.sum(vectors * shipped.vectors, axis=1) / np.maximum(
        np.linalg.norm(vectors, axis=1) * np.linalg.norm(shipped.vectors, axis=1), 1e-12
    )
    print(f"int8 vs float32 token vectors: mean cosine {cosine.mean():.6f}, min {cosine.min():.6f}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path("../shared"))
    parser.add_argument("--float32", type=Path, help="float32 table + frequencies from distill_embedding --float32-out")
    args = parser.parse_args()
    shipped = load_static_embedding()
    print(f"table version {shipped.version}, {shipped.vocab_size} x {shipped.dim}")
    cold, warm = speed(args.shared)
    print(f"speed: {cold:.0f} articles/CPU-s cold, {warm:.0f} warm (title + first {WORDS} words, 5,000 AllSides)")
    articles, y = check_set(args.shared)
    print(f"{len(y)} outlets, {articles.height} articles (<= {CAP} per outlet)")
    texts = article_texts(articles)
    outlets = articles["outlet"].to_list()
    for name, emb in variants(shipped, args.float32).items():
        x = emb.embed(texts, max_words=None)
        cells = [f"alpha {a}: {m:.3f} +- {s:.3f}" for a in ALPHAS for m, s in [cv_spearman(x, outlets, y, a)]]
        print(f"{name:22s} " + " | ".join(cells))


if __name__ == "__main__":
    main()
