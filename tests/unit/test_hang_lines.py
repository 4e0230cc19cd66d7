"""Where a stopped program was: the loop it spun in, whichever of its lines the kill landed on."""
import ast

from grader.verdicts.common import _hang_lines

SOURCE = ast.parse("import time\nwhile True:\n    x = 1\n    for i in range(9):\n        pass\ntime.sleep(1)\n")


def dump(*lines: int) -> str:
    return "\n\n".join('Thread 0x7f0000001000 (most recent call first):\n'
                       f'  File "spin.py", line {ln} in <module>\n' for ln in lines)


def test_a_line_inside_a_loop_is_named_by_its_innermost_loop():
    assert _hang_lines(dump(3), "spin.py", SOURCE) == ["2"]
    assert _hang_lines(dump(2), "spin.py", SOURCE) == ["2"]
    assert _hang_lines(dump(5), "spin.py", SOURCE) == ["4"]


def test_a_line_outside_loops_stays_and_threads_on_one_loop_are_named_once():
    assert _hang_lines(dump(6, 3, 2), "spin.py", SOURCE) == ["6", "2"]
    assert _hang_lines(dump(3), "spin.py", None) == ["3"]  # a program that did not parse
