"""State graphs as networkx graphs, DOT text and GraphML text.

``explore.graph.state_graph`` gives plain data; this module labels it for
people and tools:

* ``to_networkx(graph)``: a ``networkx.MultiDiGraph`` whose node ids are the
  graph's node ids (ints). Node attributes: ``class`` (initial, violating,
  deadlock, finished, frontier, ordinary, failure), ``label`` (the state in a
  few lines), ``problems`` (what the state violates, ``; ``-separated, or
  ""), ``initial`` (1 or 0). Edge attributes: ``thread``, ``step``,
  ``picks`` (``1.0``-style, or ""), ``label`` (``thread: step``, with the
  picks when there are any). Graph attributes: ``title``, ``complete``
  (``yes``/``no``), ``states``, ``max_states``. Every value is a string or
  an integer, so the graph can be written to GraphML as is.
* ``to_dot(graph)``: Graphviz DOT text, nodes filled by class. Written here,
  not through pydot or pygraphviz, so that the text is the same on every
  machine and needs no extra package.
* ``to_graphml(graph)``: GraphML text (networkx's writer).

A node label reads, one item per line::

    #12 ordinary
    folio = {locked: True, dirty: False, swapcache: True, present: True}
    zswap = 1
    reclaim: folio_test_dirty(folio)
      dirty=False
    writeback: (finished)
      entry=1, allocated=False, count=0

that is: the state's number and class, each shared variable, then each
thread's next step (the instruction at its pc) and, under it, its locals;
a last line starting ``!!`` lists what the state violates. Long lines are cut with
``...``; the full state is the node's ``state`` in ``explore.graph``.
"""

from __future__ import annotations

import networkx as nx

from racecheck.explore.graph import StateGraph
from racecheck.scenario.values import format_value

MAX_LINE = 72

FILL = {
    "initial": "#cfe2ff",
    "violating": "#f4a6a6",
    "deadlock": "#ffcc80",
    "finished": "#c8e6c9",
    "frontier": "#e0e0e0",
    "ordinary": "#ffffff",
    "failure": "#d32f2f",
}


def to_networkx(graph: StateGraph) -> nx.MultiDiGraph:
    g = nx.MultiDiGraph(title=graph.title, complete="yes" if graph.complete else "no",
                        states=graph.states, max_states=graph.max_states)
    for node in graph.nodes:
        g.add_node(node.id, **{"class": node.cls, "label": node_label(graph, node),
                               "problems": "; ".join(node.problems), "initial": int(node.initial)})
    for key, edge in enumerate(graph.edges):
        picks = ".".join(map(str, edge.picks))
        g.add_edge(edge.src, edge.dst, key=key, thread=edge.thread, step=edge.step, picks=picks,
                   label=edge_label(edge.thread, edge.step, picks))
    return g


def node_label(graph: StateGraph, node) -> str:
    if node.failure is not None:
        kind, message = node.failure
        head = "assert fails" if kind == "assert" else "run-time error"
        where = " (building the initial state)" if node.initial else ""
        return "\n".join([head + where, _clip(message)])
    s = node.state
    lines = [f"#{node.id} {node.cls}"]
    lines += [_clip(f"{name} = {format_value(s[i])}") for i, name in enumerate(graph.shared_names)]
    for thread in graph.threads:
        pc = s[thread.pc_slot]
        at = thread.steps[pc] if pc < len(thread.steps) else "(finished)"
        local = ", ".join(f"{name}={format_value(s[slot])}" for name, slot in thread.local_slots)
        lines.append(_clip(f"{thread.name}: {at}"))
        if local:
            lines.append(_clip(f"  {local}"))
    if node.problems:
        lines.append(_clip("!! " + "; ".join(node.problems)))
    return "\n".join(lines)


def edge_label(thread: str, step: str, picks: str) -> str:
    return f"{thread}: {step}" + (f"  [choose {picks}]" if picks else "")


def _clip(text: str) -> str:
    text = " ".join(text.split("\n"))
    return text if len(text) <= MAX_LINE else text[:MAX_LINE - 3] + "..."


# -- DOT ------------------------------------------------------------------------------

def to_dot(graph: StateGraph) -> str:
    g = to_networkx(graph)
    title = graph.title
    if not graph.complete:
        title += (f"\npartial: the state graph has more than {graph.max_states} states; "
                  f"the first {graph.states} are drawn, grey dashed nodes were not expanded")
    lines = [
        "digraph racecheck {",
        f"  graph [label={dot_quote(title)}, labelloc=t, fontname=\"monospace\"];",
        "  node [shape=box, style=filled, fontname=\"monospace\", fontsize=10];",
        "  edge [fontname=\"monospace\", fontsize=9];",
    ]
    for nid, data in g.nodes(data=True):
        cls = data["class"]
        attrs = [f"label={dot_quote(data['label'], left=cls != 'failure')}",
                 f"fillcolor={dot_quote(FILL[cls])}", f"tooltip={dot_quote(cls)}"]
        if cls == "failure":
            attrs += ["shape=octagon", "fontcolor=\"white\""]
        elif cls == "frontier":
            attrs.append("style=\"filled,dashed\"")
        if data["initial"] and cls != "failure":
            attrs.append("penwidth=2")
        lines.append(f"  n{nid} [{', '.join(attrs)}];")
    for src, dst, data in g.edges(data=True):
        lines.append(f"  n{src} -> n{dst} [label={dot_quote(data['label'])}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def dot_quote(text: str, left: bool = False) -> str:
    """A DOT double-quoted string; lines end in ``\\l`` (left-justified) or ``\\n``."""
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    text = "".join(c if c >= " " or c == "\n" else " " for c in text)
    if left:
        return '"' + text.replace("\n", "\\l") + '\\l"'
    return '"' + text.replace("\n", "\\n") + '"'


# -- GraphML --------------------------------------------------------------------------

def to_graphml(graph: StateGraph) -> str:
    return "\n".join(nx.generate_graphml(to_networkx(graph))) + "\n"
