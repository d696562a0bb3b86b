"""racecheck's LKMM answers on the classic shapes, pinned against herd7.

Every tests/lkmm/*.litmus file was run through herd7 7.58 with the Linux
6.12 model (``herd7 -conf linux-kernel.cfg``); tests/lkmm/herd7-results.tsv
holds what herd7 printed. racecheck must give the same Observation, the
same numbers of positive and negative executions (so the same number of
consistent executions), the same number of final states over the
condition's terms and the same data-race flag; and each file's Result:
line, written from herd7's answer, must agree.
"""

from __future__ import annotations

import os
import sys

import pytest

from racecheck.explore.litmus import check_litmus
from racecheck.scenario.litmus import parse_litmus_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from herd_results import herd_results  # noqa: E402

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lkmm")
HERD = herd_results(HERE)


def test_every_file_has_a_herd7_row():
    files = sorted(f for f in os.listdir(HERE) if f.endswith(".litmus"))
    assert files == sorted(HERD)
    assert len(files) >= 70


@pytest.mark.parametrize("name", sorted(HERD))
def test_same_answer_and_counts_as_herd7(name):
    result = check_litmus(parse_litmus_file(os.path.join(HERE, name)))
    mine = (result.answer, result.positive, result.negative, len(result.states), result.racy)
    assert mine == HERD[name]
    assert result.agrees is True


# the pairs each classic shape is about: without ordering it is allowed,
# with the named ordering it is forbidden (herd7 agrees, pinned above)
PAIRS = [
    ("SB+once+once", "SB+mb+mb"), ("SB+xchgrelaxed+xchgrelaxed", "SB+xchg+xchg"),
    ("SB+inc+inc", "SB+inc-mbafter+inc-mbafter"),
    ("MP+once+once", "MP+wmb+rmb"), ("MP+rel+once", "MP+rel+acq"), ("MP+wmb+ctrl", "MP+wmb+addr"),
    ("MP+once+once", "MP+lock+lock"), ("MP+once+rmb", "MP+unlocklock+rmb"),
    ("LB+once+once", "LB+ctrl+ctrl"), ("LB+once+once", "LB+data+data"), ("LB+once+once", "LB+acq+rel"),
    ("LB+ctrl+once", "LB+mb+ctrl"),
    ("WRC+wmb+rmb", "WRC+mb+rmb"), ("WRC+once+once", "WRC+rel+acq"),
    ("ISA2+rel+once+acq", "ISA2+rel+acqrel+acq"),
    ("IRIW+rmb+rmb", "IRIW+mb+mb"), ("IRIW+acq+acq", "IRIW+mb+mb"),
    ("R+wmb+mb", "R+mb+mb"), ("S+once+once", "S+wmb+data"), ("S+once+once", "S+rel+ctrl"),
    ("2+2W+wmb+wmb", "2+2W+mb+mb"), ("Z6.0+rel+acqrel+mb", "Z6.0+mb+mb+mb"),
    ("Z6.0+lock+lock+mb", "Z6.0+lock+lock-aul+mb"), ("RCU+nosync", "RCU+sync"),
    ("Counter+once", "Counter+inc"), ("MP+plain+once", "MP+plain+rel-acq"),
]


@pytest.mark.parametrize("allowed, forbidden", PAIRS)
def test_ordering_forbids_the_outcome(allowed, forbidden):
    assert HERD[allowed + ".litmus"][0] == "Sometimes"
    assert HERD[forbidden + ".litmus"][0] == "Never"


def test_coherence_shapes_are_never():
    for name in ("CoRR+once", "CoRW+once", "CoWR+once", "CoWW+once", "CoRR+plain"):
        assert HERD[name + ".litmus"][0] == "Never"
