"""Precision/recall/F1 of the unnamed-source and speculation detectors on the hand-labelled sentences.

    python -m tests.features.measure_detectors [--labels tests/fixtures/validation/sentences.csv] [--errors]

Positives: unnamed source = label `unnamed` or `mixed`; speculative = `yes`. Each labelled sentence is run
through the same feature functions as the pipeline (sentence_attribution, speculation_cue_matches) as a
one-sentence article. The set is also split in two halves by a hash of `sentence_id` ("dev"/"held-out")
so that tuning on one half can be checked on the other.
"""

from __future__ import annotations

import argparse
import hashlib
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from features.attribution import attribution_cues, sentence_attribution
from features.lexicons import Lexicons, load_lexicons
from features.sentences import lowercase_sentences, words_n
from features.speculation import speculation_cue_matches, speculation_cues

ROOT = Path(__file__).resolve().parents[2]
LABELS = ROOT / "tests" / "fixtures" / "validation" / "sentences.csv"
TARGETS = {"unnamed_precision": 0.90, "unnamed_recall": 0.85, "speculative_f1": 0.75}


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
            f"{name:<24} P {self.precision:.3f}  R {self.recall:.3f}  F1 {self.f1:.3f}  "
            f"(tp {self.tp}, fp {self.fp}, fn {self.fn}, tn {self.tn})"
        )


def load_labels(path: Path = LABELS) -> pl.DataFrame:
    labels = pl.read_csv(path, infer_schema=False)
    half = pl.col("sentence_id").map_elements(
        lambda s: "dev" if int(hashlib.sha256(s.encode()).hexdigest(), 16) % 2 == 0 else "held-out",
        return_dtype=pl.String,
    )
    return labels.with_columns(half.alias("half"))


def predict(labels: pl.DataFrame, lexicons: Lexicons) -> pl.DataFrame:
    """Run the detectors on each labelled sentence; adds `pred_unnamed`, `pred_speculative`, `cues`."""
    sentences = lowercase_sentences(
        labels.lazy().select(
            pl.col("sentence_id").alias("article_id"),
            pl.lit(0, dtype=pl.Int64).alias("sentence_no"),
            pl.lit(0, dtype=pl.Int64).alias("start"),
            pl.col("sentence").str.len_chars().cast(pl.Int64).alias("end"),
            "sentence",
            words_n(pl.col("sentence")).alias("words_n"),
        )
    )
    attributed = sentence_attribution(sentences, cues=attribution_cues(lexicons)).collect()
    spec = (
        speculation_cue_matches(sentences, cues=speculation_cues(lexicons))
        .group_by("article_id")
        .agg(pl.col("cue").str.join("|").alias("spec_cues"))
        .collect()
    )
    return (
        labels.join(
            attributed.select(
                pl.col("article_id").alias("sentence_id"),
                pl.col("unnamed_attribution").alias("pred_unnamed"),
                "named_attribution",
            ),
            on="sentence_id",
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


def measure(path: Path = LABELS, lexicons: Lexicons | None = None) -> tuple[Scores, Scores, pl.DataFrame]:
    """(unnamed-source scores, speculative scores, per-sentence predictions) on the whole labelled set."""
    predicted = predict(load_labels(path), lexicons or load_lexicons())
    return (
        scores(predicted, UNNAMED_TRUTH, "pred_unnamed"),
        scores(predicted, SPECULATIVE_TRUTH, "pred_speculative"),
        predicted,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument("--errors", action="store_true", help="print the misses and false alarms")
    parser.add_argument("--half", choices=("dev", "held-out"), help="print errors of one half only")
    args = parser.parse_args()
    unnamed, speculative, predicted = measure(args.labels)
    print(f"{len(predicted)} labelled sentences ({args.labels})")
    print(unnamed.line("unnamed source (all)"))
    print(speculative.line("speculative (all)"))
    for half in ("dev", "held-out"):
        part = predicted.filter(pl.col("half") == half)
        print(scores(part, UNNAMED_TRUTH, "pred_unnamed").line(f"unnamed ({half}, {len(part)})"))
        print(scores(part, SPECULATIVE_TRUTH, "pred_speculative").line(f"speculative ({half}, {len(part)})"))
    for stratum in ("rnd", "att", "hed", "anx"):
        part = predicted.filter(pl.col("sentence_id").str.starts_with(stratum + "-"))
        print(scores(part, UNNAMED_TRUTH, "pred_unnamed").line(f"unnamed [{stratum}, {len(part)}]"))
        print(scores(part, SPECULATIVE_TRUTH, "pred_speculative").line(f"speculative [{stratum}, {len(part)}]"))
    print("targets:", ", ".join(f"{k} >= {v}" for k, v in TARGETS.items()))
    if args.errors:
        with pl.Config(fmt_str_lengths=400, tbl_rows=200, tbl_width_chars=400):
            for title, truth, pred in (
                ("unnamed", UNNAMED_TRUTH, "pred_unnamed"),
                ("speculative", SPECULATIVE_TRUTH, "pred_speculative"),
            ):
                for kind, cond in (("false alarms", ~truth & pl.col(pred)), ("misses", truth & ~pl.col(pred))):
                    rows = predicted.filter(cond & (pl.col("half") == args.half if args.half else True))
                    print(f"\n== {title} {kind} ({len(rows)})")
                    for r in rows.iter_rows(named=True):
                        print(f"- {r['sentence_id']} [{r['attribution']}/{r['speculative']}] cues={r['spec_cues']}")
                        print(f"    {r['sentence']}")
                        if r["note"]:
                            print(f"    note: {r['note']}")


if __name__ == "__main__":
    main()
