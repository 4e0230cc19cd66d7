"""The version a build carries (hatch_build.py): a new commit gives a newer version, an sdist keeps
the version it was made with, a copy without history builds as the release."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def hook():
    """hatch_build.py, loaded with stand-ins for hatchling's interfaces where it is not installed
    (it is only in the build's own environment)."""
    saved = {}
    try:
        import hatchling  # noqa: F401
    except ImportError:
        for name in ("hatchling", "hatchling.builders", "hatchling.builders.hooks", "hatchling.builders.hooks.plugin",
                     "hatchling.builders.hooks.plugin.interface", "hatchling.metadata",
                     "hatchling.metadata.plugin", "hatchling.metadata.plugin.interface"):
            saved[name] = sys.modules.get(name)
            sys.modules[name] = types.ModuleType(name)
        sys.modules["hatchling.builders.hooks.plugin.interface"].BuildHookInterface = object
        sys.modules["hatchling.metadata.plugin.interface"].MetadataHookInterface = object
    spec = importlib.util.spec_from_file_location("hatch_build_under_test", ROOT / "hatch_build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    for name, old in saved.items():
        if old is None:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = old


def project(tmp_path: Path) -> Path:
    (tmp_path / "grader").mkdir()
    (tmp_path / "grader" / "__init__.py").write_text('"""x"""\n\n__version__ = "1.2.0"\n', encoding="utf-8")
    return tmp_path


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=root, check=True,
                   capture_output=True)


def test_each_commit_builds_a_newer_version(hook, tmp_path):
    root = project(tmp_path)
    assert hook.build_version(str(root)) == "1.2.0"  # no history: the release
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-qm", "one")
    first = hook.build_version(str(root))
    (root / "grader" / "checks.py").write_text("# an edited exercise\n", encoding="utf-8")
    git(root, "add", ".")
    git(root, "commit", "-qm", "two")
    second = hook.build_version(str(root))
    assert (first, second) == ("1.2.0.post1", "1.2.0.post2")


def test_an_unpacked_sdist_keeps_its_version(hook, tmp_path):
    root = project(tmp_path)
    (root / "grader" / "_version.py").write_text('__version__ = "1.2.0.post7"\n', encoding="utf-8")
    assert hook.build_version(str(root)) == "1.2.0.post7"
