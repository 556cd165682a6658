#!/usr/bin/env python3
"""Build presstrust's embedded sample from the shared corpora.

Writes into jobs/data/sample/ (the embedded sample, package data of `jobs`; this script, in evaluation/, is
not shipped):

  allsides_sample.parquet  ~2,000 real articles from the AllSides corpus (Baly et al., EMNLP 2020),
                           columns unchanged, zstd-compressed
  extra_sample.parquet     ~400 articles of extra_2010_2021.parquet (state media, health/conspiracy sites,
                           German outlets), columns unchanged, zstd-compressed
  seed.jsonl               the founding seed article (../shared/seeds/000_8c9f463cf267f3af.txt)
  PROVENANCE.md            sources, licences, how the draw was made, per-band outlet table

Run from anywhere:

    python evaluation/build_sample.py                 # reads <repo>/../shared
    python evaluation/build_sample.py --shared DIR    # DIR holds data/ and seeds/

The draw is deterministic: the only randomness is an order key sha256(f"{SEED}:{id}") per
article, which does not depend on the Python, Polars or platform version. Same inputs -> same rows.

How outlets are chosen (outlet = corpus `domain`, i.e. the url host without "www."):
  * labelled outlets: domain has a row in data/labels/lin2023_domain_pc1.csv (leading "www." stripped on
    both sides). Reliability bands by Lin pc1: low < 0.4 <= mixed <= 0.7 < high.
      - low:   every low outlet with >= MIN_LOW_ARTICLES articles (there are few, all right-leaning);
               up to QUOTA_LOW articles each
      - mixed, high: every outlet with >= MIN_ARTICLES articles; up to QUOTA_OTHER articles each
  * unlabelled outlets: the N_UNLABELLED domains with most articles for which neither the host,
    nor any parent domain, nor its alias in jobs/data/outlet_aliases.csv, nor the alias of its most
    common outlet name has a Lin row; up to QUOTA_UNLABELLED articles each.
Within an outlet, articles with a date come first, then the seeded random order decides.
Before drawing, exact duplicates are dropped (same url, or same text under another url: the corpus
repeats 11 urls and one more text); the copy with the smallest id is kept.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import re
import sys
from pathlib import Path

import polars as pl

SEED = 20240917  # fixed seed of the draw; change it only together with PROVENANCE.md
QUOTA_LOW = 40  # articles per low-reliability outlet (they are scarce: take more of each)
QUOTA_OTHER = 30  # articles per mixed / high outlet
QUOTA_UNLABELLED = 20
MIN_ARTICLES = 20  # the scorer needs >= 20 articles per outlet
MIN_LOW_ARTICLES = 10  # low outlets are so scarce that 10-19 articles still earn a place
N_UNLABELLED = 5
LOW_MAX, HIGH_MIN = 0.4, 0.7  # low: pc1 < 0.4; mixed: 0.4 <= pc1 <= 0.7; high: pc1 > 0.7
MAX_SAMPLE_DIR_BYTES = 6_000_000
# extra_2010_2021.parquet: state media, health and conspiracy sites, German outlets (see PROVENANCE.md)
EXTRA = "data/corpora/extra_2010_2021.parquet"
EXTRA_QUOTA_LOW = 25  # low outlets (pc1 < LOW_MAX) with >= EXTRA_MIN_ARTICLES articles
EXTRA_QUOTA_OTHER = 15  # mixed / high outlets that the AllSides sample does not have
EXTRA_QUOTA_GERMAN = 20  # labelled German outlets: they show the unsupported-language status
EXTRA_QUOTA_UNLABELLED = 15  # unlabelled outlets with >= 40 articles (state media among them)
EXTRA_MIN_ARTICLES = 15
EXTRA_MIN_UNLABELLED = 40

CORPUS = "data/corpora/allsides_2012_2020.parquet"
LABELS = "data/labels/lin2023_domain_pc1.csv"
SEED_ARTICLE = "seeds/000_8c9f463cf267f3af.txt"
COLUMNS = [
    "id",
    "outlet",
    "outlet_homepage",
    "domain",
    "url",
    "date",
    "authors",
    "title",
    "text",
    "topic",
    "allsides_bias",
]

REPO = Path(__file__).resolve().parent.parent
SAMPLE_DIR = REPO / "jobs" / "data" / "sample"  # where the sample is written
ALIASES = REPO / "jobs" / "data" / "outlet_aliases.csv"


def strip_www(expr: pl.Expr) -> pl.Expr:
    return expr.str.to_lowercase().str.strip_chars().str.replace(r"^www\.", "")


def norm_alias(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip().lower()


def load_aliases(path: Path) -> dict[str, str]:
    """alias (normalised) -> canonical domain; '#' lines and blank lines are skipped."""
    if not path.exists():
        return {}
    lines = [
        ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip() and not ln.lstrip().startswith("#")
    ]
    rows = list(csv.reader(lines))
    assert rows[0] == ["alias", "outlet"], rows[0]
    return {norm_alias(a): o.strip().lower() for a, o in rows[1:]}


def order_key(article_id: str) -> str:
    return hashlib.sha256(f"{SEED}:{article_id}".encode()).hexdigest()


def band_of(pc1: float) -> str:
    return "low" if pc1 < LOW_MAX else ("high" if pc1 > HIGH_MIN else "mixed")


def draw(df: pl.DataFrame, quotas: dict[str, int]) -> pl.DataFrame:
    """Per domain: dated articles first, then by the seeded key; keep the first quota[domain]."""
    q = pl.DataFrame(
        {"domain": list(quotas), "quota": list(quotas.values())}, schema={"domain": pl.String, "quota": pl.Int64}
    )
    return (
        df.join(q, on="domain", how="inner")
        .sort(["domain", pl.col("date").is_null(), "_key"])
        .with_columns(_rank=pl.int_range(pl.len()).over("domain"))
        .filter(pl.col("_rank") < pl.col("quota"))
        .drop("quota", "_rank")
    )


def draw_extra(shared: Path, lin: dict[str, float], allsides_domains: set[str]) -> tuple[pl.DataFrame, dict[str, str]]:
    """The extra corpus's share of the sample: low, German, new mixed/high and large unlabelled outlets."""
    extra = pl.read_parquet(shared / EXTRA).sort("id")
    extra = extra.unique(subset="text", keep="first", maintain_order=True).with_columns(
        _key=pl.col("id").map_elements(order_key, return_dtype=pl.String)
    )
    per_dom = extra.group_by("domain").agg(n=pl.len(), language=pl.col("language").mode().sort().first()).sort("domain")
    quotas: dict[str, int] = {}
    band: dict[str, str] = {}
    for dom, n, language in per_dom.iter_rows():
        pc1 = lin.get(dom)
        if pc1 is None:
            if n >= EXTRA_MIN_UNLABELLED and language == "en":
                quotas[dom], band[dom] = EXTRA_QUOTA_UNLABELLED, "unlabelled"
        elif n < EXTRA_MIN_ARTICLES:
            continue
        elif language != "en":
            quotas[dom], band[dom] = EXTRA_QUOTA_GERMAN, f"{band_of(pc1)} ({language})"
        elif band_of(pc1) == "low":
            quotas[dom], band[dom] = EXTRA_QUOTA_LOW, "low"
        elif dom not in allsides_domains:
            quotas[dom], band[dom] = EXTRA_QUOTA_OTHER, band_of(pc1)
    sample = draw(extra, quotas).drop("_key").sort(["domain", "date", "id"], nulls_last=True)
    return sample, band


