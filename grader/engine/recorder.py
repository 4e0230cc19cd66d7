"""Writes the child's events (see ``events``) and captures what the program prints."""
from __future__ import annotations

import io
import json
import math
import sys

from . import real
from .events import _ENCODE, encode, jsonable, seal

_STR = json.encoder.encode_basestring  # the C one: quotes, escapes controls, keeps non-ASCII as it is


def _json(v) -> str:
    """One recorded scalar (or small list) as JSON text, without building a dict for it."""
    t = type(v)
    if t is str:
        return _STR(v)
    if t is int:
        return int.__repr__(v)
    if v is None:
        return "null"
    if t is bool:
        return "true" if v else "false"
    if t is float and math.isfinite(v):
        return float.__repr__(v)
    return _ENCODE(v)


class Recorder:
    """Appends events to the run's events file; knows the script path to locate lines."""

    def __init__(self, fd: int, script: str, clock, output_cap: int, on_overflow, key: bytes | None = None):
        self.fd = fd
        self.key = key
        self.script = script
        self.clock = clock            # () -> (vid, name, virtual time)
        self.output_cap = output_cap
        self.on_overflow = on_overflow
        self.output_bytes = 0
        self.n = 0
        self.pid = real.getpid()
        self.ids: dict[int, int] = {}
        self.keep: list = []          # keeps recorded objects alive so ids are not reused
        self.pending: list | None = None  # [vid, stream, text, ln]: adjacent writes are merged
        self.buffer: list[bytes] = []     # encoded lines not yet written (one write per flush)
        self.buffered = 0
        self.busy = False                 # inside a write: a signal's flush must wait
        self._names: dict[str, str] = {}  # thread names as JSON text
        self.before_event = None
        """Called before any event but an access is written (the memory's stretch ends)."""

    def next_n(self) -> int:
        """The sequence number of the next access (kept for it, whether written down now or later)."""
        self.n += 1
        return self.n

    def access(self, kind: str, n: int, ts, now: float, oid: int, sp, key, val, site, st: int, sb: int,
               op: str, missing: bool) -> None:
        """One read or write as an event line, made directly (the hot path of a racy program)."""
        self.busy = True
        if self.pending is not None:
            self._flush_output()
        name = ts.name
        tn = self._names.get(name)
        if tn is None:
            tn = self._names[name] = _STR(name)
        text = (f'{{"k":"{kind}","n":{n},"pid":{self.pid},"th":{ts.vid},"tn":{tn},"t":{_json(round(now, 6))},'
                f'"obj":{oid},"key":{_json(key)},"val":{_json(val)},"si":{_json(site)},"st":{st},"sb":{sb},'
                f'"op":{_json(op)}')
        if sp:
            text += f',"sp":"{sp}"'
        if missing:
            text += ',"missing":true'
        line = (text + "}").encode("utf-8")
        if self.key:
            line += b"\t" + seal(line, self.key)
        line += b"\n"
        self.buffer.append(line)
        self.buffered += len(line)
        if self.buffered > 32768:
            self._drain()
        self.busy = False

    def after_fork(self) -> None:
        self.pid = real.getpid()
        self.forked_at = self.n  # the parent's last event before the fork: where this process began
        self.n = 0
        self.pending = None
        self.buffer, self.buffered = [], 0  # the parent flushed before forking

    def oid(self, obj) -> int:
        """A small, run-stable id for an object."""
        key = id(obj)
        found = self.ids.get(key)
        if found is None:
            found = self.ids[key] = len(self.ids) + 1
            self.keep.append(obj)
        return found

    def line(self, depth: int = 2) -> int | None:
        """The innermost line of the submission on the calling stack."""
        frame = sys._getframe(depth)
        script = self.script
        while frame is not None:
            if frame.f_code.co_filename == script:
                return frame.f_lineno
            frame = frame.f_back
        return None

    def emit(self, kind: str, /, **fields) -> None:
        """Write one event (flushing any merged output first)."""
        if self.before_event is not None:
            self.before_event()
        self.busy = True
        if self.pending is not None:
            self._flush_output()
        self._write(kind, fields)
        self.busy = False

    def _write(self, kind: str, fields: dict, who=None) -> None:
        vid, name, now = who or self.clock()
        self.n += 1
        event = {"k": kind, "n": self.n, "pid": self.pid, "th": vid, "tn": name, "t": round(now, 6)}
        event.update(fields)
        line = encode(event, self.key)
        self.buffer.append(line)
        self.buffered += len(line)
        if self.buffered > 32768:
            self._drain()

    def _drain(self) -> None:
        """Write the buffered lines: at exit, before a fork, at a stop, or when the buffer fills.

        A run killed from outside loses at most this buffer; the verdict then rests on how it
        ended, not on its last events.
        """
        data, self.buffer, self.buffered = b"".join(self.buffer), [], 0
        while data:
            try:
                written = real.write(self.fd, data)
            except OSError:
                return
            data = data[written:]

    # -- output --------------------------------------------------------------------------------

    def output(self, stream: str, text: str, ln: int | None) -> None:
        """Text the program printed; merged with the previous write of the same thread."""
        size = len(text.encode("utf-8", "replace"))
        self.output_bytes += size
        if self.output_bytes > self.output_cap:
            self.flush()
            self._write("limit", {"what": "output", "detail": {"bytes": self.output_bytes,
                                                               "cap": self.output_cap}})
            self.on_overflow()
            return
        if self.before_event is not None:
            self.before_event()
        who = self.clock()
        self.busy = True
        p = self.pending
        if p is not None and p[0] == who and p[1] == stream:
            p[2] += text
            if p[3] is None:
                p[3] = ln
        else:
            if p is not None:
                self._flush_output()
            self.pending = [who, stream, text, ln]
        if len(self.pending[2]) > 8192:
            self._flush_output()
        self.busy = False

    def _flush_output(self) -> None:
        who, stream, text, ln = self.pending
        self.pending = None
        fields = {"stream": stream, "s": text}
        if ln is not None:
            fields["ln"] = ln
        self._write("out", fields, who)

    def flush(self) -> None:
        """Everything recorded so far, onto the events file."""
        self.busy = True
        if self.pending is not None:
            self._flush_output()
        if self.buffer:
            self._drain()
        self.busy = False

    def flush_on_signal(self, *_) -> None:
        """A signal handler: the runner is about to kill this run (it hangs); what it printed and
        did so far reaches the events file, unless the signal came in the middle of a write."""
        if not self.busy:
            self.flush()


