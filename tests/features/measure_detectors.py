"""Precision/recall/F1 of the unnamed-source and speculation detectors on hand-labelled sentences, and their speed.

    python -m tests.features.measure_detectors [--tune PATH ...] [--sealed PATH] [--labels PATH ...]
                                              [--sample PATH] [--errors] [--no-speed]

Label files (CSV with at least sentence_id, sentence, attribution, speculative; labels follow
../shared/specs/attribution-and-speculation.md):
- the tuning part of the development set: --tune, default tests/fixtures/devset/tune.csv if it exists, else
  /work/devset/tune.csv, else every /work/devset/tune_part*.csv (the set may arrive in pieces);
- the sealed part: --sealed, default tests/fixtures/devset/sealed.csv, read only if the file exists;
- the old validation set (tests/fixtures/validation/sentences.csv, overfit by earlier tuning): --labels.
Positives: unnamed source = label `unnamed` or `mixed`; speculative = `yes`. Each sentence runs through the
pipeline's own feature functions (sentence_attribution, speculation_cue_matches) as a one-sentence article.
Per category: P/R/F1 per value of `att_category` / `spec_category` / `category` when the file has them (a
category holding only negatives shows its false-alarm count). Speed: the two detectors alone on every
sentence of the embedded sample (sentences/s, articles/s), and the whole `article_features` on it.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from features.attribution import attribution_cues, sentence_attribution
from features.lexicons import Lexicons, load_lexicons
from features.sentences import lowercase_sentences, words_n
from features.speculation import speculation_cue_matches, speculation_cues

ROOT = Path(__file__).resolve().parents[2]
LABELS = ROOT / "tests" / "fixtures" / "validation" / "sentences.csv"
DEVSET = ROOT / "tests" / "fixtures" / "devset"
SHARED_DEVSET = Path("/work/devset")
SEALED = DEVSET / "sealed.csv"
SAMPLE = ROOT / "jobs" / "data" / "sample" / "allsides_sample.parquet"
TARGETS = {"unnamed_precision": 0.90, "unnamed_recall": 0.80, "speculative_f1": 0.85}  # issue 26
LABEL_COLUMNS = ("sentence_id", "sentence", "attribution", "speculative")
CATEGORY_COLUMNS = ("att_category", "category", "spec_category", "stratum")


@dataclass(frozen=True)
class Scores:
    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else float("nan")

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else float("nan")

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def line(self, name: str) -> str:
        return (
            f"{name:<40} P {self.precision:.3f}  R {self.recall:.3f}  F1 {self.f1:.3f}  "
            f"(tp {self.tp}, fp {self.fp}, fn {self.fn}, tn {self.tn})"
        )


def default_tune_paths() -> list[Path]:
    """The tuning part: the in-repo copy, else the shared file, else its pieces (empty if none exist yet)."""
    for path in (DEVSET / "tune.csv", SHARED_DEVSET / "tune.csv"):
        if path.is_file():
            return [path]
    return sorted(SHARED_DEVSET.glob("tune_part*.csv"))


def load_labels(paths: Sequence[Path]) -> pl.DataFrame:
    """Labelled sentences from one or more CSV files (columns beyond LABEL_COLUMNS kept as strings)."""
    frames = [pl.read_csv(p, infer_schema=False) for p in paths]
    labels = pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame(schema=dict.fromkeys(LABEL_COLUMNS))
    labels = labels.with_columns(
        pl.col("attribution").str.strip_chars().str.to_lowercase(),
        pl.col("speculative").str.strip_chars().str.to_lowercase(),
    )
    return labels.filter(pl.col("sentence").is_not_null() & pl.col("attribution").is_not_null()).unique(
        "sentence_id", keep="first", maintain_order=True
    )


LABELLED = 1  # sentence_no of the labelled sentence in `one_sentence_articles` (its previous sentence: 0)


def one_sentence_articles(frame: pl.DataFrame, *, id_column: str = "sentence_id") -> pl.LazyFrame:
    """Each row's sentence as an article, in the shape split_sentences + lowercase_sentences emit: the sentence is
    sentence LABELLED, preceded by its `prev_sentence` (sentence 0) when the frame has one (the detectors read the
    previous sentence as context, as in an article). Keep only sentence LABELLED of what the detectors return."""
    prev = pl.col("prev_sentence").fill_null("") if "prev_sentence" in frame.columns else pl.lit("", dtype=pl.String)
    rows = frame.lazy().select(pl.col(id_column).alias("article_id"), "sentence", prev.alias("_prev"))
    previous = rows.filter(pl.col("_prev") != "").select(
        "article_id", pl.lit(LABELLED - 1, dtype=pl.Int64).alias("sentence_no"), pl.col("_prev").alias("sentence")
    )
    labelled = rows.select("article_id", pl.lit(LABELLED, dtype=pl.Int64).alias("sentence_no"), "sentence")
    return lowercase_sentences(
        pl.concat([previous, labelled])
        .sort("article_id", "sentence_no", maintain_order=True)
        .select(
            "article_id",
            "sentence_no",
            pl.lit(0, dtype=pl.Int64).alias("start"),
            pl.col("sentence").str.len_chars().cast(pl.Int64).alias("end"),
            "sentence",
            words_n(pl.col("sentence")).alias("words_n"),
        )
    )


def predict(labels: pl.DataFrame, lexicons: Lexicons) -> pl.DataFrame:
    """Run the detectors on each labelled sentence; adds `pred_unnamed`, `pred_named`, `pred_speculative`, cues."""
    sentences = one_sentence_articles(labels)
    labelled = pl.col("sentence_no") == LABELLED
    attributed = sentence_attribution(sentences, cues=attribution_cues(lexicons)).filter(labelled).collect()
    spec = (
        speculation_cue_matches(sentences, cues=speculation_cues(lexicons))
        .filter(labelled)
        .group_by("article_id")
        .agg(pl.col("cue").str.join("|").alias("spec_cues"))
        .collect()
    )
    return (
        labels.join(
            attributed.select(
                pl.col("article_id").alias("sentence_id"),
                pl.col("unnamed_attribution").alias("pred_unnamed"),
                pl.col("named_attribution").alias("pred_named"),
            ),
            on="sentence_id",
            how="left",
        )
        .join(spec.rename({"article_id": "sentence_id"}), on="sentence_id", how="left")
        .with_columns(pl.col("spec_cues").is_not_null().alias("pred_speculative"))
    )


def scores(frame: pl.DataFrame, truth: pl.Expr, pred: str) -> Scores:
    row = frame.select(
        (truth & pl.col(pred)).sum().alias("tp"),
        (~truth & pl.col(pred)).sum().alias("fp"),
        (truth & ~pl.col(pred)).sum().alias("fn"),
        (~truth & ~pl.col(pred)).sum().alias("tn"),
    ).row(0)
    return Scores(*row)


UNNAMED_TRUTH = pl.col("attribution").is_in(["unnamed", "mixed"])
SPECULATIVE_TRUTH = pl.col("speculative") == "yes"


def measure(
    paths: Sequence[Path] | Path = LABELS, lexicons: Lexicons | None = None
) -> tuple[Scores, Scores, pl.DataFrame]:
    """(unnamed-source scores, speculative scores, per-sentence predictions) on the labelled file(s)."""
    paths = [paths] if isinstance(paths, Path) else list(paths)
    predicted = predict(load_labels(paths), lexicons or load_lexicons())
    return (
        scores(predicted, UNNAMED_TRUTH, "pred_unnamed"),
        scores(predicted, SPECULATIVE_TRUTH, "pred_speculative"),
        predicted,
    )


def report(title: str, paths: Sequence[Path], lexicons: Lexicons, *, errors: bool) -> None:
    unnamed, speculative, predicted = measure(paths, lexicons)
    outlets = predicted["outlet_domain"].n_unique() if "outlet_domain" in predicted.columns else None
    print(f"\n## {title}: {len(predicted)} sentences" + (f", {outlets} outlets" if outlets else ""))
    print("   " + ", ".join(str(p) for p in paths))
    print(unnamed.line("unnamed or mixed"))
    print(speculative.line("speculative"))
    for column in CATEGORY_COLUMNS:
        if column not in predicted.columns:
            continue
        truth, pred = (
            (SPECULATIVE_TRUTH, "pred_speculative") if column == "spec_category" else (UNNAMED_TRUTH, "pred_unnamed")
        )
        what = "speculative" if column == "spec_category" else "unnamed"
        print(f"-- per {column} ({what})")
        for (value,), part in sorted(predicted.group_by(column), key=lambda kv: str(kv[0][0])):
            s = scores(part, truth, pred)
            if s.tp + s.fn:
                print(s.line(f"  {value} ({len(part)})"))
            else:
                print(f"  {str(value) + f' ({len(part)})':<38} false alarms {s.fp} of {len(part)}")
        if column == "stratum":  # the stratum is a sampling filter: show speculation per stratum too
            for (value,), part in sorted(predicted.group_by(column), key=lambda kv: str(kv[0][0])):
                print(scores(part, SPECULATIVE_TRUTH, "pred_speculative").line(f"  {value} speculative ({len(part)})"))
    if errors:
        print_errors(predicted)


def print_errors(predicted: pl.DataFrame) -> None:
    for title, truth, pred in (
        ("unnamed", UNNAMED_TRUTH, "pred_unnamed"),
        ("speculative", SPECULATIVE_TRUTH, "pred_speculative"),
    ):
        for kind, cond in (("false alarms", ~truth & pl.col(pred)), ("misses", truth & ~pl.col(pred))):
            rows = predicted.filter(cond)
            print(f"\n== {title} {kind} ({len(rows)})")
            for r in rows.iter_rows(named=True):
                cats = "/".join(str(r[c]) for c in CATEGORY_COLUMNS[:3] if c in r)
                print(f"- {r['sentence_id']} [{r['attribution']}/{r['speculative']} {cats}] cues={r['spec_cues']}")
                print(f"    {r['sentence']}")
                for extra in ("source_phrase", "note"):
                    if r.get(extra):
                        print(f"    {extra}: {r[extra]}")


def sample_articles(articles: pl.DataFrame) -> pl.DataFrame:
    """The embedded sample in the feature input contract."""
    return articles.select(
        pl.col("id").alias("article_id"),
        pl.col("domain").alias("outlet"),
        "title",
        "text",
        pl.col("authors").str.split(",").list.eval(pl.element().str.strip_chars()).alias("authors"),
    )


def sample_sentences(path: Path, lexicons: Lexicons) -> tuple[pl.DataFrame, int]:
    """Every sentence of the embedded sample's articles (as the pipeline splits them) and the article count."""
    from features.boilerplate import REPEATED_LINES_SCHEMA, mark_lines, split_lines
    from features.sentences import split_sentences

    articles = pl.read_parquet(path)
    lines = mark_lines(
        sample_articles(articles).lazy(),
        boilerplate=pl.LazyFrame(schema=REPEATED_LINES_SCHEMA),
        patterns=lexicons.boilerplate_patterns,
    )
    sents = split_sentences(
        split_lines(lines).kept, abbreviations=lexicons.abbreviations, sentence_starters=lexicons.sentence_starters
    )
    return lowercase_sentences(sents).collect(), len(articles)