def build_seed(shared: Path) -> dict:
    raw = (shared / SEED_ARTICLE).read_text(encoding="utf-8").replace("\r\n", "\n")
    lines = raw.split("\n")
    title = lines[0].strip()
    paragraphs = [p.strip() for p in "\n".join(lines[1:]).split("\n") if p.strip()]
    return {
        "id": "seed-000-8c9f463cf267f3af",
        "title": title,
        "text": "\n".join(paragraphs),
        "outlet": "unknown-origin.example",
        "outlet_name": "Founding seed article (origin unknown)",
        "published_at": None,
        "url": None,
        "authors": [],
    }


def main(argv: list[str] | None = None) -> int:
    shared = shared_dir(argv)
    work, n_raw, n_after_url, n_dedup = read_corpus(shared)
    lin = read_lin(shared)
    per_dom = (
        work.group_by("domain")
        .agg(n=pl.len(), n_dated=pl.col("date").is_not_null().sum(), top_name=pl.col("outlet").mode().sort().first())
        .sort("domain")
    )
    quotas, band = labelled_quotas(per_dom, lin)
    for dom, n in unlabelled_outlets(per_dom, lin, load_aliases(ALIASES)).items():
        quotas[dom], band[dom] = min(n, QUOTA_UNLABELLED), "unlabelled"
    sample = draw(work, quotas)
    sample = (
        sample.drop("domain")
        .rename({"_domain_orig": "domain"})
        .sort(["domain", "date", "id"], nulls_last=True)
        .select(COLUMNS)
    )
    assert sample["id"].n_unique() == sample.height

    # --- write ------------------------------------------------------------------------------------
    out_parquet = SAMPLE_DIR / "allsides_sample.parquet"
    sample.write_parquet(out_parquet, compression="zstd", compression_level=19, statistics=True)
    extra, extra_band = draw_extra(shared, lin, set(work["domain"].unique()))
    extra.write_parquet(SAMPLE_DIR / "extra_sample.parquet", compression="zstd", compression_level=19, statistics=True)
    seed = build_seed(shared)
    (SAMPLE_DIR / "seed.jsonl").write_text(json.dumps(seed, ensure_ascii=False) + "\n", encoding="utf-8")

    # --- summary + provenance -------------------------------------------------------------------
    table = outlet_table(sample, per_dom, band, lin)
    write_provenance(table, sample, seed, n_raw, n_raw - n_after_url, n_after_url - n_dedup, shared)
    append_extra_provenance(extra_outlet_table(extra, extra_band, lin), extra)
    return print_summary(out_parquet, sample, table, extra, seed, n_dropped=n_raw - n_dedup)


