"""The run plan and the hidden data: deterministic, covering, and never unfair to a correct program."""

import pytest

from grader.exercises import catalog, plan
from grader.verdicts.analysis import expected_tally


@pytest.fixture(scope="module")
def course_lines():
    return catalog.data_file().read_text(encoding="utf-8").splitlines()


def test_the_spec_exercises_have_the_spec_check_ids():
    found = {ex.id: [c.id for c in ex.checks] for ex in catalog.exercises().values()}
    # SPEC's ids, then the 0-point `integrity` check every exercise ends with (a TA reviews it).
    # The course may hold more exercises than SPEC names (an instructor adds folders).
    spec = {
        "fizz_buzz_mt": ["runs", "import_style", "worker_identity", "listing", "concurrent", "result", "integrity"],
        "counter_lck": ["runs", "tally", "lock", "concurrent", "join", "integrity"],
        "counter_smp": ["runs", "semaphore", "exact_with_one", "tally", "integrity"],
        "counter_pp": ["runs", "tally", "processes", "pipe", "spawn_safe", "integrity"],
    }
    assert {k: found.get(k) for k in spec} == spec
    assert all(ex.checks[-1].points == 0 and ex.checks[-1].failed_runs for ex in catalog.exercises().values())


def test_every_check_has_its_function(tmp_path):
    for ex in catalog.exercises().values():
        module = ex.checks_module()
        for c in ex.checks:
            assert callable(getattr(module, f"check_{c.id}", None)), (ex.id, c.id)


def test_base_schedules_are_deterministic_and_cover_every_variant_and_time_mode():
    ex = catalog.get("counter_lck")
    a, b = plan.schedules(ex, 7), plan.schedules(ex, 7)
    assert a == b
    assert {s.variant for s in a} == {"course", "shuffled", "rotated"}
    assert {s.time_mode for s in a} == {"timed", "yield"}
    assert {s.strategy for s in a} == {"pct", "random"}
    assert a[0].variant == "course" and a[0].time_mode == "timed"
    assert all(not s.directions for s in a)  # directed runs are planned from what these runs do
    assert [s.seed for s in plan.schedules(ex, 8)] != [s.seed for s in a]


def test_derive_seed_is_stable_across_processes():
    assert plan.derive_seed(1, "counter_lck", "explore", 0) == plan.derive_seed(1, "counter_lck", "explore", 0)
    assert plan.derive_seed(1, "x") != plan.derive_seed(2, "x")


def test_course_data_is_the_151_first_generation_pokemon(course_lines):
    assert len(course_lines) == 151 and len(set(course_lines)) == 151
    assert course_lines[0] == "1\tフシギダネ\tくさ どく" and course_lines[-1] == "151\tミュウ\tエスパー"
    assert [int(line.split("\t")[0]) for line in course_lines] == list(range(1, 152))
    types = [catalog.course().data.values(line) for line in course_lines]
    assert expected_tally(types) == {"くさ": 3, "どく": 3, "ほのお": 3, "ひこう": 1, "みず": 3}


@pytest.mark.parametrize("name", ["shuffled", "rotated", "reversed"])
def test_hidden_data_keeps_the_format_and_changes_the_answer(name, course_lines):
    varied = plan.data_variant(name, course_lines, 1)
    assert sorted(varied) == sorted(course_lines)  # same Pokémon, one per line, no blank line
    assert varied[:9] != course_lines[:9]
    assert plan.data_variant(name, course_lines, 1) == varied
    values = catalog.course().data.values
    course = expected_tally([values(line) for line in course_lines])
    hidden = expected_tally([values(line) for line in varied])
    assert hidden != course


def test_unknown_exercise_is_an_input_error_listing_the_known_ones():
    from grader.model import GraderInputError
    with pytest.raises(GraderInputError) as info:
        catalog.get("counter_lk")
    assert "counter_lck" in info.value.msg.en


def test_the_data_declaration_maps_a_record_to_its_values():
    spec = catalog.course().data
    assert spec.file == "poke_names.txt" and spec.slide_paths[0] == "lec11/data/poke_names.txt"
    assert spec.values("6\tリザードン\tほのお ひこう") == ["ほのお", "ひこう"]
    assert spec.values("4\tヒトカゲ\tほのお\r\n") == ["ほのお"]


def test_another_declaration_reads_a_csv_with_a_header():
    from grader.exercises.catalog import _data_spec
    spec = _data_spec({"file": "p.csv", "header_lines": 1, "separator": ",",
                       "values": {"columns": [2, 3], "split": ""}})
    lines = ["no,name,type1,type2", "1,フシギダネ,くさ,どく", "4,ヒトカゲ,ほのお,", ""]
    assert spec.records(lines) == ["1,フシギダネ,くさ,どく", "4,ヒトカゲ,ほのお,"]
    assert [spec.values(r) for r in spec.records(lines)] == [["くさ", "どく"], ["ほのお"]]
