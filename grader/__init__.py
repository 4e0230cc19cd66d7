"""The concurrency grader: deterministic grading of Python threading/multiprocessing exercises."""

__version__ = "0.1.0"