def shared_dir(argv: list[str] | None) -> Path:
    """The --shared directory (default <repo>/../shared); exits when an input is missing."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--shared",
        type=Path,
        default=None,
        help="the shared directory holding data/ and seeds/ (default: <repo>/../shared)",
    )
    args = ap.parse_args(argv)
    shared = (args.shared if args.shared is not None else REPO.parent / "shared").resolve()
    for rel in (CORPUS, EXTRA, LABELS, SEED_ARTICLE):
        if not (shared / rel).exists():
            sys.exit(f"missing {shared / rel}: pass --shared DIR")
    return shared


def read_corpus(shared: Path) -> tuple[pl.DataFrame, int, int, int]:
    """The AllSides corpus without exact duplicates, with the stripped domain as `domain` (the original in
    `_domain_orig`) and the seeded order key `_key`; and the row counts: raw, after the url and the text dedup."""
    corpus = pl.read_parquet(shared / CORPUS)
    assert corpus.columns == COLUMNS, corpus.columns
    n_raw = corpus.height

    # --- exact duplicates (same url, or same text under another url) -------------------------
    corpus = corpus.sort("id")
    corpus = corpus.unique(subset="url", keep="first", maintain_order=True)
    n_after_url = corpus.height
    corpus = corpus.unique(subset="text", keep="first", maintain_order=True)
    n_dedup = corpus.height

    corpus = corpus.with_columns(
        _dom=strip_www(pl.col("domain")),
        _key=pl.col("id").map_elements(order_key, return_dtype=pl.String),
    )
    # draw() works on "domain"; keep the original column and compare on the stripped copy
    work = corpus.rename({"domain": "_domain_orig"}).rename({"_dom": "domain"})
    return work, n_raw, n_after_url, n_dedup


def read_lin(shared: Path) -> dict[str, float]:
    """Lin et al. pc1 by domain (leading "www." stripped; the first row of a domain wins)."""
    labels = (
        pl.read_csv(shared / LABELS, schema_overrides={"domain": pl.String, "pc1": pl.Float64})
        .with_columns(domain=strip_www(pl.col("domain")))
        .unique(subset="domain", keep="first", maintain_order=True)
    )
    return dict(zip(labels["domain"], labels["pc1"], strict=True))


def labelled_quotas(per_dom: pl.DataFrame, lin: dict[str, float]) -> tuple[dict[str, int], dict[str, str]]:
    """Quota and band of each labelled outlet with enough articles (low outlets need fewer)."""
    quotas: dict[str, int] = {}
    band: dict[str, str] = {}
    for dom, n, _nd, _name in per_dom.iter_rows():
        if dom not in lin:
            continue
        b = band_of(lin[dom])
        if b == "low" and n >= MIN_LOW_ARTICLES:
            quotas[dom], band[dom] = min(n, QUOTA_LOW), b
        elif b != "low" and n >= MIN_ARTICLES:
            quotas[dom], band[dom] = min(n, QUOTA_OTHER), b
    return quotas, band


def unlabelled_outlets(per_dom: pl.DataFrame, lin: dict[str, float], aliases: dict[str, str]) -> dict[str, int]:
    """The N_UNLABELLED domains with most articles that have no Lin row under any name -> their article count."""

    def known_anywhere(dom: str, name: str) -> bool:
        parts = dom.split(".")
        if any(".".join(parts[i:]) in lin for i in range(len(parts) - 1)):
            return True
        return aliases.get(dom) in lin or aliases.get(norm_alias(name or "")) in lin

    unl = (
        per_dom.filter(
            pl.struct("domain", "top_name").map_elements(
                lambda r: not known_anywhere(r["domain"], r["top_name"]), return_dtype=pl.Boolean
            )
        )
        .sort(["n", "domain"], descending=[True, False])
        .head(N_UNLABELLED)
    )
    return {dom: n for dom, n, _nd, _name in unl.iter_rows()}


def outlet_table(
    sample: pl.DataFrame, per_dom: pl.DataFrame, band: dict[str, str], lin: dict[str, float]
) -> pl.DataFrame:
    """Per sampled outlet: articles, dated, lean shares, AllSides name, articles in the corpus, band, pc1."""
    s = sample.with_columns(_dom=strip_www(pl.col("domain")))
    return (
        s.group_by("_dom")
        .agg(
            n=pl.len(),
            n_dated=pl.col("date").is_not_null().sum(),
            right=(pl.col("allsides_bias") == "right").mean(),
            left=(pl.col("allsides_bias") == "left").mean(),
            name=pl.col("outlet").mode().sort().first(),
        )
        .rename({"_dom": "domain"})
        .join(per_dom.select("domain", pl.col("n").alias("n_corpus")), on="domain")
        .with_columns(
            band=pl.col("domain").replace_strict(band, return_dtype=pl.String),
            pc1=pl.col("domain").replace_strict(lin, default=None, return_dtype=pl.Float64),
        )
        .sort(["pc1", "domain"], nulls_last=True)
    )


def extra_outlet_table(extra: pl.DataFrame, extra_band: dict[str, str], lin: dict[str, float]) -> pl.DataFrame:
    """Per outlet of the extra sample: articles, language, corpus, band, pc1."""
    return (
        extra.group_by("domain")
        .agg(
            n=pl.len(), language=pl.col("language").mode().sort().first(), corpus=pl.col("corpus").mode().sort().first()
        )
        .with_columns(
            band=pl.col("domain").replace_strict(extra_band, return_dtype=pl.String),
            pc1=pl.col("domain").replace_strict(lin, default=None, return_dtype=pl.Float64),
        )
        .sort(["pc1", "domain"], nulls_last=True)
    )


def print_summary(
    out_parquet: Path, sample: pl.DataFrame, table: pl.DataFrame, extra: pl.DataFrame, seed: dict, *, n_dropped: int
) -> int:
    """What was written, per band; 1 when jobs/data/sample/ is over its size limit, else 0."""
    size = sum(p.stat().st_size for p in SAMPLE_DIR.iterdir() if p.is_file())
    print(
        f"wrote {out_parquet.relative_to(REPO)}: {sample.height} articles, "
        f"{sample['domain'].n_unique()} outlets, {out_parquet.stat().st_size / 1e6:.2f} MB"
    )
    for b in ("low", "mixed", "high", "unlabelled"):
        t = table.filter(pl.col("band") == b)
        print(
            f"  {b:<10} {t.height:3d} outlets  {t['n'].sum():5d} articles  "
            f"(outlets with >= {MIN_ARTICLES}: {t.filter(pl.col('n') >= MIN_ARTICLES).height})"
        )
    print(
        f"  dated: {sample['date'].is_not_null().sum()} / {sample.height}; "
        f"duplicates dropped before drawing: {n_dropped}"
    )
    print(f"wrote jobs/data/sample/extra_sample.parquet: {extra.height} articles, {extra['domain'].n_unique()} outlets")
    print(f"wrote jobs/data/sample/seed.jsonl ({len(seed['text'])} chars) and jobs/data/sample/PROVENANCE.md")
    print(f"jobs/data/sample/ total: {size / 1e6:.2f} MB (limit {MAX_SAMPLE_DIR_BYTES / 1e6:.2f} MB)")
    if size > MAX_SAMPLE_DIR_BYTES:
        print("ERROR: jobs/data/sample/ is over the size limit", file=sys.stderr)
        return 1
    return 0


def write_provenance(
    table: pl.DataFrame, sample: pl.DataFrame, seed: dict, n_raw: int, n_dup_url: int, n_dup_text: int, shared: Path
) -> None:
    """PROVENANCE.md for the AllSides sample and the seed (append_extra_provenance adds the extra sample)."""
    lines = [
        *provenance_files(sample),
        *provenance_draw(table, n_raw, n_dup_url, n_dup_text),
        *provenance_bands(table, sample),
        *provenance_caveats(table, sample),
    ]
    (SAMPLE_DIR / "PROVENANCE.md").write_text("\n".join(lines), encoding="utf-8")


def provenance_files(sample: pl.DataFrame) -> list[str]:
    """How to rebuild, the files and their sources and licences."""
    return [
        "# Embedded sample: provenance",
        "",
        "Generated by `evaluation/build_sample.py` (edit the template there, not this file).",
        "Rebuild, from the repository root, with the shared data next to the repo and any Python "
        "that has polars (e.g. `.venv/bin/python`):",
        "",
        "```",
        "python evaluation/build_sample.py --shared ../shared",
        "```",
        "",
        "## Files",
        "",
        "| file | what | source | licence / use |",
        "|---|---|---|---|",
        f"| `allsides_sample.parquet` | {sample.height} real news articles from "
        f"{sample['domain'].n_unique()} outlets, zstd; columns exactly as in the corpus: "
        f"{', '.join('`' + c + '`' for c in COLUMNS)} | `../shared/data/corpora/allsides_2012_2020.parquet`"
        ' = Baly et al., EMNLP 2020, "We Can Detect Your Bias: Predicting the Political Ideology of '
        'News Articles", repo ramybaly/Article-Bias-Prediction @ ced8111a, `data/jsons` | repo '
        "Apache-2.0; the article texts belong to their publishers and are included for research use "
        "only |",
        "| `seed.jsonl` | the founding seed article, one JSON line (`id, title, text, outlet, "
        "outlet_name, published_at, url, authors`); `text` = the file's paragraphs joined with "
        "`\\n`; outlet, date and url are unknown | `../shared/seeds/000_8c9f463cf267f3af.txt` (first "
        "line = title) | origin unknown; kept as the project's reference example |",
        "| `PROVENANCE.md` | this note | generated | |",
        "| `evaluation/build_sample.py` (from the repository root; not shipped) | the script that draws the sample "
        "| | project code |",
        "",
        "Reliability bands use `../shared/data/labels/lin2023_domain_pc1.csv`: Lin, Lasser, "
        'Lewandowsky, Cole, Gully, Rand, Pennycook 2023, "High level of correspondence across '
        'different news domain quality rating sets", PNAS Nexus 2(9) pgad286; repo '
        'hauselin/domain-quality-ratings @ 5671d57e ("Feel free to reuse the data"; cite the '
        "paper). `pc1` runs from 0 (lowest quality) to 1 (highest). The sample itself carries no "
        "label column: join on `domain`.",
        "",
    ]


def provenance_draw(table: pl.DataFrame, n_raw: int, n_dup_url: int, n_dup_text: int) -> list[str]:
    """How the sample was drawn, and the head of the per-band count table."""
    return [
        "## How it was drawn",
        "",
        f'- Seed `{SEED}`; the only randomness is the order key `sha256("{SEED}:" + id)`, so the '
        "draw is identical on every platform and library version.",
        f"- Exact duplicates dropped first from the {n_raw} corpus rows: {n_dup_url} rows repeating "
        f"a url and {n_dup_text} more repeating a text under another url (the smallest `id` is kept).",
        "- Outlet = the corpus `domain` (url host without `www.`), joined to the Lin file on its "
        "`domain` (leading `www.` stripped on both sides). Subdomains without their own Lin row "
        "(money.cnn.com, online.wsj.com, ...) are not joined to their parent here; "
        "`jobs/data/outlet_aliases.csv` does that for the scorer.",
        f"- Bands: low pc1 < {LOW_MAX}, mixed {LOW_MAX}-{HIGH_MIN}, high > {HIGH_MIN}.",
        f"- Low: every low outlet with >= {MIN_LOW_ARTICLES} articles (the corpus has only "
        f"{band_count(table, 'low')[0]} such), up to {QUOTA_LOW} articles each. Mixed and high: every outlet "
        f"with >= {MIN_ARTICLES} articles, up to {QUOTA_OTHER} each.",
        f"- Unlabelled: the {N_UNLABELLED} domains with most articles that have no Lin row under any "
        f"name (host, parent domain, host alias or outlet-name alias), up to {QUOTA_UNLABELLED} "
        "each. No such domain has 20 articles in the corpus, so these outlets sit below the "
        "scorer's 20-article minimum: they show article-level scoring of unknown outlets, not a "
        "stable outlet score.",
        "- Within an outlet, dated articles come first, then the seeded order.",
        "",
        "## Outlets per band",
        "",
        "| band | outlets | articles |",
        "|---|---:|---:|",
    ]


def provenance_bands(table: pl.DataFrame, sample: pl.DataFrame) -> list[str]:
    """Outlets and articles per band, then each band's outlet table."""
    lines = []
    for b in ("low", "mixed", "high", "unlabelled"):
        o, a = band_count(table, b)
        lines.append(f"| {b} | {o} | {a} |")
    lines.append(f"| total | {table.height} | {sample.height} |")
    for b, title in (
        ("low", f"Low reliability (pc1 < {LOW_MAX})"),
        ("mixed", f"Mixed ({LOW_MAX} <= pc1 <= {HIGH_MIN})"),
        ("high", f"High reliability (pc1 > {HIGH_MIN})"),
        ("unlabelled", "Unlabelled (no Lin row)"),
    ):
        lines += ["", f"### {title}", ""] + band_rows(table, b)
    return lines


