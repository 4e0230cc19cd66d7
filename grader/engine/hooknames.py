"""The builtin names the instrumented code calls, shared by the rewrite and the hooks (a leaf)."""


def hook_name(hook: str) -> str:
    """``getitem`` -> ``__grader_getitem__``: dunder names are never mangled in class bodies."""
    return f"__grader_{hook}__"
