"""Build features/data/claims/centre.txt: the mean static-embedding vector of claim sentences, which
features.claims subtracts before comparing claims (static mean-pooled vectors share one large common direction:
uncentred, any two news sentences have cosine ~0.9).

    python evaluation/claim_centre.py --shared ../shared

Input: 3,000 articles of ../shared/data/corpora/allsides_2012_2020.parquet drawn with polars' sample(seed=1), their
claim sentences (features.claims.article_claims, no boilerplate history, no outlet names); output 384 numbers,
one a line, rounded to 7 decimals (the file's sha256 is printed; features/data/claims/PROVENANCE.md records it).
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np
import polars as pl

from features.claims import article_claims, cited_outlets
from features.embedding import load_static_embedding
from features.lexicons import load_lexicons

OUT = Path(__file__).resolve().parents[1] / "features" / "data" / "claims" / "centre.txt"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path("../shared"))
    args = parser.parse_args()
    corpus = pl.read_parquet(
        args.shared / "data/corpora/allsides_2012_2020.parquet", columns=["id", "domain", "title", "text"]
    )
    sample = corpus.sort("id").sample(3000, seed=1)
    arts = pl.LazyFrame(
        {
            "article_id": sample["id"].cast(pl.String),
            "outlet": sample["domain"],
            "title": sample["title"],
            "text": sample["text"],
        }
    )
    none = pl.LazyFrame(schema={"outlet": pl.String, "line_norm": pl.String})
    claims = article_claims(arts, boilerplate=none, lexicons=load_lexicons(), cited=cited_outlets({})).collect()
    vectors = load_static_embedding().embed(claims["sentence"].to_list(), max_words=None)
    text = "".join(f"{v:.7f}\n" for v in vectors.mean(axis=0, dtype=np.float64))
    OUT.write_text(text, encoding="utf-8")
    print(
        f"{claims.height} claim sentences of {sample.height} articles -> {OUT} "
        f"sha256 {hashlib.sha256(text.encode()).hexdigest()}"
    )


if __name__ == "__main__":
    main()