def provenance_caveats(table: pl.DataFrame, sample: pl.DataFrame) -> list[str]:
    """The columns of the band tables explained, and the caveats (lean, names, dates, boilerplate, labels)."""
    lean = sample.group_by("allsides_bias").agg(n=pl.len()).sort("allsides_bias")
    lean_txt = ", ".join(f"{b} {n}" for b, n in lean.iter_rows())
    low_lean = table.filter(pl.col("band") == "low")
    n_low_right = low_lean.filter(pl.col("right") >= 0.5).height
    return [
        "",
        "`AllSides name` is the most common `outlet` value for the domain; `dated` counts articles "
        "with a `date`; `lean` is the majority `allsides_bias` of the outlet's sampled articles.",
        "",
        "## Caveats",
        "",
        "- **`allsides_bias` is political lean (left / center / right) of an article, not "
        "reliability.** It must never be used as a reliability label.",
        f"- Lean and reliability are confounded: {n_low_right} of the {low_lean.height} low outlets "
        "are right-leaning, and the corpus has no left-leaning low-reliability outlet with enough "
        f"articles. Sample lean overall: {lean_txt}. A model trained here can learn lean instead of "
        "reliability; check any result against `allsides_bias`.",
        "- The AllSides `outlet` column is AllSides' source name, not always the publisher: bylines "
        '("Ezra Klein"), placeholders ("Guest Writer - Left") and syndicated copy ("Associated '
        'Press" rows hosted on washingtontimes.com, "Breitbart News" on infowars.com). Use '
        "`domain` as the outlet.",
        "- Outlets whose sampled articles have no `date` at all (the corpus has none for them): "
        + ", ".join(table.filter(pl.col("n_dated") == 0)["domain"].sort().to_list())
        + ".",
        "- Scraped texts keep page boilerplate (the Washington Times newsletter footer, NPR image "
        "captions, AP photo credits); quote marks depend on the scraper (Daily Mail has almost none).",
        "- Lin pc1 is one aggregate snapshot (2023) of expert ratings; ratings drift over time and "
        "differ between alternative domains of one outlet.",
        "",
    ]


