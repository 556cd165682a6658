"""The built wheel works outside the checkout: package data (lexicons, labels, aliases, sample) included."""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from jobs.infra import paths

pytestmark = pytest.mark.slow  # builds the wheel, installs it in a fresh venv, runs a nightly

ROOT = paths.PROJECT_ROOT
SKIP = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "*.duckdb", "*.duckdb.*", "__pycache__", ".*_cache", ".hypothesis"
)


def run(args: list[str], *, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"{args}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


def test_wheel_installs_and_runs_the_nightly_outside_the_checkout(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PRESSTRUST_", "PYTHON", "VIRTUAL_ENV"))}
    env["HOME"] = str(tmp_path)  # the default database of an installed presstrust goes under ~/.local/share
    # build from a copy of the source (no checkout files leak in), offline: no index, no build isolation
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=SKIP)
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w",
         str(tmp_path / "dist"), str(source)], cwd=tmp_path, env=env)  # fmt: skip
    wheel = next((tmp_path / "dist").glob("presstrust-*.whl"))
    shutil.rmtree(source)
    names = zipfile.ZipFile(wheel).namelist()
    # the product only: no research (evaluation/), benchmark or test code, and no script among the package data
    assert {n.split("/")[0] for n in names if not n.startswith("presstrust-")} == {"jobs", "features", "scorer"}
    assert not [n for n in names if "/data/" in n and n.endswith(".py")]
    embedding = {"table.npz", "vocab.txt", "PROVENANCE.md"}  # the static embedding (features/embedding.py)
    assert embedding <= {n.rsplit("/", 1)[1] for n in names if n.startswith("features/data/embedding/")}
    # a fresh venv with only the wheel; its dependencies come from this venv's site-packages through a .pth
    # file (a path line, so this venv's editable presstrust is NOT picked up: nested .pth files are not read)
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp_path, env=env)
    python = venv / "bin" / "python"
    run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)],
        cwd=tmp_path, env=env)  # fmt: skip
    target = Path(run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                      cwd=tmp_path, env=env).stdout.strip())  # fmt: skip
    (target / "presstrust_deps.pth").write_text(site.getsitepackages()[0] + "\n", encoding="utf-8")

    where = run([str(python), "-c", "import jobs, features, scorer; from jobs.infra import paths; "
                 "print(jobs.__file__); print(paths.DEFAULT_DB); print(paths.LABELS_FILE)"],
                cwd=tmp_path, env=env).stdout.split()  # fmt: skip
    assert all(Path(w).is_relative_to(tmp_path) for w in where), where  # the wheel's code, not the checkout's
    assert not Path(where[0]).is_relative_to(ROOT) and Path(where[2]).is_file()
    assert Path(where[1]) == tmp_path / ".local" / "share" / "presstrust" / "presstrust.duckdb"

    presstrust = str(venv / "bin" / "presstrust")
    work = tmp_path / "work"
    work.mkdir()
    run([presstrust, "sample", "sample"], cwd=work, env=env)
    assert sorted(p.name for p in (work / "sample").iterdir()) == [
        "PROVENANCE.md", "allsides_sample.parquet", "extra_sample.parquet", "seed.jsonl"
    ]  # fmt: skip
    nightly = run([presstrust, "nightly", "--db", "study.duckdb", "--corpus", "sample", "--as-of", "2020-12-31",
                   "--window-days", "3650", "--quiet", "--log-format", "json"], cwd=work, env=env)  # fmt: skip
    summary = json.loads(nightly.stderr.strip())  # under --quiet: exactly one JSON line, the summary
    assert summary["event"] == "summary" and summary["exit_code"] == 0
    assert summary["stages"]["ingest"]["loaded"] == 2462 and summary["stages"]["featurize"]["articles_computed"] == 2462
    listed = run([presstrust, "scores", "--db", "study.duckdb", "--format", "json"], cwd=work, env=env)
    scores = json.loads(listed.stdout)
    assert len(scores) == 96 and all(0 <= s["score"] <= 100 for s in scores if s["score"] is not None)
