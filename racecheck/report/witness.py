"""A litmus witness as a diagram: one column per CPU (P0 | P1 | ...), as
racecheck's race diagrams draw threads (docs/diagrams.md), 75 columns.

    P0                                    P1
    ----------------------------------    ----------------------------------
    WRITE_ONCE(*x, 1)
    WRITE_ONCE(*y, 1)
                                          r0 = READ_ONCE(*y)
                                            <- 1 (P0's y = 1)
                                          r1 = READ_ONCE(*x)
                                            <- 0 (initial; P0's x = 1 not
                                            yet seen)

Each statement of a thread is a row, in program order; rows of different
threads follow reads-from (a row reading a value comes after the row that
wrote it) and otherwise take turns, earliest statement first. A read says
which write it read from and which newer writes of the location (in
coherence order) it did not see; a write that some later row of another
thread did not see yet is noted ``not yet visible to P1``. When program
order and reads-from make a cycle (load buffering), a read may read from
a row drawn below it, and says so (``a row below``). Under the
diagram, the coherence order of each location written twice or more.
"""

from __future__ import annotations

import textwrap

from racecheck.explore.witness import Witness, newer_writes, source_of, unseen_writes
from racecheck.model.lkmm_litmus import atom_value

from .litmus import WIDTH, _prop, _wrap

GAP = 2


def render_witness(witness: Witness) -> str:
    test = witness.test
    clause = f"{test.quantifier} {_prop(test.condition)}"
    if witness.execution is None:
        why = {"exists": "no consistent execution reaches", "~exists": "every consistent execution keeps",
               "forall": "every consistent execution keeps"}[test.quantifier]
        return "\n".join(_wrap(f"no witness: {why} {clause}"))
    ex = witness.execution
    verb = "reaches" if test.quantifier == "exists" else "violates"
    seen = ", ".join(f"{atom.thread}:{atom.name}={atom_value(atom, ex.regs, ex.memory)}"
                     if atom.thread is not None else f"{atom.name}={atom_value(atom, ex.regs, ex.memory)}"
                     for atom in _unique(test.condition.atoms()))
    lines = _wrap(f"witness: this execution {verb} {clause}")
    lines += _wrap(f"with {seen}; {witness.stale} stale read{'s' if witness.stale != 1 else ''}; "
                   f"chosen from {witness.candidates} such execution{'s' if witness.candidates != 1 else ''}")
    lines.append("")
    lines += _diagram(witness)
    lines += _coherence(ex)
    return "\n".join(lines)


def _unique(atoms):
    seen = set()
    for atom in atoms:
        key = (atom.thread, atom.name)
        if key not in seen:
            seen.add(key)
            yield atom


# -- rows ------------------------------------------------------------------------

def _groups(ex):
    """The rows: per thread, runs of events of one statement (same line
    and label), in program order."""
    threads = {}
    for e in ex.graph.events:
        if e.is_init:
            continue
        rows = threads.setdefault(e.tid, [])
        if rows and rows[-1][-1].line == e.line and rows[-1][-1].label == e.label:
            rows[-1].append(e)
        else:
            rows.append([e])
    return threads


def _order(ex, threads) -> list:
    """(thread, row index) in drawing order: program order and
    reads-from between threads; otherwise the earliest statement first."""
    row_of = {e.eid: (tid, i) for tid, rows in threads.items() for i, row in enumerate(rows) for e in row}
    needs = {}
    for tid, rows in threads.items():
        for i, row in enumerate(rows):
            deps = set()
            for e in row:
                if e.is_read:
                    src = source_of(ex, e)
                    if not src.is_init and src.tid != tid:
                        deps.add(row_of[src.eid])
            needs[(tid, i)] = deps
    done, order = set(), []
    nxt = {tid: 0 for tid in threads}
    while len(order) < len(needs):
        heads = sorted((i, tid) for tid, i in nxt.items() if i < len(threads[tid]))
        ready = [(i, tid) for i, tid in heads if needs[(tid, i)] <= done]
        i, tid = (ready or heads)[0]                     # a cycle (LB): take the earliest
        order.append((tid, i))
        done.add((tid, i))
        nxt[tid] += 1
    return order