def band_rows(table: pl.DataFrame, b: str) -> list[str]:
    """The per-outlet table of band `b`."""
    out = [
        "| domain | AllSides name | Lin pc1 | articles in sample | in corpus | dated | lean (AllSides article bias) |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for r in table.filter(pl.col("band") == b).iter_rows(named=True):
        lean = "right" if r["right"] >= 0.5 else "left" if r["left"] >= 0.5 else "center"
        pc1 = "none" if r["pc1"] is None else f"{r['pc1']:.3f}"
        flag = "" if r["n"] >= MIN_ARTICLES else f" (< {MIN_ARTICLES})"
        out.append(
            f"| {r['domain']} | {r['name']} | {pc1} | {r['n']}{flag} | {r['n_corpus']} | {r['n_dated']} | {lean} |"
        )
    return out


def band_count(table: pl.DataFrame, b: str) -> tuple[int, int]:
    """Outlets and articles of band `b`."""
    t = table.filter(pl.col("band") == b)
    return t.height, int(t["n"].sum())


def append_extra_provenance(table: pl.DataFrame, extra: pl.DataFrame) -> None:
    lines = [
        "## `extra_sample.parquet`",
        "",
        f"{extra.height} articles from {table.height} outlets of `../shared/data/corpora/extra_2010_2021.parquet`, "
        "columns exactly as in that file (`id, url, domain, outlet_name, title, text, authors, date, language, "
        "corpus`). That file gathers four public corpora: ReCOVery (Zhou et al. 2020, COVID-19 news Jan-May 2020; "
        "CC BY-NC-SA 4.0, non-commercial), FA-KES (Salem et al. 2019, Syrian war; CC BY 4.0), FakeHealth (Dai et al. "
        "2020, health news; no licence stated, research use) and FANG-COVID (Mattern et al. 2021, German COVID-19 "
        "news; no licence stated, research use); see `../shared/data/README.md` for the repositories and commits.",
        "",
        "Drawn with the same seeded order as above (texts repeated under another id dropped first), by outlet "
        "(`domain`) and its Lin et al. pc1:",
        "",
        f"- low (pc1 < {LOW_MAX}), English, >= {EXTRA_MIN_ARTICLES} articles: up to {EXTRA_QUOTA_LOW} each;",
        f"- labelled, not English, >= {EXTRA_MIN_ARTICLES} articles: up to {EXTRA_QUOTA_GERMAN} each (they show "
        "the scorer's unsupported-language status: the cue lexicons are English);",
        f"- mixed / high, English, >= {EXTRA_MIN_ARTICLES} articles, not in the AllSides sample: up to "
        f"{EXTRA_QUOTA_OTHER} each;",
        f"- unlabelled, English, >= {EXTRA_MIN_UNLABELLED} articles (state media and others): up to "
        f"{EXTRA_QUOTA_UNLABELLED} each.",
        "",
        "Caveat (from the corpus README): in this file topic and language go with reliability: most low-rated "
        "articles are COVID-19 pages from spring 2020 or German.",
        "",
        "| domain | band | Lin pc1 | language | corpus | articles in sample |",
        "|---|---|---:|---|---|---:|",
    ]
    for r in table.iter_rows(named=True):
        pc1 = "none" if r["pc1"] is None else f"{r['pc1']:.3f}"
        lines.append(f"| {r['domain']} | {r['band']} | {pc1} | {r['language']} | {r['corpus']} | {r['n']} |")
    path = SAMPLE_DIR / "PROVENANCE.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
