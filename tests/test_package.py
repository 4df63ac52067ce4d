"""errorrules as a package: bundled rulesets by name, the engines command, the licence, the API
reference, and a wheel that installs into a fresh venv and decides the examples by name."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

import errorrules
from errorrules._cli import engines
from errorrules._cli.main import main
from errorrules._load import bundled

from conftest import MINI, ROOT

BUNDLED = ("cn-traffic-points-2022", "party-office")
IN_CI = os.environ.get("CI") == "true"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------- rulesets by name


def test_the_package_link_is_the_repository_rulesets_folder() -> None:
    # A copy would drift from the rulesets the tests and docs name; the link cannot.
    assert bundled.BUNDLED.is_symlink()
    assert bundled.BUNDLED.resolve() == (ROOT / "rulesets").resolve()
    assert bundled.names() == BUNDLED


@pytest.mark.parametrize("name", BUNDLED)
def test_a_bundled_ruleset_loads_by_name_from_anywhere(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    by_path = errorrules.load(ROOT / "rulesets" / name)
    monkeypatch.chdir(tmp_path)
    by_name = errorrules.load(name)
    # The hash covers the folder's own name and the files: one ruleset, however it is named.
    assert by_name.sha256 == by_path.sha256
    assert by_name.id == by_path.id


def test_every_ruleset_command_takes_a_bundled_name(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    incidents = (ROOT / "examples" / "incidents.jsonl").resolve()
    monkeypatch.chdir(ROOT)
    code, by_path, _ = run(capsys, "decide", "rulesets/party-office", str(incidents))
    assert code == 0
    monkeypatch.chdir(tmp_path)
    code, by_name, _ = run(capsys, "decide", "party-office", str(incidents))
    assert code == 0 and by_name == by_path  # byte-identical decisions
    code, out, _ = run(capsys, "check", "party-office")
    assert code == 0 and "ok: party-office" in out
    code, out, _ = run(capsys, "test", "cn-traffic-points-2022")
    assert code == 0 and re.search(r"^[1-9]\d* passed, 0 failed$", out, re.MULTILINE)
    code, out, _ = run(capsys, "schema", "--incident", "party-office")
    assert code == 0 and '"occurred_at"' in out


def test_a_folder_of_that_name_wins_over_the_bundled_ruleset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "party-office").mkdir()
    (tmp_path / "party-office" / "ruleset.yaml").write_bytes((MINI / "ruleset.yaml").read_bytes())
    monkeypatch.chdir(tmp_path)
    assert errorrules.load("party-office").id == "mini"


def test_an_unknown_name_lists_the_bundled_ones(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(FileNotFoundError) as caught:
        errorrules.load("party-ofice")
    assert "bundled: cn-traffic-points-2022, party-office" in str(caught.value)
    code, out, err = run(capsys, "check", "party-ofice")
    assert code == 2 and out == ""
    assert err.strip() == (
        "errorrules: no ruleset at 'party-ofice': it is not a file or folder, nor a bundled "
        "ruleset (bundled: cn-traffic-points-2022, party-office)"
    )
    code, _, err = run(capsys, "decide", "nowhere/party-office", "-")
    assert code == 2 and "no ruleset at 'nowhere/party-office'" in err


# --------------------------------------------------------------------------- engines


def test_both_engines_run_here_in_ci(capsys: pytest.CaptureFixture[str]) -> None:
    """CI proves both engines on every Python: there an unusable rete engine is a failure, not
    the skips the rete tests show elsewhere."""
    code, out, _ = run(capsys, "engines")
    assert out.splitlines()[1].startswith("python  usable")
    if code != 0 and not IN_CI:
        pytest.skip(f"the rete engine cannot run here:\n{out}")
    assert code == 0, out
    assert out.splitlines()[2].startswith("rete    usable")


def test_engines_says_why_rete_cannot_run_and_how_to_fix_it() -> None:
    probe = "import sys; sys.modules['durable'] = None; from errorrules._cli.main import main; "
    done = subprocess.run(
        [sys.executable, "-c", probe + "sys.exit(main(['engines']))"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"Python {sys.version_info.major}.{sys.version_info.minor}.")
    assert lines[1].startswith("python  usable")
    assert lines[2].startswith("rete    not usable: ") and "durable" in lines[2]
    assert lines[3].strip().startswith("fix: ")
    assert f"{sys.executable} -m pip install --force-reinstall" in lines[3]


def test_the_fix_on_313_builds_durable_from_its_sdist_with_the_flag(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pin = engines.durable_requirement()
    pinned = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    assert any(dep.startswith(f"{pin};") for dep in pinned["dependencies"]), pin
    monkeypatch.setattr(sys, "version_info", (3, 13, 0, "final", 0))
    line = engines.fix_command()
    assert line.startswith("CPPFLAGS=-DPyEval_CallObject=PyObject_CallObject ")
    assert "--no-binary durable-rules --no-cache-dir" in line and line.endswith(pin)
    monkeypatch.setattr(sys, "version_info", (3, 12, 1, "final", 0))
    assert "CPPFLAGS" not in engines.fix_command()


# --------------------------------------------------------------------------- licence, API docs


def test_the_licence_is_the_apache_text_and_pyproject_says_so_in_spdx() -> None:
    text = (ROOT / "LICENSE").read_text("utf-8")
    assert "Apache License\n                           Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text and "APPENDIX" in text
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    assert project["license"] == "Apache-2.0"
    assert project["license-files"] == ["LICENSE"]


def test_the_api_reference_covers_every_exported_name() -> None:
    page = (ROOT / "docs" / "api.md").read_text("utf-8")
    documented = re.findall(r"^::: errorrules\.(\w+)$", page, re.MULTILINE)
    assert sorted(documented) == sorted(errorrules.__all__)
    assert len(documented) == len(set(documented))


# --------------------------------------------------------------------------- the wheel


def _run(*argv: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    """Standard output of a command that must succeed (its stderr shown when it does not)."""
    done = subprocess.run(
        [str(a) for a in argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        env=env,
    )
    assert done.returncode == 0, f"{argv}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _source_tree(dest: Path) -> Path:
    """What the sdist is made from, copied (links kept), so the build writes nothing here."""
    skip = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in ("src", "rulesets"):
        shutil.copytree(ROOT / name, dest / name, symlinks=True, ignore=skip)
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, dest / name)
    return dest


def _build(dist: Path, tree: Path) -> tuple[Path, Path, str]:
    """The sdist and the wheel built from it, as ``python -m build`` makes them, and its log."""
    pytest.importorskip("build", reason="the build frontend is in the test extra: make install")
    done = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(dist), str(tree)],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (sdist,) = dist.glob("errorrules-*.tar.gz")
    (wheel,) = dist.glob("errorrules-*.whl")
    return sdist, wheel, done.stdout + done.stderr


def _check_contents(sdist: Path, wheel: Path) -> None:
    """Both carry the bundled rulesets as files (not the link) and the licence."""
    top = sdist.name.removesuffix(".tar.gz")
    with tarfile.open(sdist) as tar:
        assert tar.getmember(f"{top}/src/errorrules/rulesets/party-office/ruleset.yaml").isfile()
        assert tar.getmember(f"{top}/LICENSE").isfile()
    with zipfile.ZipFile(wheel) as whl:
        inside = set(whl.namelist())
        meta = whl.read(next(n for n in inside if n.endswith(".dist-info/METADATA"))).decode()
    for name in BUNDLED:
        files = (p for p in (ROOT / "rulesets" / name).rglob("*") if p.is_file())
        wanted = {f"errorrules/{p.relative_to(ROOT).as_posix()}" for p in files}
        assert wanted <= inside, sorted(wanted - inside)
    assert "License-Expression: Apache-2.0" in meta
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in inside)


def _fresh_venv(venv: Path, wheel: Path) -> Path:
    """A new venv with the wheel installed as a pip user would, rete included; its python."""
    _run(sys.executable, "-m", "venv", venv, cwd=venv.parent)
    py = venv / "bin" / "python"
    _run(py, "-m", "pip", "install", "--quiet", wheel, cwd=venv.parent)
    if sys.version_info >= (3, 13):  # what the README tells a pip user on 3.13 and later
        env = {**os.environ, "CPPFLAGS": "-DPyEval_CallObject=PyObject_CallObject"}
        pip = (py, "-m", "pip", "install", "--quiet", "--no-binary", "durable-rules")
        _run(*pip, "--no-cache-dir", engines.durable_requirement(), cwd=venv.parent, env=env)
    return py


@pytest.mark.slow
def test_the_wheel_installs_in_a_fresh_venv_and_decides_the_examples_by_name(
    tmp_path: Path,
) -> None:
    sdist, wheel, log = _build(tmp_path / "dist", _source_tree(tmp_path / "tree"))
    assert "Deprecat" not in log and "!!" not in log, log  # setuptools' warnings look so
    _check_contents(sdist, wheel)
    venv = tmp_path / "fresh"
    py = _fresh_venv(venv, wheel)
    work = tmp_path / "elsewhere"  # no rulesets/ folder here: the name must find the package's
    work.mkdir()
    code = "import errorrules; print(errorrules.load('party-office').model.root)"
    root = Path(_run(py, "-c", code, cwd=work).strip())
    assert root.is_relative_to(venv), root
    cli = venv / "bin" / "errorrules"
    shown = _run(cli, "engines", cwd=work)
    assert "rete    usable" in shown, shown
    incidents = ROOT / "examples" / "incidents.jsonl"
    here = (sys.executable, "-m", "errorrules._cli.main", "decide", "rulesets/party-office")
    for engine in errorrules.ENGINES:
        with_repo = _run(*here, incidents, "--engine", engine, cwd=ROOT)
        from_wheel = _run(cli, "decide", "party-office", incidents, "--engine", engine, cwd=work)
        assert from_wheel == with_repo, engine  # byte-identical to the repository's decisions
    tested = _run(cli, "test", "party-office", "--engine", "both", cwd=work)
    assert re.search(r"^[1-9]\d* passed, 0 failed$", tested, re.MULTILINE), tested
