from __future__ import annotations

import logging
import string
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobs.infra import paths
from jobs.readers.labels import (
    BALY_GRADE_SCORES,
    GRADE_COLLAPSE,
    GRADE_SCORES,
    LABEL_SCHEMA,
    LabelFileError,
    load_labels,
    load_labels_counted,
)
from jobs.readers.outlets import OutletResolver
from scorer.grades import GRADE_THRESHOLDS, grade_of


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_lin_file_loads(resolver: OutletResolver) -> None:
    labels = load_labels(paths.LABELS_FILE, resolver=resolver)
    assert dict(labels.schema) == LABEL_SCHEMA
    assert labels.height > 10_000
    assert labels["outlet"].is_unique().all()
    assert labels["label_score"].min() >= 0 and labels["label_score"].max() <= 1
    row = labels.filter(pl.col("outlet") == "reuters.com").row(0, named=True)
    assert row == {"outlet": "reuters.com", "label_score": 1.0, "label_grade": "high"}


def test_skips_comment_lines_and_canonicalises_like_articles(tmp_path: Path, resolver: OutletResolver) -> None:
    path = write(
        tmp_path,
        "labels.csv",
        "# a comment line\n"
        "domain,score\n"
        "# another, with a comma\n"
        "https://www.nytimes.com/,0.9\n"
        "https://www.nytimes.com/section/politics,0.1\n"  # a section, not the outlet: left out
        "twitter.com/someaccount,0.3\n"  # an account, not twitter.com: left out
        "money.cnn.com,0.7\n"
        "abcnews.go.com,0.8\n"
        "somebody.substack.com,0.2\n",
    )
    labels = load_labels(path, resolver=resolver)
    got = dict(zip(labels["outlet"], labels["label_score"], strict=True))
    assert got == {
        resolver.resolve_host("nytimes.com"): 0.9,
        resolver.resolve_host("money.cnn.com"): 0.7,
        "abcnews.go.com": 0.8,
        "somebody.substack.com": 0.2,
    }
    assert resolver.resolve_host("money.cnn.com") == "cnn.com"


