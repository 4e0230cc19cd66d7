"""Which exercise a submission is for, from its file name.

Students rename files (``s2212345_counter_lck.py``), browsers add copies (``counter_lck (1).py``)
and caps lock happens (``Counter_LCK.py``): we compare normalised names, not exact ones.
"""
from __future__ import annotations

import difflib
import os
import re
import unicodedata
from typing import Iterable

from ..model import Msg

GRADABLE_SUFFIXES = (".py", ".ipynb")


def normalise(name: str) -> str:
    """Fold a name for matching: NFKC (full-width letters), casefold, drop ``-``, ``_`` and spaces."""
    return re.sub(r"[\s_\-]+", "", unicodedata.normalize("NFKC", name).casefold())


def _stem(path: str) -> str | None:
    """The file name without its .py/.ipynb suffix, or None for any other kind of file."""
    base = os.path.basename(os.fspath(path).rstrip("/\\"))
    for suffix in GRADABLE_SUFFIXES:
        if base.casefold().endswith(suffix):
            return base[: -len(suffix)]
    return None


def _matches(stem: str, known_ids: Iterable[str]) -> list[str]:
    """The known ids found in ``stem``, longest (normalised) first, then by name."""
    key = normalise(stem)
    found = [i for i in set(known_ids) if normalise(i) and normalise(i) in key]
    return sorted(found, key=lambda i: (-len(normalise(i)), i))


def infer_exercise(path: str, known_ids: Iterable[str]) -> str | None:
    """The known exercise id that the file name at ``path`` contains, or None.

    Only ``.py`` and ``.ipynb`` files qualify. The longest match wins (an id that contains
    another); two different ids of the same length both present are ambiguous: None.
    """
    stem = _stem(path)
    if stem is None:
        return None
    found = _matches(stem, known_ids)
    if not found:
        return None
    if len(found) > 1 and len(normalise(found[1])) == len(normalise(found[0])):
        return None
    return found[0]


def _known(known_ids: Iterable[str]) -> str:
    return ", ".join(sorted(set(known_ids)))


def _close(name: str, known_ids: Iterable[str]) -> str | None:
    """The known id closest to ``name`` (difflib, on normalised names), if any is close."""
    by_norm = {normalise(i): i for i in sorted(set(known_ids))}
    hit = difflib.get_close_matches(normalise(name), list(by_norm), n=1, cutoff=0.6)
    return by_norm[hit[0]] if hit else None


def unknown_exercise_message(given: str | None, known_ids: Iterable[str]) -> Msg:
    """One line for ``--exercise`` naming no known exercise: the known ids, and a close one."""
    ids = sorted(set(known_ids))
    if not given:
        return Msg(ja=f"課題が指定されていません。課題: {_known(ids)}",
                   en=f"no exercise given. Known exercises: {_known(ids)}")
    close = _close(given, ids)
    hint_ja = f"もしかして {close} ですか？ " if close else ""
    hint_en = f"Did you mean {close}? " if close else ""
    return Msg(ja=f"課題 {given} はありません。{hint_ja}課題: {_known(ids)}",
               en=f"unknown exercise {given}. {hint_en}Known exercises: {_known(ids)}")


def cannot_infer_message(path: str, known_ids: Iterable[str]) -> Msg:
    """One line for a file whose name tells no exercise: why, and ``--exercise ID``."""
    ids = sorted(set(known_ids))
    base = os.path.basename(os.fspath(path).rstrip("/\\"))
    stem = _stem(path)
    if stem is None:
        return Msg(
            ja=f"{base} は採点できません（.py か .ipynb のファイルを指定してください）。",
            en=f"cannot grade {base}: give a .py or .ipynb file.",
        )
    found = _matches(stem, ids)
    if len(found) > 1:
        which = ", ".join(found)
        return Msg(
            ja=f"{base} の名前に複数の課題名（{which}）が含まれていて、どの課題か決められません。--exercise ID で指定してください。",
            en=f"cannot tell which exercise {base} is for: its name contains several ({which}). Use --exercise ID.",
        )
    close = _close(stem, ids)
    hint_ja = f"（もしかして {close}？）" if close else ""
    hint_en = f" (did you mean {close}?)" if close else ""
    return Msg(
        ja=f"{base} がどの課題か、ファイル名から分かりません{hint_ja}。--exercise ID で指定してください。課題: {_known(ids)}",
        en=f"cannot tell which exercise {base} is for from its name{hint_en}. Use --exercise ID. Known exercises: {_known(ids)}",
    )
