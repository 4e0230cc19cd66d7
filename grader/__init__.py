"""The concurrency grader: deterministic grading of Python threading/multiprocessing exercises."""

__version__ = "0.1.0"
"""The release; a built copy says how many commits past it it was made (``_version.py``)."""
try:
    from ._version import __version__  # noqa: F401  (written by the build: hatch_build.py)
except ImportError:  # a checkout used in place: installed editable, its metadata says the build
    try:
        from importlib.metadata import PackageNotFoundError, version

        __version__ = version("concurrency-grader")
    except (ImportError, PackageNotFoundError):
        pass
