"""GPU choice for a trainer: every GPU (or the plan's), slots per GPU, least load, sticky on restart."""
from gantry_remote.gpu_placement import capacity, choose_gpu, gpus_to_use, load, parse_visible_devices


def test_gpus_to_use_all_or_listed():
    assert gpus_to_use("all", [1, 0]) == ([0, 1], [])
    assert gpus_to_use([2, 0, 9], list(range(8))) == ([0, 2], [9])
    assert gpus_to_use("all", []) == ([], [])


def test_capacity_is_slots_per_gpu_or_one_pool():
    assert capacity([0, 1], 3) == 6
    assert capacity([], 3) == 3


def test_least_loaded_then_lowest_index_and_none_when_full():
    gpus = list(range(8))
    running = load([0, 0, 1, 3, 3, None, 11], gpus)
    assert running == {0: 2, 1: 1, 2: 0, 3: 2, 4: 0, 5: 0, 6: 0, 7: 0}
    assert choose_gpu(gpus, running, 2) == 2
    assert choose_gpu([0, 1], {0: 2, 1: 2}, 2) is None
    assert choose_gpu([], {}, 2) is None


def test_a_restarted_game_keeps_its_gpu_while_it_has_a_free_slot():
    assert choose_gpu([0, 1], {0: 1, 1: 0}, 2, previous=0) == 0
    assert choose_gpu([0, 1], {0: 2, 1: 0}, 2, previous=0) == 1  # full: the next best
    assert choose_gpu([0, 1], {0: 0, 1: 0}, 2, previous=5) == 0  # a GPU the run no longer uses


def test_parse_visible_devices():
    assert parse_visible_devices("3") == 3
    assert parse_visible_devices(" 12 ") == 12
    for bad in (None, "", "0,1", "GPU-abc", "-1", "99999"):
        assert parse_visible_devices(bad) is None
