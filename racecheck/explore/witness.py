"""One consistent execution that shows a litmus test's condition, for
``racecheck litmus --witness``.

The witness of ``exists P`` is an execution where P holds (the clause is
reachable); of ``~exists P`` one where P holds (the clause is violated);
of ``forall P`` one where P fails. With a ``filter`` clause only
executions satisfying it count. Among the candidates the simplest is
chosen: the fewest stale reads (reads from a write that a newer write of
the same location follows in coherence order), then the fewest reads from
another thread's write, then the first enumerated (a fixed order, so the
same witness every time).
"""

from __future__ import annotations

from dataclasses import dataclass

from racecheck.model.lkmm_litmus import evaluate, thread_program
from racecheck.model.lkmm_rel import bits
from racecheck.scenario.litmus import LitmusTest

from .executions import DEFAULT_MAX_CANDIDATES, Execution, explore


@dataclass(frozen=True)
class Witness:
    test: LitmusTest
    execution: Execution | None   # None: no execution shows the condition
    stale: int                    # its stale reads
    candidates: int               # executions that show the condition


def wanted(test: LitmusTest) -> bool:
    """The value of the condition's proposition a witness shows."""
    return test.quantifier != "forall"


def find_witness(test: LitmusTest, max_candidates: int = DEFAULT_MAX_CANDIDATES) -> Witness:
    programs = [thread_program(test, index) for index in range(len(test.threads))]
    found = explore(programs, test.init, max_candidates=max_candidates)
    shows = [ex for ex in found.executions
             if (test.filter is None or evaluate(test.filter, ex.regs, ex.memory))
             and evaluate(test.condition, ex.regs, ex.memory) == wanted(test)]
    if not shows:
        return Witness(test, None, 0, 0)
    best = min(range(len(shows)), key=lambda i: (stale_reads(shows[i]), external_reads(shows[i]), i))
    return Witness(test, shows[best], stale_reads(shows[best]), len(shows))


def source_of(execution: Execution, read) -> object:
    """The write event ``read`` read from."""
    graph = execution.graph
    return next(w for w in graph.events if graph.rf.rows[w.eid] >> read.eid & 1)


def newer_writes(execution: Execution, write) -> list:
    """The writes after ``write`` in coherence order."""
    return [execution.graph.events[i] for i in bits(execution.graph.co.rows[write.eid])]


def unseen_writes(execution: Execution, read) -> list:
    """The writes newer (in coherence order) than the one ``read`` read
    from, leaving out its own thread's later writes (an RMW's own write,
    a store after the load)."""
    return [w for w in newer_writes(execution, source_of(execution, read))
            if not (w.tid == read.tid and w.key > read.key)]


def stale_reads(execution: Execution) -> int:
    """Reads from a write some other write had already followed."""
    return sum(1 for e in execution.graph.events if e.kind == "R" and unseen_writes(execution, e))


def external_reads(execution: Execution) -> int:
    return sum(1 for e in execution.graph.events
               if e.kind == "R" and not source_of(execution, e).is_init
               and source_of(execution, e).tid != e.tid)
