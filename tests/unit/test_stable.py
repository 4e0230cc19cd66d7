"""What differs between two runs for reasons not the program's is made the same (pure)."""
from grader.runner.stable import Stabilizer

ROOT = "/tmp/grader-ab12cd"


def test_addresses_get_stand_ins_in_order_and_keep_identity():
    s = Stabilizer(ROOT)
    a = s.text("<function f at 0x7f1a4f2d2ac0> <function g at 0x7f1a4f2d2b40>")
    b = s.text("again <function f at 0x7F1A4F2D2AC0>")
    assert a == "<function f at 0x7f0000001000> <function g at 0x7f0000001040>"
    assert b == "again <function f at 0x7f0000001000>"
    # Two runs that saw different addresses read the same.
    assert Stabilizer(ROOT).text("at 0x55d0c0ffee00") == Stabilizer("/tmp/grader-zz").text("at 0x7fffdeadbeef")


def test_short_hex_numbers_are_the_programs_own():
    assert Stabilizer(ROOT).text("flags 0xff and 0x1234") == "flags 0xff and 0x1234"


def test_the_run_folder_disappears_from_paths_and_a_hang_dump_reads_the_same():
    dump = (f'Current thread 0x00007f096d871b80 (most recent call first):\n'
            f'  File "{ROOT}/work/1/course/counter_lck.py", line 3 in <module>\n')
    other = dump.replace("0x00007f096d871b80", "0x00007f3918c23b80")
    assert Stabilizer(ROOT).text(dump) == Stabilizer(ROOT).text(other)
    assert 'File "counter_lck.py", line 3' in Stabilizer(ROOT).text(dump)
    assert Stabilizer(ROOT).text(f"{ROOT}/log/engine.err") == "<scratch>/log/engine.err"
    assert Stabilizer(ROOT).text(f"{ROOT}x/other") == f"{ROOT}x/other"  # another folder is left alone


def test_events_are_rewritten_in_place_only_in_the_programs_words():
    events = [{"k": "out", "s": "<object at 0x7f00aa00bb00>\n"}, {"k": "exc", "msg": "x at 0x7f00aa00bb00"},
              {"k": "read", "val": "<Foo at 0x7f00cc00dd00>", "obj": 140234}, {"k": "write", "val": 3}]
    Stabilizer(ROOT).events(events)
    assert events[0]["s"] == "<object at 0x7f0000001000>\n" and events[1]["msg"] == "x at 0x7f0000001000"
    assert events[2] == {"k": "read", "val": "<Foo at 0x7f0000001040>", "obj": 140234} and events[3]["val"] == 3


def test_a_hang_dump_keeps_the_students_frames_only():
    dump = ('Current thread 0x00007f096d871b80 (most recent call first):\n'
            f'  File "{ROOT}/work/1/course/counter_lck.py", line 2 in <module>\n'
            '  File "/venv/lib/grader/engine/bootstrap.py", line 139 in _run\n'
            '  File "/venv/lib/grader/engine/child.py", line 12 in main\n'
            '  File "<string>", line 1 in <module>\n')
    assert Stabilizer(ROOT, "/venv/lib/grader").text(dump) == (
        'Current thread 0x7f0000001000 (most recent call first):\n'
        '  File "counter_lck.py", line 2 in <module>\n')


def test_every_value_the_program_made_is_stabilised_the_engines_fields_are_not():
    s = Stabilizer("/tmp/grader-abc")
    events = [{"k": "call", "args": [{"k": "<a at 0x7fd6b6c17210>"}, "<b at 0x7fd6b6c17999>", 3], "obj": 5},
              {"k": "enum", "threads": [{"repr": "<T at 0x7fd6b6c17210>", "ident": 140000}]},
              {"k": "write", "key": "<a at 0x7fd6b6c17210>", "val": 1, "pid": 77}]
    s.events(events)
    assert events[0]["args"] == [{"k": "<a at 0x7f0000001000>"}, "<b at 0x7f0000001040>", 3]
    assert events[1]["threads"][0]["repr"] == "<T at 0x7f0000001000>" and events[1]["threads"][0]["ident"] == 140000
    assert events[2]["key"] == "<a at 0x7f0000001000>" and events[2]["pid"] == 77 and events[0]["obj"] == 5