class Capture(io.TextIOBase):
    """``sys.stdout``/``sys.stderr`` replacement that reports each write as an event."""

    def __init__(self, recorder: Recorder, stream: str, fileno: int):
        self._rec = recorder
        self._stream = stream
        self._fileno = fileno
        self.buffer = _BytesShim(self)

    @property
    def encoding(self):
        return "utf-8"

    @property
    def errors(self):
        return "strict" if self._stream == "out" else "backslashreplace"

    def write(self, s):
        if not isinstance(s, str):
            raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        n = len(s)
        if s:
            if not s.isascii():  # what the interpreter's own streams do with what UTF-8 cannot encode
                if self._stream == "out":
                    s.encode("utf-8")  # a lone surrogate raises UnicodeEncodeError at the print, as in Python
                else:
                    s = s.encode("utf-8", "backslashreplace").decode("utf-8")
            self._rec.output(self._stream, s, self._rec.line(2))
        return n

    def flush(self):
        self._rec.flush()

    def isatty(self):
        return False

    def writable(self):
        return True

    def fileno(self):
        return self._fileno


class _BytesShim:
    """``sys.stdout.buffer`` for programs that write bytes."""

    def __init__(self, text: Capture):
        self._text = text

    def write(self, b):
        self._text.write(bytes(b).decode("utf-8", "replace"))
        return len(b)

    def flush(self):
        self._text.flush()


def value(v):
    """An event-safe copy of a recorded value."""
    return jsonable(v, 80)

