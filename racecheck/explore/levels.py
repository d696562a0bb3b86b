"""The levels of the packed breadth-first search, kept small.

A level is the run of states the search numbered while expanding the
level before it: numbers ``first`` to ``first + size - 1``, consecutive.
The compiled table (``statetable``) appends each new state's bytes to
``Level.buf``; the search calls ``spill`` between calls into the table so
that the buffer never holds more than about ``BLOCK`` bytes:

* an exact table keeps every state's bytes itself, so the level drops
  them and reads them back from the table (``table.slice``) when it is
  expanded;
* a compact table keeps only fingerprints, so the level keeps its
  states, in pieces of ``BLOCK`` bytes compressed with zlib (level 1).
  The states of one level come from few parents and differ in a few
  bytes each: at the 2,000,000-state bound, pages(8)'s levels shrink to
  about a fifth, and the level being expanded, which used to be the
  largest part of the search's memory there, frees each piece once it
  is expanded.

A level smaller than ``BLOCK`` bytes is never compressed, so small
searches pay nothing.
"""

from __future__ import annotations

import zlib

BLOCK = 1 << 20                 # bytes of states appended before they are spilled
_SLICE = 4096                   # states read back from an exact table at once


class Level:
    """One level of the search, numbered from ``first`` on."""

    def __init__(self, table, nbytes: int, exact: bool, first: int):
        self.table, self.nbytes, self.exact, self.first = table, nbytes, exact, first
        self.buf = bytearray()          # the states appended since the last spill
        self.blocks: list = []          # compact tables: the states spilled, compressed
        self.size = 0

    def __bool__(self) -> bool:
        """Has the level a state yet?"""
        return len(self.table) > self.first

    def spill(self):
        """Move the states appended so far out of ``buf`` once it is large."""
        if len(self.buf) >= BLOCK:
            if not self.exact:
                self.blocks.append(zlib.compress(self.buf, 1))
            self.buf = bytearray()

    def close(self):
        """The level is complete: every state numbered from ``first`` on."""
        self.size = len(self.table) - self.first
        if self.exact:
            self.buf = bytearray()

    def pieces(self):
        """``(number of the first, bytes)`` of the level's states, in
        order, a piece at a time; a compressed piece is freed once it is
        handed out."""
        if self.exact:
            end = self.first + self.size
            for lo in range(self.first, end, _SLICE):
                yield lo, self.table.slice(lo, min(end, lo + _SLICE))
            return
        sid = self.first
        for k, block in enumerate(self.blocks):
            self.blocks[k] = None
            states = zlib.decompress(block)
            yield sid, states
            sid += len(states) // self.nbytes
        self.blocks = []
        yield sid, self.buf
