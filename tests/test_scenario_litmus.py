"""The litmus tests under scenarios/litmus: the core of each barrier fix
the lkmm scenarios model, before and after it, checked against herd7.

scenarios/litmus/herd7-results.tsv holds what herd7 7.58 printed for each
file with the Linux 6.12 model; racecheck must give the same Observation,
positive and negative counts, number of states and data-race flag, and
agree with the file's Result: line.
"""

from __future__ import annotations

import os
import sys

import pytest

from racecheck.explore.litmus import check_litmus
from racecheck.scenario.litmus import parse_litmus_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from herd_results import herd_results  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERE = os.path.join(ROOT, "scenarios", "litmus")
HERD = herd_results(HERE)


def _check(name):
    return check_litmus(parse_litmus_file(os.path.join(HERE, name)))


def test_every_file_has_a_herd7_row():
    files = sorted(f for f in os.listdir(HERE) if f.endswith(".litmus"))
    assert files == sorted(HERD)
    assert len(files) == 12


@pytest.mark.parametrize("name", sorted(HERD))
def test_agrees_with_its_result_line_and_with_herd7(name):
    result = _check(name)
    assert result.agrees is True
    assert (result.answer, result.positive, result.negative, len(result.states), result.racy) == HERD[name]


# (without the barrier, with it): the barrier turns Sometimes into Never
FIXES = [
    ("madv-free+gup-fast.litmus", "madv-free+gup-fast-mb.litmus"),     # 6c8e2a256915 smp_mb()
    ("madv-free+dirty.litmus", "madv-free+dirty-rmb.litmus"),          # 6c8e2a256915 smp_rmb()
    ("kcompactd-wakeup-rmb.litmus", "kcompactd-wakeup-mb.litmus"),     # wq_has_sleeper()
    ("putback+shmem-unlock-nolock.litmus", "putback+shmem-unlock-nolock-mb.litmus"),
]


@pytest.mark.parametrize("without, with_", FIXES)
def test_the_barrier_forbids_the_race(without, with_):
    assert (_check(without).answer, _check(with_).answer) == ("Sometimes", "Never")


def test_46acef048a65_does_not_close_the_kcompactd_race():
    # smp_acquire__after_ctrl_dep() is smp_rmb(): it does not order the
    # store to kcompactd_max_order before the waitqueue_active() load
    assert _check("kcompactd-wakeup.litmus").answer == "Sometimes"
    assert _check("kcompactd-wakeup-rmb.litmus").answer == "Sometimes"


def test_zone_lru_lock_already_orders_the_shmem_unlock_race():
    # 21ee9f398be2's barrier changes nothing: the lock orders both sides
    for name in ("putback+shmem-unlock.litmus", "putback+shmem-unlock-lockonly.litmus",
                 "putback+shmem-unlock-mb.litmus"):
        assert _check(name).answer == "Never", name
