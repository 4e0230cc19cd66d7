"""Build-time version: the release in grader/__init__.py, plus how many commits the build is past it.

A rebuilt wheel must carry a new version, or ``pip install -U`` keeps a student's old exercises.
The commit count of the checkout gives every build of a new commit a higher version
(``0.1.0.post412``) with no tag to maintain; an sdist keeps the version it was made with
(``grader/_version.py``, written into it), and a copy without git history builds as the release.
"""
from __future__ import annotations

import os
import re
import subprocess
import tempfile

from hatchling.builders.hooks.plugin.interface import BuildHookInterface
from hatchling.metadata.plugin.interface import MetadataHookInterface

WRITTEN = os.path.join("grader", "_version.py")


def build_version(root: str) -> str:
    """The version a build of ``root`` carries."""
    written = os.path.join(root, WRITTEN)
    if os.path.isfile(written):  # an unpacked sdist
        with open(written, encoding="utf-8") as f:
            return re.search(r'__version__ = "([^"]+)"', f.read()).group(1)
    with open(os.path.join(root, "grader", "__init__.py"), encoding="utf-8") as f:
        release = re.search(r'^__version__ = "([^"]+)"', f.read(), re.MULTILINE).group(1)
    try:
        count = subprocess.run(["git", "rev-list", "--count", "HEAD"], cwd=root, capture_output=True, text=True,
                               timeout=30, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return release
    return f"{release}.post{count}" if count.isdigit() else release


class VersionMetadataHook(MetadataHookInterface):
    """``version`` from ``build_version``."""

    def update(self, metadata: dict) -> None:
        metadata["version"] = build_version(self.root)


class VersionFileHook(BuildHookInterface):
    """Writes ``grader/_version.py`` into the wheel and the sdist, so the installed grader says
    (``grade --version``, reports, cache keys) the version it was built as."""

    def initialize(self, version: str, build_data: dict) -> None:
        if os.path.isfile(os.path.join(self.root, WRITTEN)):
            return  # an unpacked sdist already holds it
        fd, path = tempfile.mkstemp(suffix=".py", prefix="grader_version_")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(f'"""Written by the build (hatch_build.py)."""\n__version__ = "{self.metadata.version}"\n')
        build_data["force_include"][path] = WRITTEN.replace(os.sep, "/")


def get_metadata_hook():
    return VersionMetadataHook


def get_build_hook():
    return VersionFileHook
