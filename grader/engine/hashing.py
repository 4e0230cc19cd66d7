"""blake2b without hashlib: hashlib loads OpenSSL, which the engine's child (and a grading's start)
would wait for. A leaf: nothing of the grader imported."""

try:
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - a Python built without it
    from hashlib import blake2b

__all__ = ["blake2b"]
