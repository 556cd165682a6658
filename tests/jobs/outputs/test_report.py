from __future__ import annotations

import re
import shutil
import subprocess
from html import escape, unescape
from pathlib import Path

import duckdb
import numpy as np
import pytest
from click.testing import CliRunner

from jobs.cli import cli
from jobs.outputs.explain import explain_outlet
from jobs.outputs.report import build_report
from jobs.outputs.report.charts import GRADE_STYLE, Publication, score_history
from jobs.outputs.report.pages import link, marked, outlet_path

from ..conftest import labelled_corpus

HOSTILE = "<script>alert(1)</script>"
HOSTILE_SENTENCE = "<img src=x onerror=alert(2)> "
WINDOWS = ("2020-06-20", "2020-06-30")  # two publications: every outlet has a score history of two


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with two publications whose titles, one URL and the evidence sentences are hostile HTML."""
    tmp = tmp_path_factory.mktemp("report")
    db = tmp / "r.duckdb"
    labelled_corpus(tmp / "corpus")
    for as_of in WINDOWS:
        result = CliRunner().invoke(
            cli,
            ["nightly", "--db", str(db), "--corpus", str(tmp / "corpus"), "--as-of", as_of, "--window-days", "90"]
            + ["--min-articles", "5", "--quiet"],
            catch_exceptions=False,
        )
        assert result.exit_code == 0, result.output
    con = duckdb.connect(str(db))
    con.execute("UPDATE article_meta SET title = ?", [HOSTILE])
    con.execute(
        "UPDATE article_meta SET url = 'javascript:alert(3)' "
        "WHERE article_id = (SELECT min(article_id) FROM article_meta)"
    )
    con.execute("UPDATE article_evidence SET sentence = ? || sentence", [HOSTILE_SENTENCE])
    con.close()
    published = CliRunner().invoke(cli, ["publish", "--db", str(db)], catch_exceptions=False)  # what readers see
    assert published.exit_code == 0, published.output
    return db


@pytest.fixture(scope="module")
def report_dir(published: Path) -> Path:
    out = published.parent / "report"
    result = CliRunner().invoke(cli, ["report", "--db", str(published), "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "6 outlet pages (8 charts)" in result.output  # 6 histories + distribution + score vs label
    return out


def outlets(db: Path) -> list[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return [o for (o,) in con.execute("SELECT outlet FROM latest_scores ORDER BY outlet").fetchall()]


def test_one_page_per_outlet_linked_from_the_index(published: Path, report_dir: Path) -> None:
    index = (report_dir / "index.html").read_text(encoding="utf-8")
    names = outlets(published)
    assert len(names) == 6
    assert sorted(p.name for p in (report_dir / "outlets").iterdir()) == sorted(f"{o}.html" for o in names)
    for o in names:
        assert f'<a href="{outlet_path(o)}">{o}</a>' in index  # the table links every outlet
    assert index.count('<a xlink:href="outlets/') == 6  # every labelled point links to its page
    assert "out-of-sample comparison" in index  # training outlets are cross-fitted since migration 0008
    page = (report_dir / outlet_path(names[0])).read_text(encoding="utf-8")
    assert '<a href="../index.html">' in page


def pages_of(report_dir: Path) -> dict[str, str]:
    return {str(p.relative_to(report_dir)): p.read_text(encoding="utf-8") for p in sorted(report_dir.rglob("*.html"))}


def test_pages_are_self_contained_script_free_and_escaped(report_dir: Path) -> None:
    for name, html in pages_of(report_dir).items():
        assert "Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'" in html, name
        assert "<script" not in html and "<img" not in html and "<link" not in html, name
        assert not re.search(r"<[^>]*\s(src|style)=\S*url\(|<[^>]*\ssrc=", html), name  # no element loads anything
        assert 'href="javascript:' not in html, name  # a non-http URL is never a link
        for url in re.findall(r'(?:href|xlink:href)="([^"]*)"', html):  # links only, nothing fetched
            assert url.startswith(("https://", "../index.html", "outlets/", "#")), (name, url)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html or name == "index.html", name  # titles as text
    evidence = [html for name, html in pages_of(report_dir).items() if "&lt;img src=x onerror=alert(2)&gt;" in html]
    assert evidence, "the hostile evidence sentence is shown, as text"


def factor_rows(page: str) -> list[tuple[str, str]]:
    table = page.split("<h2>What makes up the score</h2>")[1].split("</table>")[0]
    return [
        (unescape(name), unescape(pts))
        for name, pts in re.findall(
            r'<tr[^>]*><td>([^<]*)</td><td class="n">[^<]*</td><td class="n">([^<]*)</td>', table
        )
    ]


def test_factors_are_the_numbers_of_explain_and_add_up_to_the_score(published: Path, report_dir: Path) -> None:
    with duckdb.connect(str(published), read_only=True) as con:
        for o in outlets(published):
            e = explain_outlet(con, o)
            assert e.score["score"] is not None
            rows = factor_rows((report_dir / outlet_path(o)).read_text(encoding="utf-8"))
            expected = (
                [("baseline (an outlet at the training means)", f"{e.score['baseline_score']:.1f}")]
                + [(f["feature"], f"{f['contribution']:+.1f}") for f in e.factors]
                + [("= score", f"{e.score['score']:.1f}")]
            )
            assert rows == expected, o
            assert e.total == pytest.approx(e.score["score"], abs=1e-4)  # the points add up to the published score


def test_outlet_page_has_label_history_evidence_and_uncorroborated_stories(published: Path, report_dir: Path) -> None:
    with duckdb.connect(str(published), read_only=True) as con:
        s, low, high, grade = con.execute(
            "SELECT score, score_low, score_high, grade FROM latest_scores WHERE outlet = 'nytimes.com'"
        ).fetchone()  # type: ignore[misc]
        history = con.execute(
            "SELECT CAST(as_of AS VARCHAR), run_id, score FROM score_history WHERE outlet = 'nytimes.com' "
            "ORDER BY run_id"
        ).fetchall()
        evidence = con.execute(
            "SELECT e.article_id, e.cue FROM article_evidence e JOIN articles a USING (article_id) "
            "WHERE a.outlet = 'nytimes.com' AND e.kind = 'unnamed_source' ORDER BY a.published_at DESC, e.article_id"
        ).fetchall()
        uncorroborated = con.execute(
            "SELECT article_id FROM story_articles WHERE outlet = 'nytimes.com' AND n_corroborating_outlets = 0 "
            "AND copy_of IS NULL ORDER BY published_at DESC NULLS LAST, article_id"
        ).fetchall()
    page = (report_dir / outlet_path("nytimes.com")).read_text(encoding="utf-8")
    label = page.split('<section class="label">')[1].split("</section>")[0]
    assert f'<div class="big">{s:.1f}<small> / 100</small></div>' in label
    assert f"<dd>{low:.1f}\u2013{high:.1f}</dd>" in label and grade in label
    assert [as_of for as_of, _, _ in history] == list(WINDOWS)
    chart = page.split("<h2>Score history</h2>")[1].split("</figure>")[0]
    for as_of, run_id, _ in history:
        assert f"{as_of}</text>" in chart or f"{as_of}\n" in chart, as_of  # tick labels: window end and run
        assert f"run {run_id}" in chart
        assert f'<td class="n">{as_of}</td><td class="n">{run_id}</td>' in page  # and the table under it
    assert "score (0-100)" in chart and "~90% interval" in chart  # axis title and legend
    assert evidence, "the fixture has unnamed sources at nytimes.com"
    article_id, cue = evidence[0]
    assert f"<code>{article_id}</code>" in page and f"<mark>{escape(cue)}</mark>" in page
    stories = page.split("<h2>Uncorroborated stories</h2>")[1]
    if uncorroborated:  # the count, and the latest five with their ids
        assert f"{len(uncorroborated)} of its" in stories
        assert re.findall(r"<code>([^<]+)</code>", stories) == [a for (a,) in uncorroborated[:5]]
    else:
        assert "also covered by another independent outlet" in stories or "in a story yet" in stories


def test_charts_have_axes_legends_and_are_deterministic(published: Path, report_dir: Path) -> None:
    index = (report_dir / "index.html").read_text(encoding="utf-8")
    assert index.count("<svg") == 2
    for text in (
        "score (0-100, higher = more reliable)",
        "label (published rating, 0-100)",
        "outlets",
        "score = label",
    ):
        assert text in index, text  # axis titles and legend entries, as text
    assert re.search(r">\s*100\s*</text>", index)  # tick labels
    assert "<metadata>" not in index and "dc:date" not in index.lower() and "2026-" not in index.split("<svg")[1]
    ids = re.findall(r' id="([^"]+)"', index)
    assert len(ids) == len(set(ids))  # two charts on one page share no id
    with duckdb.connect(str(published), read_only=True) as con:
        again = build_report(con)
    assert again.pages == pages_of(report_dir)  # same database, same bytes
    one = [Publication(1, "2020-01-31", 50.0, 40.0, 60.0)]
    assert score_history(one, label=None, outlet="x") == score_history(one, label=None, outlet="x")


def test_out_folder_rules(published: Path, tmp_path: Path) -> None:
    def report(out: Path, *more: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli, ["report", "--db", str(published), "--out", str(out), *more])
        return result.exit_code, result.output

    out = tmp_path / "r"
    assert report(out)[0] == 0
    stale = out / "outlets" / "gone.example.html"
    stale.write_text("old", encoding="utf-8")
    code, output = report(out)
    assert code == 2 and "--force" in output
    assert report(out, "--force")[0] == 0 and not stale.exists()  # replaced as a whole
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me", encoding="utf-8")
    code, output = report(other, "--force")
    assert code == 2 and "not a presstrust report folder" in output and (other / "notes.txt").read_text() == "keep me"
    assert report(tmp_path / "report.html")[0] == 2  # a folder, not a file
    (tmp_path / "empty").mkdir()
    assert report(tmp_path / "empty")[0] == 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folder left behind


def test_report_without_publication_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["report", "--db", str(tmp_path / "e.duckdb"), "--out", str(tmp_path / "r")], catch_exceptions=False
    )
    assert result.exit_code == 1 and not (tmp_path / "r").exists()


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=600,  # a browser start on a loaded machine
        check=True,
    )


def coloured(pixels: np.ndarray, colour: str, tolerance: int = 12) -> int:
    """How many pixels are within `tolerance` of the #rrggbb colour."""
    rgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(pixels.astype(int) - rgb) <= tolerance).all(axis=-1).sum())


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (installed by .ci/run)")
@pytest.mark.slow
def test_report_renders_in_headless_chromium(report_dir: Path, tmp_path: Path) -> None:
    from PIL import Image  # a matplotlib dependency

    profile = tmp_path / "profile"
    index = report_dir / "index.html"
    page = report_dir / outlet_path("nytimes.com")
    dom = chromium(index, profile, "--dump-dom").stdout
    assert dom.count("<svg") == 2 and dom.count("<tr>") >= 7  # the browser parsed both charts and the table
    assert "<script" not in dom
    dom = chromium(page, profile, "--dump-dom").stdout
    assert dom.count("<svg") == 1 and "<script" not in dom and "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert "&lt;img src=x onerror=alert(2)&gt;" in dom and "<img" not in dom  # the sentence stayed text
    for name, source in (("index", index), ("nytimes", page)):
        shot = tmp_path / f"{name}.png"
        run = chromium(source, profile, f"--screenshot={shot}", "--window-size=1100,2200", "--enable-logging=stderr")
        assert "Content Security Policy" not in run.stderr  # nothing the page uses was blocked
        pixels = np.asarray(Image.open(shot).convert("RGB"))
        assert (pixels != 255).any(axis=-1).mean() > 0.03, name  # a rendered page, not a blank one
        if name == "index":  # the charts drew bars and markers in their grade colours, not empty frames
            assert sum(coloured(pixels, colour) for colour, _, _ in GRADE_STYLE.values()) > 2000
        shutil.copy(shot, report_dir.parent / shot.name)  # kept beside the report for a look


