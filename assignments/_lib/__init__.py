"""Helpers the exercises of this course share: importable from every checks.py as ``_lib``."""
