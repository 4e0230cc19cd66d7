"""The FizzBuzz result, as the three FizzBuzz exercises (threads, Timer, processes) judge it."""
import ast

from grader.model import Failure, Msg


def call_line(tree) -> int | None:
    """The line of the program's first call ``fizz_buzz(...)`` written out (a call record names
    only the function's own line); None where it is only called otherwise (``run()``, a target)."""
    lines = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
             and n.func.id == "fizz_buzz"] if tree is not None else []
    return min(lines, default=None)


def fizz_buzz(num):
    """The correct list for 1..num."""
    return ["FizzBuzz" if i % 15 == 0 else "Fizz" if i % 3 == 0 else "Buzz" if i % 5 == 0 else i
            for i in range(1, num + 1)]


def spelling(item):
    """An item as the check compares it: the slides fix no spelling, so a number may be an ``int``
    or its ``str`` and the words may come in any letter case (``Fizz``, ``fizz``, ``FIZZ``)."""
    if isinstance(item, str):
        text = item.strip()
        if text.isascii() and text.isdigit():
            return int(text)
        return text.lower()
    return item


def difference(got, want: list) -> Msg:
    """What is wrong with a returned list, in one line: its length, or its first wrong item."""
    if not isinstance(got, (list, tuple)):
        return Msg(f"戻り値: {got!r}（リストではありません）", f"returned: {got!r} (not a list)")
    i = next((i for i, (a, b) in enumerate(zip(got, want)) if spelling(a) != spelling(b)), None)
    if i is not None:
        prefix_ja = "" if len(got) == len(want) else f"{len(got)} 要素のリスト（正しくは {len(want)} 要素）。"
        prefix_en = "" if len(got) == len(want) else f"a list of {len(got)} items (should be {len(want)}); "
        return Msg(f"{prefix_ja}{i} 番目（{i + 1} のところ）が {got[i]!r}（正しくは {want[i]!r}）",
                   f"{prefix_en}item {i} (for {i + 1}) is {got[i]!r}, should be {want[i]!r}")
    if len(got) < len(want):
        return Msg(f"{len(got)} 要素で終わっています（正しくは {len(want)} 要素: {want[len(got)]!r} から後がありません）",
                   f"the list stops after {len(got)} items (should be {len(want)}: {want[len(got)]!r} and after are missing)")
    return Msg(f"{len(got)} 要素あります（正しくは {len(want)} 要素: {got[len(want)]!r} から後は余分）",
               f"the list has {len(got)} items (should be {len(want)}: {got[len(want)]!r} and after are extra)")


def wrong_result(num: int, got, where: Msg, runner: Msg | None = None) -> Failure | None:
    """The failure of a call ``fizz_buzz(num)`` that returned ``got`` (``runner``: the thread or
    process that ran it), or None when ``got`` is the FizzBuzz list of 1..num."""
    want = fizz_buzz(num)
    if isinstance(got, (list, tuple)) and [spelling(x) for x in got] == [spelling(x) for x in want]:
        return None
    ja = f"（{runner.ja}）" if runner else ""
    en = f" (in {runner.en})" if runner else ""
    return Failure(
        summary=Msg(f"fizz_buzz({num}) の結果が正しくありません{ja}", f"fizz_buzz({num}) returns a wrong list{en}"),
        expected=Msg(f"1 から {num} までの FizzBuzz: [1, 2, 'Fizz', 4, 'Buzz', …]",
                     f"FizzBuzz of 1..{num}: [1, 2, 'Fizz', 4, 'Buzz', …]"),
        observed=difference(got, want), where=where)
