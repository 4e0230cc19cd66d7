"""Reading the course's YAML files, with a parsed copy kept so that a grading need not import YAML.

Importing PyYAML costs a grading as much as running one schedule of the program. A file is
parsed once; its content is kept as JSON in the user's cache folder under a key of its path, size
and modification time (and this module's format), so an edited file is simply read again. A cache
that cannot be read or written only costs the next read its parse.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from ..engine.hashing import blake2b
from ..usercache import cache_path, write_atomic

_FORMAT = "1"


def read_yaml(path: Path):
    """The data of the YAML file at ``path``."""
    st = os.stat(path)
    key = f"{_FORMAT}|{os.path.realpath(path)}|{st.st_size}|{st.st_mtime_ns}"
    cached = cache_path("yaml", blake2b(key.encode(), digest_size=12).hexdigest() + ".json")
    try:
        with open(cached, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        pass
    import yaml  # only on a miss

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml where PyYAML has it: 10x faster
    with open(path, encoding="utf-8") as f:
        data = yaml.load(f, Loader=loader)
    try:
        json.dumps(data)  # only what JSON keeps as it is is kept (YAML's dates, say, are not)
    except (TypeError, ValueError):
        return data
    try:
        write_atomic(cached, json.dumps(data, ensure_ascii=False))
    except OSError:
        pass
    return data