def test_duplicates_after_canonicalisation_are_averaged_and_logged(
    tmp_path: Path, resolver: OutletResolver, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(tmp_path, "labels.csv", "domain,pc1\nfoxnews.com,0.2\nwww.foxnews.com,0.6\nnpr.org,0.9\n")
    with caplog.at_level(logging.WARNING, logger="jobs.readers.labels"):
        labels = load_labels(path, resolver=resolver)
    fox = labels.filter(pl.col("outlet") == "foxnews.com").row(0, named=True)
    assert fox["label_score"] == pytest.approx(0.4)
    assert fox["label_grade"] == "mixed"
    assert "averaged" in caplog.text and "foxnews.com" in caplog.text


def test_score_column_and_range(tmp_path: Path, resolver: OutletResolver) -> None:
    path = write(tmp_path, "labels.csv", "domain,pc1,newsguard\nnpr.org,0.9,95\ninfowars.com,0.05,10\n")
    assert load_labels(path, resolver=resolver)["label_score"].to_list() == [0.05, 0.9]  # pc1 by default
    by_column = load_labels(path, resolver=resolver, score_column="newsguard", score_range=(0, 100))
    assert by_column.sort("outlet")["label_score"].to_list() == pytest.approx([0.10, 0.95])
    with pytest.raises(ValueError, match="outside"):
        load_labels(path, resolver=resolver, score_column="newsguard")
    with pytest.raises(ValueError, match="no score column"):
        load_labels(path, resolver=resolver, score_column="missing")
    bad = write(tmp_path, "bad.csv", "domain,score\nnpr.org,high\n")
    with pytest.raises(ValueError, match="non-numeric"):
        load_labels(bad, resolver=resolver)
    with pytest.raises(ValueError, match="domain"):
        load_labels(write(tmp_path, "nodomain.csv", "site,score\nnpr.org,0.5\n"), resolver=resolver)


def test_mbfc_grades_map_and_collapse(tmp_path: Path, resolver: OutletResolver) -> None:
    rows = "\n".join(f"site{i}.com,{g}" for i, g in enumerate(GRADE_SCORES))
    path = write(tmp_path, "mbfc.csv", "domain,reporting\n" + rows + "\nsite9.com,\n")
    labels = load_labels(path, resolver=resolver).sort("outlet")
    assert labels.height == len(GRADE_SCORES)  # the row without a grade is dropped
    for i, grade in enumerate(GRADE_SCORES):
        row = labels.filter(pl.col("outlet") == f"site{i}.com").row(0, named=True)
        assert row["label_score"] == GRADE_SCORES[grade]
        assert row["label_grade"] == GRADE_COLLAPSE[grade]  # the mapping points lie inside their collapsed bins
    spelled = write(tmp_path, "spelled.csv", "domain,grade\na.com,Mostly Factual\nb.com, VERY_HIGH \n")
    assert load_labels(spelled, resolver=resolver)["label_grade"].to_list() == ["mixed", "high"]
    with pytest.raises(ValueError, match="unknown grades"):
        load_labels(write(tmp_path, "odd.csv", "domain,grade\na.com,satire\n"), resolver=resolver)


def test_baly_tsv_grades(tmp_path: Path, resolver: OutletResolver) -> None:
    path = write(
        tmp_path,
        "baly.tsv",
        "source_url\tsource_url_normalized\tref\tfact\tbias\n"
        "https://crooked.com\tcrooked.com\tx\thigh\tleft\n"
        "http://deepleftfield.info\tdeepleftfield.info\tx\tmixed\tleft\n"
        "http://infowars.com\tinfowars.com\tx\tlow\tright\n",
    )
    labels = load_labels(path, resolver=resolver).sort("outlet")
    assert labels.rows() == [
        ("crooked.com", BALY_GRADE_SCORES["high"], "high"),
        ("deepleftfield.info", BALY_GRADE_SCORES["mixed"], "mixed"),
        ("infowars.com", BALY_GRADE_SCORES["low"], "low"),
    ]


def test_parquet_labels(tmp_path: Path, resolver: OutletResolver) -> None:
    path = tmp_path / "labels.parquet"
    pl.DataFrame({"domain": ["npr.org", "cnn.com"], "score": [0.93, 0.66]}).write_parquet(path)
    assert load_labels(path, resolver=resolver).rows() == [("cnn.com", 0.66, "high"), ("npr.org", 0.93, "high")]


def test_grade_thresholds() -> None:
    frame = pl.DataFrame({"s": [0.0, 0.2999, 0.30, 0.5999, 0.60, 1.0, None]})
    got = frame.select(grade_of(pl.col("s")).alias("g"))["g"].to_list()
    assert got == ["low", "low", "mixed", "mixed", "high", "high", None]
    assert GRADE_THRESHOLDS == {"high": 0.60, "mixed": 0.30}


labels_host = st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=8)
domain = st.builds(
    lambda a, b, tld, www: f"{'www.' if www else ''}{a}.{b}.{tld}" if b else f"{'www.' if www else ''}{a}.{tld}",
    labels_host,
    st.one_of(st.just(""), labels_host),
    st.sampled_from(["com", "org", "co.uk", "news"]),
    st.booleans(),
)
junk = st.sampled_from(["", "not a domain", "http://", "-", "a b.com"])
row = st.tuples(st.one_of(domain, junk), st.floats(min_value=0, max_value=1, allow_nan=False))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(row, max_size=30), comments=st.lists(st.text(alphabet=string.printable, max_size=20), max_size=3))
def test_fuzz_scores(
    tmp_path: Path, resolver: OutletResolver, rows: list[tuple[str, float]], comments: list[str]
) -> None:
    lines = ["#" + c.replace("\n", " ").replace("\r", " ") for c in comments] + ["domain,score"]
    lines += [f'"{d}",{s!r}' for d, s in rows]
    path = write(tmp_path, "fuzz.csv", "\n".join(lines) + "\n")
    labels = load_labels(path, resolver=resolver)
    assert dict(labels.schema) == LABEL_SCHEMA
    assert labels["outlet"].is_unique().all() and labels["outlet"].null_count() == 0
    expected: dict[str, list[float]] = {}
    for d, s in rows:
        outlet = resolver.resolve_host(d) if d else None
        if outlet is not None:
            expected.setdefault(outlet, []).append(s)
    assert sorted(labels["outlet"].to_list()) == sorted(expected)
    for outlet, score, grade in labels.iter_rows():
        assert score == pytest.approx(sum(expected[outlet]) / len(expected[outlet]))
        assert 0.0 <= score <= 1.0
        assert grade == ("high" if score >= 0.6 else "mixed" if score >= 0.3 else "low")


def test_a_byte_order_mark_is_not_part_of_the_header(tmp_path: Path, resolver: OutletResolver) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("domain,score\nreuters.com,0.9\n".encode("utf-8-sig"))  # what a spreadsheet saves
    labels = load_labels(path, resolver=resolver)
    assert labels.select("outlet", "label_score").rows() == [("reuters.com", 0.9)]


