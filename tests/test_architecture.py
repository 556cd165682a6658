"""The house rules of docs/architecture.md, checked on the code itself: the import contracts (pyproject.toml,
`[tool.importlinter]`) hold, and a new circle or an import that runs back up a layer breaks them; no function of
the shipped packages is over 150 lines."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from jobs.infra.paths import PROJECT_ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
needs_import_linter = pytest.mark.skipif(
    not LINT_IMPORTS.exists(), reason="import-linter is not installed (pip install -e '.[dev]')"
)
CHECKED = ("jobs", "features", "scorer", "evaluation", "bench")
SHIPPED = ("jobs", "features", "scorer")
MAX_FUNCTION_LINES = 150


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` on the packages under `root`, with the contracts of root/pyproject.toml."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=root, capture_output=True, text=True, timeout=900, check=False
    )


def append(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f"\n{line}  # noqa: E402\n")


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """The checked packages and pyproject.toml copied, to break on purpose."""
    for name in CHECKED:
        shutil.copytree(PROJECT_ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "out"))
    shutil.copy(PROJECT_ROOT / "pyproject.toml", tmp_path)
    return tmp_path


@needs_import_linter
def test_the_import_contracts_hold() -> None:
    done = lint_imports(PROJECT_ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


@needs_import_linter
def test_a_new_circle_breaks_the_contracts(copy: Path) -> None:
    append(copy / "jobs" / "store" / "lock.py", "import jobs.store.runs")
    append(copy / "jobs" / "store" / "runs.py", "import jobs.store.lock")
    done = lint_imports(copy)
    assert done.returncode != 0
    assert "no import circles between the modules of any package BROKEN" in done.stdout
    assert "jobs.store" in done.stdout


@needs_import_linter
def test_an_import_back_up_a_layer_breaks_the_contracts(copy: Path) -> None:
    """A reader that imports a stage (a lower layer reaching up), and a stage that imports an engine."""
    append(copy / "jobs" / "readers" / "labels.py", "import jobs.stages.fit")
    append(copy / "jobs" / "stages" / "featurize.py", "import jobs.engines.local")
    done = lint_imports(copy)
    assert done.returncode != 0
    assert "imports run one way" in done.stdout and "jobs.readers.labels -> jobs.stages.fit" in done.stdout
    assert "stages know the engine interface only, never an engine BROKEN" in done.stdout


def long_functions(package: str, limit: int) -> list[str]:
    found = []
    for path in sorted((PROJECT_ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > limit:
                    found.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno} {node.name} ({lines} lines)")
    return found


@pytest.mark.parametrize("package", SHIPPED)
def test_no_function_of_the_shipped_packages_is_over_150_lines(package: str) -> None:
    assert long_functions(package, MAX_FUNCTION_LINES) == []
