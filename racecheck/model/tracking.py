"""Helpers for compiled code that records which shared locations it uses.

Code compiled with ``Unit(..., checked=True)`` (see ``model.compile``) runs
exactly like ordinary compiled code, and also appends to ``LOG`` what it
touched of the shared state, as concrete locations (a variable name
followed by field names and non-negative element positions, negative
indices already counted from the end of the list as it is at that moment):

    ("r", location)   the value at the location was read;
    ("s", location)   the value there was looked into, to index it or to
                      set a part of it (its shape was read);
    ("w", location)   the value at the location was written.

A comprehension over a shared value iterates ``elements``: its variable
then holds a ``(value, location)`` pair, read when used.

``model.accesscheck`` compares these with the statically computed access
masks of ``model.access``. The helpers raise exactly what the ordinary ones
raise, in the same order, so a checked run fails where an ordinary one does.
"""

from __future__ import annotations

from racecheck.model.runtime import getf, geti

LOG: list = []


def position(seq, index):
    """The key a location uses for ``seq[index]``: negative indices counted
    from the end; anything that cannot index stays as it is."""
    if type(index) is bool:
        index = int(index)
    if type(index) is int and index < 0 and type(seq) in (tuple, str):
        return index + len(seq)
    return index


def root(value, name: str) -> tuple:
    return (value, (name,))


def step(pair: tuple, is_field: bool, key) -> tuple:
    """One field or element further down a shared location."""
    value, location = pair
    if location is None:                 # inside a value already read whole
        return (getf(value, key) if is_field else geti(value, key), None)
    LOG.append(("s", location))
    if is_field:
        return (getf(value, key), location + (key,))
    return (geti(value, key), location + (position(value, key),))


def end(pair: tuple):
    """The value at the end of a shared location, which is read whole."""
    if pair[1] is not None:
        LOG.append(("r", pair[1]))
    return pair[0]


def elements(pair: tuple):
    """Iterating over a shared value: a list's length is read (its shape),
    and each element comes with its location, to be read when used;
    anything else is read whole. Lazy, so that it fails when and as plain
    iteration does."""
    value, location = pair
    if type(value) is not tuple:
        if location is not None:
            LOG.append(("r", location))
        for item in value:
            yield (item, None)
        return
    if location is not None:
        LOG.append(("s", location))
    for i, item in enumerate(value):
        yield (item, None if location is None else location + (i,))


def note(kind: str, location: tuple) -> None:
    LOG.append((kind, location))


NAMESPACE = {"_tr_root": root, "_tr_step": step, "_tr_end": end, "_tr_note": note, "_tr_pos": position,
             "_tr_elements": elements}
