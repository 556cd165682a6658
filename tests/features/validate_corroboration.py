"""Validate story clustering on real data: PAC story pairs mixed into AllSides distractors.

    python -m tests.features.validate_corroboration [--shared ../shared] [--mode real|dense|topic|all]
                                                    [--sweep] [--join-threshold 0.3] [--lead-words 60]

Data (read-only, see ../shared/data/README.md):
  corpora/pac_story_pairs.jsonl.gz   152 stories x 2 outlets (``story_id`` is the gold story)
  corpora/allsides_2012_2020.parquet 30,196 articles used as distractors

Modes (where the PAC stories sit in time relative to the distractors):
  real   PAC dates as published. 2021-2023 PAC stories (48%) then have no distractors at all.
  dense  each PAC story is moved (both articles, keeping their offset) to a random day among
         the 800 busiest AllSides days (>= 16 distractors that day).
  topic  each PAC story is moved to a day where AllSides has the most articles of the same
         topic within +-2 days (adversarial: same day, same topic).
Undated PAC articles (10 stories) stay undated and meet the 2,859 undated AllSides articles.

Metrics, all on the 304 PAC articles:
  pair precision  = |co-clustered PAC pairs that are a gold pair| / |co-clustered PAC pairs|
  pair recall     = |gold pairs co-clustered| / 152;  pair F1
  B-cubed P/R/F1  on the PAC articles with clusters restricted to PAC articles
  contamination   = share of PAC articles whose story also holds distractors, and mean
                    distractors per PAC story (AllSides covers some of the same events, so
                    not all of these are errors; 62 exact AllSides duplicates of PAC articles
                    are removed from the distractors first)
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import numpy as np
import polars as pl

from features.corroboration import DEFAULT_CONFIG, CorroborationConfig, assign_stories

REPO = Path(__file__).resolve().parents[2]
PAC_FILE = "corpora/pac_story_pairs.jsonl.gz"
ALLSIDES_FILE = "corpora/allsides_2012_2020.parquet"
SEED = 20240601

# PAC topic -> AllSides topic (for the 'topic' mode)
_TOPIC_MAP = {
    "gun": "gun_control_and_gun_rights",
    "tax": "taxes",
    "lgbt": "lgbt_rights",
    "crime": "criminal_justice",
    "2024_election": "elections",
    "climate_change": "environment",
}


def shared_dir(arg: str | None = None) -> Path:
    cands = [arg, os.environ.get("PRESSTRUST_SHARED"), str(REPO.parent / "shared"), "/work/shared"]
    for c in cands:
        if c and (Path(c) / "data" / PAC_FILE).exists():
            return Path(c) / "data"
    raise FileNotFoundError("shared data not found; pass --shared DIR (the folder holding data/)")


def _norm(col: str) -> pl.Expr:
    return pl.col(col).fill_null("").str.to_lowercase().str.replace_all(r"[^\p{L}\p{N}]+", "")


def load_pac(data: Path) -> pl.DataFrame:
    keys = ("id", "story_id", "outlet", "date", "title", "topic", "text")
    with gzip.open(data / PAC_FILE, "rt", encoding="utf-8") as fh:
        rows = [{k: json.loads(line).get(k) for k in keys} for line in fh if line.strip()]
    df = pl.DataFrame(rows, schema={k: pl.String for k in keys})
    # PAC lists a few identical articles under two story ids (STORY_20/37, 131/132, 133/145):
    # stories that share an article (same normalised title) are one gold story
    gold = {g: g for g in df["story_id"].unique().sort()}

    def find(g: str) -> str:
        while gold[g] != g:
            g = gold[g]
        return g

    shared = df.group_by(_norm("title").alias("k")).agg(pl.col("story_id").unique().sort())
    for group in shared["story_id"]:
        roots = sorted(find(g) for g in group)
        for r in roots[1:]:
            gold[r] = roots[0]
    df = df.with_columns(pl.col("story_id").replace_strict({g: find(g) for g in gold}))
    return df.select(
        pl.col("id").alias("article_id"),
        pl.col("outlet"),
        pl.col("date").str.to_date(strict=False).cast(pl.Datetime("us")).alias("published_at"),
        "title",
        "text",
        pl.lit("eval").alias("corpus"),
        pl.col("story_id").alias("gold"),
        pl.col("topic").str.to_lowercase().str.replace_all("-", "_").replace(_TOPIC_MAP).alias("topic"),
    )


def load_distractors(data: Path, pac: pl.DataFrame) -> pl.DataFrame:
    a = pl.read_parquet(data / ALLSIDES_FILE, columns=["id", "domain", "date", "title", "text", "topic"])
    a = a.select(
        ("as_" + pl.col("id")).alias("article_id"),
        pl.col("domain").alias("outlet"),
        pl.col("date").str.to_date(strict=False).cast(pl.Datetime("us")).alias("published_at"),
        "title",
        "text",
        pl.lit("eval").alias("corpus"),
        pl.lit(None, dtype=pl.String).alias("gold"),
        "topic",
    )
    # the same article scraped twice is not a distractor: drop AllSides copies of PAC articles
    t_key = pac.select(_norm("title").alias("k"))["k"]
    x_key = pac.select(_norm("text").str.slice(0, 150).alias("k"))["k"]
    dup = _norm("title").is_in(t_key.implode()) | _norm("text").str.slice(0, 150).is_in(x_key.implode())
    return a.filter(~dup)


def build_eval(pac: pl.DataFrame, dis: pl.DataFrame, mode: str) -> pl.DataFrame:
    """PAC + distractors with PAC stories placed in time according to ``mode``."""
    rng = np.random.default_rng(SEED)
    if mode == "real":
        moved = pac
    else:
        stories = (
            pac.filter(pl.col("published_at").is_not_null())
            .group_by("gold")
            .agg(pl.col("published_at").min().alias("s0"), pl.col("topic").first())
            .sort("gold")
        )
        dated = dis.filter(pl.col("published_at").is_not_null())
        per_day = dated.group_by(pl.col("published_at").alias("d")).agg(pl.len().alias("n"))
        # no two PAC stories start within 3 days of each other: the distractors, not other
        # PAC stories, are what a story must be told apart from
        used: list = []

        def free(d: object) -> bool:
            return all(abs((d - u).days) > 3 for u in used)  # type: ignore[operator]

        targets = {}
        if mode == "dense":
            ranked = per_day.sort(["n", "d"], descending=[True, False])["d"].to_list()
            busiest = [ranked[int(i)] for i in rng.permutation(800)] + ranked[800:]
            for g in stories["gold"]:
                d = next(x for x in busiest if free(x))
                used.append(d)
                targets[g] = d
        elif mode == "topic":
            days = per_day.sort("d")["d"]
            for g, topic in stories.select("gold", "topic").iter_rows():
                t = dated.filter(pl.col("topic") == topic)
                if t.height < 20:
                    t = dated
                counts = t.group_by(pl.col("published_at").alias("d")).agg(pl.len().alias("n"))
                # articles of the topic within +-2 days of each day
                c = pl.DataFrame({"d": days}).join(counts, on="d", how="left").fill_null(0).sort("d")
                win = c.rolling(index_column="d", period="5d", offset="-3d").agg(pl.col("n").sum())
                ranked = win.sort(["n", "d"], descending=[True, False])["d"].to_list()
                top = [d for d in ranked if free(d)][:10]
                d = top[int(rng.integers(len(top)))]
                used.append(d)
                targets[g] = d
        else:
            raise ValueError(mode)
        shift = pl.DataFrame(
            {"gold": list(targets), "target": list(targets.values())},
            schema={"gold": pl.String, "target": pl.Datetime("us")},
        ).join(stories.select("gold", "s0"), on="gold")
        moved = (
            pac.join(shift, on="gold", how="left")
            .with_columns((pl.col("published_at") - pl.col("s0") + pl.col("target")).alias("published_at"))
            .drop("target", "s0")
        )
    return pl.concat([moved, dis], how="vertical_relaxed")


def evaluate(assign: pl.DataFrame, ev: pl.DataFrame, golds: list[str] | None = None) -> dict[str, float]:
    """Pair and B-cubed scores on the PAC articles (see module doc), or on the PAC articles of
    the gold stories ``golds`` (other PAC articles then count like distractors)."""
    j = ev.select("article_id", "gold").join(assign.select("article_id", "story_id"), on="article_id")
    if golds is not None:
        j = j.with_columns(pl.when(pl.col("gold").is_in(golds)).then(pl.col("gold")).alias("gold"))
    pac = j.filter(pl.col("gold").is_not_null())
    # pairs of PAC articles put together
    pairs = pac.join(pac, on="story_id", suffix="_b").filter(pl.col("article_id") < pl.col("article_id_b"))
    pred = pairs.height
    tp = int((pairs["gold"] == pairs["gold_b"]).sum())
    gold_pairs = int(
        pac.group_by("gold").agg(pl.len().alias("n")).select((pl.col("n") * (pl.col("n") - 1) // 2).sum()).item()
    )
    p = tp / pred if pred else float("nan")
    r = tp / gold_pairs if gold_pairs else float("nan")
    f1 = 2 * p * r / (p + r) if p + r > 0 else 0.0
    # recall by kind of gold pair
    kind = pac.join(ev.select("article_id", "published_at"), on="article_id")
    kp = kind.join(kind, on="gold", suffix="_b").filter(pl.col("article_id") < pl.col("article_id_b"))
    kp = kp.with_columns(
        pl.when(pl.col("published_at").is_null() | pl.col("published_at_b").is_null())
        .then(pl.lit("undated"))
        .when((pl.col("published_at") - pl.col("published_at_b")).abs() > timedelta(days=2))
        .then(pl.lit("beyond_window"))
        .otherwise(pl.lit("dated"))
        .alias("kind"),
        (pl.col("story_id") == pl.col("story_id_b")).alias("hit"),
    )
    by_kind = {k: (float(g["hit"].mean()), g.height) for (k,), g in kp.group_by("kind")}
    # B-cubed over PAC articles
    pac = pac.with_columns(
        pl.len().over("story_id").alias("c"),
        pl.len().over("gold").alias("g"),
        pl.len().over("story_id", "gold").alias("cg"),
    )
    bp = float((pac["cg"] / pac["c"]).mean())
    br = float((pac["cg"] / pac["g"]).mean())
    bf = 2 * bp * br / (bp + br) if bp + br > 0 else 0.0
    # contamination by distractors
    size = j.group_by("story_id").agg(pl.len().alias("n"), pl.col("gold").is_null().sum().alias("nd"))
    pc = pac.join(size, on="story_id")
    contaminated = float((pc["nd"] > 0).mean())
    mean_nd = float(pc.group_by("story_id").agg(pl.col("nd").first())["nd"].mean())
    # B-cubed precision counting every distractor in a PAC article's story as an error
    bp_all = float((pc["cg"] / pc["n"]).mean())
    bf_all = 2 * bp_all * br / (bp_all + br) if bp_all + br > 0 else 0.0
    return {
        "pair_precision": p,
        "pair_recall": r,
        "pair_f1": f1,
        "bcubed_precision": bp,
        "bcubed_recall": br,
        "bcubed_f1": bf,
        "bcubed_precision_with_distractors": bp_all,
        "bcubed_f1_with_distractors": bf_all,
        "pac_with_distractors": contaminated,
        "distractors_per_pac_story": mean_nd,
        "pair_recall_dated": by_kind.get("dated", (float("nan"), 0))[0],
        "pair_recall_undated": by_kind.get("undated", (float("nan"), 0))[0],
        "gold_pairs_beyond_window": float(by_kind.get("beyond_window", (0.0, 0))[1]),
        "pac_pairs_predicted": float(pred),
        "pac_pairs_correct": float(tp),
    }


def run(ev: pl.DataFrame, config: CorroborationConfig) -> tuple[dict[str, float], float]:
    t0 = time.perf_counter()
    assign = assign_stories(ev.drop("gold", "topic"), config)
    dt = time.perf_counter() - t0
    return evaluate(assign, ev), dt


def _fmt(m: dict[str, float]) -> str:
    return (
        f"pairP={m['pair_precision']:.3f} pairR={m['pair_recall']:.3f} pairF1={m['pair_f1']:.3f} "
        f"(R dated={m['pair_recall_dated']:.3f} undated={m['pair_recall_undated']:.2f}) "
        f"B3P={m['bcubed_precision']:.3f} B3R={m['bcubed_recall']:.3f} B3F1={m['bcubed_f1']:.3f} "
        f"B3P+d={m['bcubed_precision_with_distractors']:.3f} contam={m['pac_with_distractors']:.2f} "
        f"dist/story={m['distractors_per_pac_story']:.2f}"
    )


def tune(
    evs: dict[str, pl.DataFrame],
    base: CorroborationConfig,
    golds: list[str],
    thresholds: list[float],
    penalties: list[float],
) -> int:
    """Pick (join_threshold, size_penalty) on half A of the gold stories, report on half B.

    Score = mean over modes of (pair F1 + B-cubed F1 counting distractors as errors) / 2, so a
    setting cannot win by pulling distractors into the PAC stories."""
    perm = np.random.default_rng(SEED).permutation(len(golds))
    half_a = [golds[i] for i in perm[: len(golds) // 2]]
    half_b = [golds[i] for i in perm[len(golds) // 2 :]]
    results = []
    for thr in thresholds:
        for pen in penalties:
            cfg = replace(base, join_threshold=thr, size_penalty=pen)
            sa, sb = [], []
            for m, ev in evs.items():
                assign = assign_stories(ev.drop("gold", "topic"), cfg)
                for half, acc in ((half_a, sa), (half_b, sb)):
                    met = evaluate(assign, ev, half)
                    acc.append((met["pair_f1"] + met["bcubed_f1_with_distractors"]) / 2)
                    if half is half_b:
                        print(f"  thr={thr:.3f} pen={pen:.3f} {m:5s} B: {_fmt(met)}", flush=True)
            results.append((float(np.mean(sa)), float(np.mean(sb)), thr, pen))
            print(f"thr={thr:.3f} pen={pen:.3f} score A={results[-1][0]:.4f} B={results[-1][1]:.4f}", flush=True)
    best = max(results)
    print(f"best on half A: thr={best[2]} pen={best[3]} (A {best[0]:.4f}); on held-out half B: {best[1]:.4f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", default=None, help="folder holding data/ (default ../shared)")
    ap.add_argument("--mode", default="all", choices=["real", "dense", "topic", "all"])
    ap.add_argument("--join-threshold", type=float, default=DEFAULT_CONFIG.join_threshold)
    ap.add_argument("--undated-threshold", type=float, default=DEFAULT_CONFIG.undated_join_threshold)
    ap.add_argument("--lead-words", type=int, default=DEFAULT_CONFIG.lead_words)
    ap.add_argument("--window-days", type=float, default=DEFAULT_CONFIG.window / timedelta(days=1))
    ap.add_argument("--sweep", action="store_true", help="grid over join threshold and lead words")
    ap.add_argument("--sweep-leads", default="30,60,100,200,400", help="lead words tried by --sweep")
    ap.add_argument("--sweep-thresholds", default="0.02,0.03,0.04,0.05,0.06,0.08", help="thresholds tried")
    ap.add_argument("--sweep-penalties", default="0,0.01,0.02,0.03", help="size penalties tried by --tune")
    ap.add_argument("--no-distractors", action="store_true", help="PAC articles alone")
    ap.add_argument(
        "--tune",
        action="store_true",
        help="grid over join threshold x size penalty, chosen on half of the PAC stories, reported on the other half",
    )
    args = ap.parse_args(argv)

    data = shared_dir(args.shared)
    pac = load_pac(data)
    dis = load_distractors(data, pac)
    if args.no_distractors:
        dis = dis.head(0)
    print(f"PAC articles {pac.height}, stories {pac['gold'].n_unique()}, distractors {dis.height}")
    modes = ["real", "dense", "topic"] if args.mode == "all" else [args.mode]
    base = replace(
        DEFAULT_CONFIG,
        join_threshold=args.join_threshold,
        undated_join_threshold=args.undated_threshold,
        lead_words=args.lead_words,
        window=timedelta(days=args.window_days),
    )
    evs = {m: build_eval(pac, dis, m) for m in modes}
    if args.tune:
        return tune(
            evs,
            base,
            sorted(pac["gold"].unique()),
            [float(x) for x in args.sweep_thresholds.split(",")],
            [float(x) for x in args.sweep_penalties.split(",")],
        )
    if args.sweep:
        for lw in (int(x) for x in args.sweep_leads.split(",")):
            for thr in (float(x) for x in args.sweep_thresholds.split(",")):
                cfg = replace(base, lead_words=lw, join_threshold=thr)
                for m in modes:
                    met, dt = run(evs[m], cfg)
                    print(f"lead={lw:3d} thr={thr:.2f} {m:5s} {_fmt(met)} {dt:.1f}s", flush=True)
        return 0
    print(f"config: {base}")
    worst = 1.0
    for m in modes:
        met, dt = run(evs[m], base)
        worst = min(worst, met["pair_f1"])
        n = evs[m].height
        print(f"{m:5s} {_fmt(met)}  ({n} articles in {dt:.1f}s, {n / dt:,.0f}/s)")
    print(f"worst pair F1 {worst:.3f} (target >= 0.90)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