def test_page_names_links_and_marks_are_safe() -> None:
    assert outlet_path("nytimes.com") == "outlets/nytimes.com.html"
    for hostile in ("../../etc/passwd", "<x>.com", "a/b", "."):
        name = outlet_path(hostile)
        assert re.fullmatch(r"outlets/[a-z0-9_-][a-z0-9._-]*\.html", name), name  # one file in outlets/
    assert outlet_path("a/b") != outlet_path("a_b")  # made-safe names cannot collide with a real one
    assert link("javascript:alert(1)", "<t>") == "&lt;t&gt;" and link("data:text/html,x", "t") == "t"
    assert link('https://x.example/?a=1&b="2"', "t") == (
        '<a href="https://x.example/?a=1&amp;b=&quot;2&quot;" rel="noopener noreferrer nofollow">t</a>'
    )
    assert marked("He said <b> was", "<b>") == "He said <mark>&lt;b&gt;</mark> was"
    assert marked("no cue here", "absent") == "no cue here"


def test_outlet_page_shows_factors_and_groups_their_evidence() -> None:
    """By hand: points that add up, two factors of one kind sharing one table, a cue factor's articles."""
    from datetime import datetime

    from jobs.outputs.explain import OutletExplanation
    from jobs.outputs.report.pages import Context, outlet_page

    sentence = {
        "article_id": "a1",
        "url": "https://x.example/1",
        "title": "T1",
        "cue": "sources",
        "sentence": "Two sources said.",
    }
    score = {
        "outlet": "x.example", "score": 56.69, "score_low": 40.0, "score_high": 70.0, "grade": "low",
        "grade_confidence": "uncertain", "status": "ok", "n_articles": 30, "n_english": 29, "as_of": "2020-06-30",
        "window_days": 90, "label_score": 0.612, "text_score": 60.0, "cue_score": 40.0, "text_weight": 0.8,
        "baseline_score": 50.0, "model_id": "m", "run_id": 3, "cross_fitted": True,
    }  # fmt: skip
    factors = [
        {"feature": "text layer (wording)", "value": 0.6, "contribution": 12.34},
        {"feature": "unnamed_source_share", "value": 0.5, "contribution": -3.01},
        {"feature": "unnamed_sources_per_1k_words", "value": 4.0, "contribution": -1.6},
        {"feature": "numbers_per_1k_words", "value": 2.0, "contribution": -1.04},
        {"feature": "title_question_share", "value": 0.0, "contribution": 0.0},
    ]
    e = OutletExplanation(
        score,
        factors,
        {
            "unnamed_source_share": [sentence],
            "unnamed_sources_per_1k_words": [sentence],
            "numbers_per_1k_words": [{"article_id": "a2", "url": None, "title": "T2", "value": 0.0}],
        },
        [{"title": "T3", "url": "https://x.example/3", "published_at": datetime(2020, 6, 1), "article_id": "a3"}],
    )
    assert e.total == pytest.approx(56.69)
    context = Context(3, "2020-07-01 00:00:00", "2020-06-30", 90, "m", "labels.csv", {}, 1)
    page = outlet_page(
        context,
        e,
        history_chart=None,
        history=[],
        flagged=[dict(sentence, kind="unnamed_source"), dict(sentence, kind="speculation", cue="said")],
        flagged_counts=[
            {"kind": "speculation", "n": 4, "articles": 2},
            {"kind": "unnamed_source", "n": 7, "articles": 3},
        ],
        stories={"originals": 9, "uncorroborated": 4},
    )
    assert factor_rows(page) == [
        ("baseline (an outlet at the training means)", "50.0"),
        ("text layer (wording)", "+12.3"),
        ("unnamed_source_share", "-3.0"),
        ("unnamed_sources_per_1k_words", "-1.6"),
        ("numbers_per_1k_words", "-1.0"),
        ("title_question_share", "+0.0"),
        ("= score", "56.7"),
    ]
    assert page.count('<tr class="zero">') == 1  # the factor that rounds to 0.0 is greyed
    assert "Behind unnamed_source_share (-3.0 points) and unnamed_sources_per_1k_words (-1.6 points)" in page
    assert page.count("Two <mark>sources</mark> said.") == 1  # one table for the two factors of one kind
    assert "Behind numbers_per_1k_words (-1.0 points): the articles with the least of it" in page
    assert "Latest unnamed sources" not in page and "Latest speculative sentences" in page  # not shown twice
    assert "Two sources <mark>said</mark>." in page
    assert "7 unnamed sources in 3 articles" in page and "4 of its 9 stories" in page and "<code>a3</code>" in page
    assert "61.2 (labels.csv); scored out of fold" in page and "uncertain: the interval reaches another grade" in page
    assert "The layers disagree by 20.0 points" in page
