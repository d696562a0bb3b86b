"""The audit tables of the shipped memory: lkmm barrier scenarios, as
their descriptions state them: which ordering primitives each variant's
properties need (weakened alone, the variant then violates), and which
not. A change to the engine or to a scenario that moves one of these is a
change to a claim about the kernel, so the claims are pinned here, not
only in the committed reports."""

from __future__ import annotations

import os

import pytest

from racecheck.explore.lkmm_audit import audit_variant
from racecheck.scenario.loader import load_scenario

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (file, variant) -> {(thread, primitive, line): needed}
EXPECTED = {
    ("kcompactd_wakeup_barrier", "mb"): {
        ("wakeup_kcompactd", "smp_mb", 83): True,        # the wq_has_sleeper() fix
        ("kcompactd", "spin_lock", 97): False,           # the waker does not take the lock
        ("kcompactd", "smp_mb", 103): True},             # set_current_state()'s barrier
    ("putback_lru_unevictable_barrier", "before"): {
        ("putback", "spin_lock", 82): True,              # both PageLRU tests under lru_lock
        ("putback", "smp_mb", 90): False,
        ("shmem_lock", "spin_lock", 108): True},
    ("putback_lru_unevictable_barrier", "after"): {      # each of the two defences suffices alone
        ("putback", "spin_lock", 82): False,
        ("putback", "smp_mb", 90): False,
        ("shmem_lock", "smp_mb__after_atomic", 102): False,
        ("shmem_lock", "spin_lock", 108): False},
    ("putback_lru_unevictable_barrier", "lockless_scan_mb"): {
        ("putback", "spin_lock", 82): False,
        ("putback", "smp_mb", 90): True,                 # store buffering: both barriers
        ("shmem_lock", "smp_mb__after_atomic", 102): True},
    ("madv_free_dio_read_lkmm", "after"): {
        ("dio", "atomic_inc_return", 95): True,          # GUP's fully ordered increment
        ("dio", "spin_lock", 108): False,
        ("reclaim", "spin_lock", 123): False,
        ("reclaim", "smp_mb", 137): True,                # 6c8e2a256915's smp_mb()
        ("reclaim", "smp_rmb", 143): False},
    ("madv_free_dio_read_lkmm", "gup_user"): {
        ("dio", "atomic_inc_return", 95): True,
        ("reclaim", "spin_lock", 123): False,
        ("reclaim", "smp_mb", 137): True,
        ("reclaim", "smp_rmb", 143): True},              # a dirtier without the page lock
}


@pytest.mark.parametrize("name,variant", sorted(EXPECTED), ids=lambda x: str(x))
def test_audit_table_is_the_one_the_scenario_describes(name, variant):
    scenario = load_scenario(os.path.join(ROOT, "scenarios", f"{name}.yaml"))
    audit = audit_variant(scenario, scenario.variant(variant))
    assert audit.checked.exploration.violation is None          # each audited variant is safe as written
    found = {(row.primitive.thread, row.primitive.name, row.primitive.line): row.needed(audit.checked)
             for row in audit.weakened}
    assert found == EXPECTED[name, variant]
    for row in audit.weakened:                                  # a needed one comes with its counterexample
        if row.needed(audit.checked):
            assert row.checked.execution is not None and row.checked.exploration.violation is not None
