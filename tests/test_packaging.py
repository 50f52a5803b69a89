"""The wheel as a user installs it: one top-level name, beside packages that own `web` and `config`.

Builds the wheel from this tree, installs it with the pip that ships with Python (dependencies
from its metadata, pinned by requirements.lock so the run is repeatable) into a fresh venv that
already holds a package with top-level `web` and `config`, and runs the console script from
another folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(cmd: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    proc = subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False, env=env
    )
    assert proc.returncode == 0, f"{cmd}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def _build(project: Path, out: Path) -> tuple[Path, str]:
    out.mkdir(parents=True, exist_ok=True)
    proc = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-v",
            "-w",
            str(out),
            str(project),
        ],
        cwd=out,
    )
    wheels = sorted(out.glob("*.whl"))
    assert wheels, proc.stdout
    return wheels[-1], proc.stdout + proc.stderr


def _clash_project(tmp: Path) -> Path:
    """A team-written package that owns the generic names regwatch used to install."""
    proj = tmp / "clash"
    for pkg in ("web", "config"):
        (proj / pkg).mkdir(parents=True)
        (proj / pkg / "__init__.py").write_text(f"OWNER = 'clash-{pkg}'\n", encoding="utf-8")
    (proj / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [build-system]
            requires = ["setuptools>=61"]
            build-backend = "setuptools.build_meta"
            [project]
            name = "clash-web-config"
            version = "1.0"
            [tool.setuptools]
            packages = ["web", "config"]
            """
        ),
        encoding="utf-8",
    )
    return proj


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("wheel")
    return _build(ROOT, out)


def test_wheel_holds_only_the_regwatch_package(built: tuple[Path, str]) -> None:
    wheel, log = built
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    tops = {n.split("/", 1)[0] for n in names}
    assert tops == {"regwatch", "regwatch-0.1.0.dist-info"}, tops
    assert not [n for n in names if n.startswith(("regwatch/tests/", "regwatch/bench/"))]
    for data in (
        "regwatch/config.toml",
        "regwatch/nlp/rules/digital_security.toml",
        "regwatch/alerts/templates/digest.html.j2",
        "regwatch/web/templates/base.html.j2",
        "regwatch/web/static/style.css",
        "regwatch/store/migrations/script.py.mako",
        "regwatch/demo/sources.toml",
        "regwatch/demo/site/tj-khovar/rss.xml",
    ):
        assert data in names, data
    assert "would be ignored" not in log.lower(), log
    with zipfile.ZipFile(wheel) as zf:
        meta = zf.read("regwatch-0.1.0.dist-info/METADATA").decode()
    assert "Requires-Dist: lxml_html_clean" in meta or "Requires-Dist: lxml-html-clean" in meta


def test_wheel_installs_beside_packages_owning_web_and_config(
    built: tuple[Path, str], tmp_path: Path
) -> None:
    wheel, _ = built
    clash, _ = _build(_clash_project(tmp_path), tmp_path / "clash-wheel")
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    py = venv / "bin" / "python"
    _run([str(py), "-m", "pip", "install", "--quiet", str(clash)], cwd=tmp_path)
    _run(
        [
            str(py),
            "-m",
            "pip",
            "install",
            "--quiet",
            str(wheel),
            "-c",
            str(ROOT / "requirements.lock"),
        ],
        cwd=tmp_path,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    version = _run([str(venv / "bin" / "regwatch"), "--version"], cwd=elsewhere)
    assert version.stdout.strip() == "regwatch 0.1.0"
    # the other package's names are untouched, and regwatch's web and config are its own
    owners = _run(
        [
            str(py),
            "-c",
            "import web, config, regwatch.web, regwatch.config; "
            "print(web.OWNER, config.OWNER, regwatch.web.__name__, regwatch.config.__name__)",
        ],
        cwd=elsewhere,
    )
    assert owners.stdout.split() == ["clash-web", "clash-config", "regwatch.web", "regwatch.config"]
    demo = _run(
        [str(venv / "bin" / "regwatch"), "demo", "--out", str(elsewhere / "out")], cwd=elsewhere
    )
    assert "sources: 7 ok, 1 failed" in demo.stdout, demo.stdout
    assert (elsewhere / "out" / "digest.html").is_file()
    assert list((elsewhere / "out" / "mail").glob("*.eml"))
    serve_import = _run(
        [str(py), "-c", "from regwatch.web import WebOptions; print(WebOptions.__module__)"],
        cwd=elsewhere,
    )
    assert serve_import.stdout.startswith("regwatch.web")


def test_no_module_imports_a_bare_top_level_name() -> None:
    """Every import of regwatch's own code goes through `regwatch.`: a bare `import store` works
    from the source tree (mypy and scripts run from the root see it) but not from the wheel."""
    import ast

    own = {p.stem for p in ROOT.glob("*.py") if p.stem != "__init__"}
    own |= {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "bench"}
    assert {"store", "nlp", "web", "config", "cli"} <= own
    bad = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in {".venv", "build"} or rel.parts[:2] == ("demo", "site"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            bad += [f"{rel}:{node.lineno}: {n}" for n in names if n.split(".")[0] in own]
    assert not bad, "import these as regwatch.…:\n" + "\n".join(bad)