def _diagram(witness: Witness) -> list:
    ex, test = witness.execution, witness.test
    threads = _groups(ex)
    count = len(test.threads)
    width = max(12, (WIDTH - GAP * (count - 1)) // count)
    lines = [_columns([f"P{t}" for t in range(count)], width).rstrip(),
             _columns(["-" * width] * count, width).rstrip()]
    order = _order(ex, threads)
    position = {key: n for n, key in enumerate(order)}
    for tid, i in order:
        row = threads[tid][i]
        text = _statement(test, row, threads[tid])
        note = _note(ex, row, position, (tid, i), threads)
        cell = [text + f"  <- {note}"] if note and len(text) + 5 + len(note) <= width else \
            textwrap.wrap(text, width) + (textwrap.wrap(f"<- {note}", width - 2, initial_indent="  ",
                                                        subsequent_indent="  ") if note else [])
        for part in cell:
            lines.append((" " * ((width + GAP) * tid) + part).rstrip())
    return lines


def _columns(cells, width: int) -> str:
    return (" " * GAP).join(cell.ljust(width) for cell in cells)


def _statement(test, row, rows) -> str:
    """The statement as written: its source line when it is alone there."""
    first = row[0]
    same_line = [e for r in rows for e in r if e.line == first.line]
    source = test.lines[first.line - 1].strip() if 0 < first.line <= len(test.lines) else ""
    if len(same_line) == len(row) and source.count(";") == 1 and source.endswith(";") \
            and not any(c in source for c in "{}"):
        return source[:-1].rstrip()
    return first.label or first.describe()


def _who(e, names=None) -> str:
    return "initial" if e.is_init else f"{_name(e.tid, names)}'s {e.loc} = {e.value}"


def _name(tid: int, names) -> str:
    """``P1``, or the thread's name (scenarios: ``names`` by tid)."""
    return names[tid] if names else f"P{tid}"


def _note(ex, row, position, key, threads, names=None) -> str:
    parts = []
    reads = [e for e in row if e.kind == "R"]
    writes = [e for e in row if e.kind == "W"]
    for r in reads:
        src = source_of(ex, r)
        newer = unseen_writes(ex, r)
        text = f"{src.value} ({_who(src, names)}"
        if not src.is_init and src.tid != r.tid and position[_row_key(threads, src)] > position[key]:
            text += ", a row below"                        # po and rf make a cycle (LB)
        if newer:
            text += "; " + ", ".join(_who(w, names) for w in newer) + " not yet seen"
        parts.append(text + ")")
    if reads and writes:
        parts.append("writes " + ", ".join(str(w.value) for w in writes))
    elif writes:
        late = sorted({_name(r.tid, names) for w in writes for r in _missed(ex, w)
                       if position[_row_key(threads, r)] > position[key]})
        if late:
            parts.append("not yet visible to " + ", ".join(late))
    return "; ".join(parts)


def _missed(ex, write):
    """Reads of another thread that read a write older than ``write``."""
    out = []
    for r in ex.graph.events:
        if r.kind == "R" and r.loc == write.loc and r.tid != write.tid:
            if write in newer_writes(ex, source_of(ex, r)):
                out.append(r)
    return out


def _row_key(threads, event):
    for i, row in enumerate(threads[event.tid]):
        if event in row:
            return (event.tid, i)
    raise KeyError(event)


def _coherence(ex, names=None) -> list:
    """``coherence x: 0 (initial), P0's 1, P1's 2 (final)`` for each
    location with two writes or more besides the initial one."""
    out = []
    by_loc = {}
    for e in ex.graph.events:
        if e.kind == "W":
            by_loc.setdefault(e.loc, []).append(e)
    for loc, writes in sorted(by_loc.items()):
        if len(writes) < 3:
            continue
        chain = sorted(writes, key=lambda w: -len(newer_writes(ex, w)))
        text = ", ".join(f"{w.value} (initial)" if w.is_init else f"{_name(w.tid, names)}'s {w.value}"
                         for w in chain)
        out += _wrap(f"coherence {loc}: {text} (final)", first="")
    if out:
        out.insert(0, "")
    return out
