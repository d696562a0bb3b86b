"""Hypothesis strategies, part two: the spellings of issue 11.

A shared list of two records ``pages`` ({v, q, n, slot}) reached through
indices that the access analysis must fold or follow, invariants and
asserts over it in the spellings it must split, and statistics counters.
``strategies.scenario_texts(shapes=True)`` draws from these.
"""

from __future__ import annotations

from hypothesis import strategies as st


# pages has two records; the tid of a copy is 0 or 1, of a lone thread 0
PAGE_PLACES = ["pages[tid].v", "pages[tid // 2].v", "pages[tid % 2].v", "pages[1 - tid % 2].v",
                "pages[len(pages) - 1].v", "pages[pages[tid].slot].v", "pages[ix].v", "pages[0].v"]
PAGE_PROPS = ["all(p.v <= 1 for p in pages)", "all(p.v <= 1 or p.q for p in pages)",
               "all(pages[k].v >= 0 for k in range(len(pages)))", "not any(p.v > 1 and not p.q for p in pages)",
               "not any(pages[k].v < 0 for k in range(2))", "not (pages[0].v > 1 or pages[1].q)",
               "sum(p.v for p in pages) <= 2", "all(p.v <= 1 for p in pages) and ix <= 1",
               "not any(p.q for p in pages) or pages[0].v == 0"]
PAGE_CHECKS = ["all(p.v <= 1 for p in pages)", "not any(p.v > 1 for p in pages)", "len(pages) == 2",
                "sum(p.v for p in pages) < 2", "pages[tid // 2].v == 0", "pages[pages[1].slot].v <= 1"]


def pages_stmt(draw, ctx):
    """A step on pages or the counter: indices that fold, lengths, counters."""
    stmts = []
    if ctx.pages:
        stmts += ["pages[tid // 2].v += 1", "pages[tid % 2].q = not pages[tid % 2].q", "pages[ix].v = 1",
                  "ix = 1 - ix", "ix = tid % 2", "pages[len(pages) - 1].v = r",
                  "r = sum(p.v for p in pages)", "m = any(p.q for p in pages)", "r = len(pages)",
                  "pages[pages[tid].slot].v += 1", "pages[tid].n += 1", "pages[tid].slot = 1 - tid % 2",
                  "pages[tid % 2].slot = 0", "ix = 0"]
        if ctx.pages_resize:
            stmts += ["pages = [pages[1], pages[0]]", "pages = [pages[0]]", "pages = pages + [pages[0]]"]
    if ctx.counter:
        stmts += ["cnt += 1", "cnt -= 1", "cnt = 0", "cnt += tid", "cnt += 1\nr += 1"]
        if ctx.counter_read:
            stmts += ["r = cnt", "cnt = r", "cnt += r"]
    return draw(st.sampled_from(stmts))
