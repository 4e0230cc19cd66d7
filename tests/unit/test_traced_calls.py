"""A traced function's call as the slides write it, however the program wrote it: keywords at their
places, no method's ``self``, a static method still static (the checks read ``args[0]`` as the size)."""
from __future__ import annotations

from grader.engine import hooks
from grader.engine.hooks import _as_called


def fizz_buzz(num, bgn0, sep=","):
    return num


class FB:
    def fizz_buzz(self, num, bgn0):
        return num


def test_keywords_that_name_positional_parameters_take_their_places():
    assert _as_called(fizz_buzz, (), {"num": 5, "bgn0": 0.0}, False) == ((5, 0.0), {}, [5, 0.0])
    assert _as_called(fizz_buzz, (5,), {"bgn0": 0.0}, False) == ((5, 0.0), {}, [5, 0.0])


def test_a_default_left_out_keeps_what_follows_it_a_keyword():
    assert _as_called(fizz_buzz, (5,), {"sep": ";", "bgn0": 1.0}, False) == ((5, 1.0, ";"), {}, [5, 1.0, ";"])
    def f(num, bgn0=0.0, sep=","):
        return num
    assert _as_called(f, (5,), {"sep": ";"}, False) == ((5,), {"sep": ";"}, [5])


def test_a_methods_instance_is_not_shown_as_an_argument():
    fb = FB()
    args, kwargs, shown = _as_called(FB.fizz_buzz, (fb,), {"num": 5, "bgn0": 0.0}, True)
    assert args == (fb, 5, 0.0) and shown == [5, 0.0]


def test_a_call_that_does_not_fit_is_left_for_python_to_refuse():
    assert _as_called(fizz_buzz, (5,), {"nmu": 1}, False) == ((5,), {"nmu": 1}, [5])


def test_outside_a_run_the_decorated_functions_behave_as_written():
    # (no recorder: calls go straight through) a method, a static method called on an instance
    # (once given the instance as its first argument), a class method.
    class C:
        @hooks.trace("fizz_buzz")
        def m(self, num):
            return ("m", num)

        @hooks.trace("fizz_buzz")
        @staticmethod
        def s(num):
            return ("s", num)

        @hooks.trace("fizz_buzz")
        @classmethod
        def c(cls, num):
            return (cls.__name__, num)

    assert (C().m(1), C().s(2), C.s(3), C().c(4)) == (("m", 1), ("s", 2), ("s", 3), ("C", 4))