def speed(path: Path, lexicons: Lexicons, *, repeat: int = 3) -> None:
    """Throughput of the two detectors alone on the sample's sentences (best of `repeat`)."""
    sents, articles = sample_sentences(path, lexicons)
    att, spec = attribution_cues(lexicons), speculation_cues(lexicons)
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        pl.collect_all(
            [
                sentence_attribution(sents.lazy(), cues=att),
                speculation_cue_matches(sents.lazy(), cues=spec),
            ]
        )
        best = min(best, time.perf_counter() - t0)
    print(
        f"\n## speed on {path.name}: {len(sents):,} sentences of {articles:,} articles; detectors alone "
        f"{len(sents) / best:,.0f} sentences/s, {articles / best:,.0f} articles/s (best of {repeat}, {best:.2f} s)"
    )
    from features.boilerplate import REPEATED_LINES_SCHEMA
    from features.pipeline import article_features

    frame = sample_articles(pl.read_parquet(path))
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        article_features(
            frame.lazy(), boilerplate=pl.LazyFrame(schema=REPEATED_LINES_SCHEMA), lexicons=lexicons
        ).collect()
        best = min(best, time.perf_counter() - t0)
    print(
        f"   whole article_features: {articles / best:,.0f} articles/s ({best:.2f} s; bench on the corpus: make bench)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tune", type=Path, nargs="*", help="tuning-part CSV file(s) (default: see module doc)")
    parser.add_argument("--sealed", type=Path, default=SEALED, help="sealed-part CSV, read only if it exists")
    parser.add_argument("--labels", type=Path, nargs="*", default=[], help="other labelled CSVs (old validation set)")
    parser.add_argument("--sample", type=Path, default=SAMPLE, help="articles for the speed measurement")
    parser.add_argument("--errors", action="store_true", help="print the misses and false alarms (not of sealed)")
    parser.add_argument("--no-speed", action="store_true")
    parser.add_argument("--rules-only", action="store_true", help="without the learned decisions (the rules decide)")
    args = parser.parse_args()
    lexicons = load_lexicons()
    if args.rules_only:
        lexicons = dataclasses.replace(lexicons, models={})
    tune = args.tune if args.tune is not None else default_tune_paths()
    if tune:
        report("tuning part", tune, lexicons, errors=args.errors)
    else:
        print("no tuning part found (tests/fixtures/devset/tune.csv, /work/devset/tune.csv, tune_part*.csv)")
    if args.sealed.is_file():
        report("SEALED part", [args.sealed], lexicons, errors=False)
    for path in args.labels:
        report(f"labelled set {path.name}", [path], lexicons, errors=args.errors)
    print("\ntargets (sealed part):", ", ".join(f"{k} >= {v}" for k, v in TARGETS.items()))
    if not args.no_speed and args.sample.is_file():
        speed(args.sample, lexicons)


if __name__ == "__main__":
    main()