cell = st.one_of(
    domain,
    junk,
    st.sampled_from(["0.5", " 0.25 ", "", "high", "nan", "1e9", "-0.1", "twitter.com/someone", '"', "x,y", "é"]),
    st.text(max_size=6),
)
raw_line = st.lists(cell, min_size=0, max_size=4).map(lambda cells: ",".join(cells))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    header=st.sampled_from(["domain,score", "domain,grade", "site,score", "domain", "domain,score,extra", ""]),
    lines=st.lists(raw_line, max_size=12),
    tail=st.sampled_from([b"", b"\xff\xfe", b"\n\x00", "caf\u00e9".encode("latin-1")]),
)
def test_any_label_file_loads_with_reconciled_counts_or_fails_in_one_line(
    tmp_path: Path, resolver: OutletResolver, header: str, lines: list[str], tail: bytes
) -> None:
    """A label file of random rows (ragged, quotes, junk values, bad bytes) either loads, every data row counted
    in exactly one place, or raises LabelFileError: one line naming the file; never another exception."""
    path = tmp_path / "random.csv"
    path.write_bytes("\n".join([header, *lines]).encode("utf-8") + b"\n" + tail)
    try:
        labels, counts = load_labels_counted(path, resolver=resolver)
    except LabelFileError as exc:
        message = str(exc)
        assert message.startswith(str(path)) and "\n" not in message and "\r" not in message
        return
    assert counts.rows == counts.used + counts.no_value + counts.sections + counts.no_domain
    assert counts.outlets == labels.height <= counts.used


@pytest.mark.parametrize(
    ("content", "line", "said"),
    [
        (b"domain,score\n# note\nnpr.org,0.9,1\n", 3, "3 fields where the header has 2"),
        (b"domain,score\nnpr.org,0.9\nb\xfccher.de,0.5\n", 3, "not UTF-8"),
        (b'domain,score\nnpr.org,"0.9\ncnn.com,0.6\n', 2, "not valid CSV (unexpected end of data, read to line 3)"),
        (
            b"domain,score\nnpr.org,0.9\ncnn.com,abc\nfox.com,def\n",
            3,
            "2 non-numeric values in 'score': 'abc' (lines 3, 4)",
        ),
        (b"domain,score,domain\nnpr.org,0.9,x\n", 1, "'domain' more than once"),
    ],
)
def test_malformed_label_files_name_the_line(
    tmp_path: Path, resolver: OutletResolver, content: bytes, line: int, said: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(LabelFileError) as raised:
        load_labels(path, resolver=resolver)
    assert str(raised.value).startswith(f"{path} line {line}: ") and said in str(raised.value)


def test_rows_without_a_score_are_skipped_with_one_warning_naming_their_lines(
    tmp_path: Path, resolver: OutletResolver, caplog: pytest.LogCaptureFixture
) -> None:
    rows = "".join(f"site{i}.com,\n" for i in range(12))
    path = write(tmp_path, "gaps.csv", "domain,score\nnpr.org,0.9\n" + rows + "cnn.com,0.6\n")
    with caplog.at_level(logging.WARNING, logger="jobs.readers.labels"):
        labels, counts = load_labels_counted(path, resolver=resolver)
    assert labels["outlet"].to_list() == ["cnn.com", "npr.org"]
    assert counts.no_value == 12 and counts.used == 2 and counts.rows == 14
    (warning,) = [r.getMessage() for r in caplog.records if "without a score" in r.getMessage()]
    assert "12 label rows without a score skipped (lines 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, … (2 more))" in warning


def test_the_hosts_a_label_file_knows_come_from_csv_tsv_and_parquet_alike(tmp_path: Path) -> None:
    from jobs.readers.outlets import load_label_domains

    parquet = tmp_path / "labels.parquet"
    pl.DataFrame({"domain": ["www.abcnews.go.com", None], "score": [0.8, 0.5]}).write_parquet(parquet)
    tsv = write(tmp_path, "baly.tsv", "source_url_normalized\tfact\nabcnews.go.com\thigh\n")
    csv_file = write(tmp_path, "labels.csv", "# note\ndomain,score\nhttps://abcnews.go.com/x,0.8\n")
    assert load_label_domains(parquet) == load_label_domains(tsv) == load_label_domains(csv_file) == {"abcnews.go.com"}
    with pytest.raises(LabelFileError, match="line 2"):
        load_label_domains(write(tmp_path, "ragged.csv", "domain,score\nnpr.org,1,2\n"))
