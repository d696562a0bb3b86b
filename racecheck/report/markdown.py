"""The review-evidence report of one scenario file, and its Markdown form.

A report is built once, as a list of *blocks* (headings, paragraphs, lists,
preformatted text, tables, a place for a chart), by ``document()``; the
Markdown, mail and HTML reports are three renderings of the same blocks, so
they cannot drift apart::

    checked variants --document()--> [Heading, Para, Pre, Table, Chart, ...]
                                        |-- render_markdown   (this module)
                                        |-- render_mail       (mail.py)
                                        `-- render_html       (html.py)

What a report holds: the title, the stamp (scenario file, SHA-256, racecheck
version: ``stamp.py``), sources and description; the variant table; then,
for each variant, its parameters, its bounds, its verdict and

* a violation: the race diagram, the violated property with its expression
  and the values it read (or what failed, or which threads are stuck), the
  counterexample's size (context switches, steps, whether it is minimal),
  the other violations also reachable, and the command that replays each;
* safe: the statistics, what was checked, whether partial-order reduction
  was used, and what a safe verdict promises;
* inconclusive: the bound that stopped the search;
* steps no explored state executed (``CheckedVariant.coverage``), as a
  warning, and how common the violation is (``CheckedVariant.frequency``),
  when they were computed;

and last the model itself (``model.py``). In Markdown, each race diagram is
followed by a Mermaid sequence diagram of it (``mermaid.py``).

Nothing in a report varies from run to run (no timings), so committed
reports can be compared with regenerated ones byte for byte. Markdown text
is escaped; it does not check that the scenario's own prose is Markdown.
"""

from __future__ import annotations

import re

from racecheck.explore.check import CheckedVariant
from racecheck.explore.result import ExitReason, Verdict
from racecheck.report.blocks import Chart, Code, Heading, Items, Para, Pre, Table, plain
from racecheck.report.diagram import render_rows
from racecheck.report.mermaid import sequence_diagram
from racecheck.report.model import bounds_parts, model_blocks
from racecheck.report.stamp import stamp_of
from racecheck.report.text import (counterexample_phrase, outcome_word, replay_command, table_rows,
                                   verdict_phrase, violation_lines)
from racecheck.scenario.values import format_value

# -- the report's content ----------------------------------------------------------


def document(checked: list, path: str) -> list:
    """The blocks of the report for one scenario file (its checked variants)."""
    if not checked:
        raise ValueError("a report needs at least one checked variant")
    scenario = checked[0].scenario
    if scenario.memory == "lkmm":
        from racecheck.report.lkmm_files import document as lkmm_document
        return lkmm_document(checked, path)
    blocks = [Heading(1, (scenario.title,))] + stamp_blocks(path)
    blocks += _sources(scenario.source) + _description(scenario.description)
    blocks += _prose_section("What the model leaves out", scenario.leaves_out)
    blocks += [Heading(2, ("Variants",)), _variant_table(checked)]
    for index, one in enumerate(checked):
        blocks += variant_blocks(one, path, index)
    return blocks + model_blocks(scenario)


def stamp_blocks(path: str) -> list:
    """The scenario file, its SHA-256 and the racecheck version: what the
    report was made from (``stamp.py`` reads them back to check it)."""
    return [Para(("The racecheck report on ", Code(path), "; the model it checked is listed at the end. "
                  "The scenario file's SHA-256 and racecheck's version when it was written (the report "
                  "command's ", Code("--check"), " option says whether both still match):")),
            Pre(stamp_of(path).lines(), "stamp")]


def _sources(source: tuple) -> list:
    if not source:
        return []
    return [Heading(2, ("Sources",)), Items(tuple((s,) for s in source))]


def _description(text: str) -> list:
    return _prose_section("Description", text)


def _prose_section(heading: str, text: str) -> list:
    """A heading and the paragraphs of ``text``; nothing when it is empty."""
    paragraphs = [p for p in re.split(r"\n[ \t]*\n", text.strip("\n")) if p.strip()]
    if not paragraphs:
        return []
    return [Heading(2, (heading,))] + [_paragraph(p) for p in paragraphs]


def _paragraph(text: str):
    """Prose is reflowed; a paragraph with indented lines is kept as it is."""
    lines = text.rstrip().splitlines()
    if any(line[:1] in (" ", "\t") for line in lines):
        return Pre(tuple(line.expandtabs(8).rstrip() for line in lines))
    return Para((" ".join(text.split()),))


def _variant_table(checked: list) -> Table:
    headers, rows = table_rows(checked, seconds=False)
    return Table(tuple(headers), tuple(tuple(row) for row in rows))


def variant_blocks(checked: CheckedVariant, path: str, index: int = 0) -> list:
    """The section of one variant: verdict, evidence, warnings."""
    result = checked.exploration
    blocks = [Heading(2, _variant_title(checked), result.verdict.value)]
    if checked.variant.description:
        blocks.append(Para(("This variant: ", " ".join(checked.variant.description.split()))))
    if checked.variant.source:
        blocks.append(Para(("Corresponds to: ", "; ".join(checked.variant.source), ".")))
    blocks += _params(checked.variant.params) + [Para(bounds_parts(result))]
    blocks.append(Para(("Expected: ", checked.variant.expect.describe(), " (",
                        outcome_word(checked.outcome), ").")))
    if result.verdict is Verdict.VIOLATION:
        blocks += violation_blocks(checked, path, index)
    elif result.verdict is Verdict.SAFE:
        blocks += _safe_blocks(checked)
    else:
        blocks += _inconclusive_blocks(checked)
    return blocks + _frequency_blocks(checked) + _coverage_blocks(checked)


def _params(params: tuple) -> list:
    if not params:
        return []
    parts: list = ["Parameters: "]
    for n, (name, value) in enumerate(params):
        parts += ([", "] if n else []) + [Code(f"{name} = {format_value(value)}")]
    return [Para(tuple(parts) + (".",))]


def _variant_title(checked: CheckedVariant) -> tuple:
    name = checked.variant.name
    label = ("Variant ", Code(name)) if name else ("Result",)
    return label + (": ", verdict_phrase(checked))


# -- a violation -------------------------------------------------------------------


def violation_blocks(checked: CheckedVariant, path: str, index: int = 0) -> list:
    """Diagram, what is violated, the counterexample's size, replay commands."""
    result = checked.exploration
    reduced = " (with partial-order reduction)" if result.reduced else ""
    blocks = [Para((_sentence(counterexample_phrase(checked)),
                    f"; {result.stats.states} states explored{reduced}.")),
              Pre(tuple(render_rows(checked.program, checked.trace, checked.cycle_trace)), "diagram"),
              Chart(index)]
    blocks += property_blocks(checked)
    if result.exit_reason.is_bound:
        blocks.append(Para((_sentence(result.exit_reason.describe()), ".")))
    blocks += replay_blocks(checked, path)
    return blocks + _also_reachable(checked, path)


def property_blocks(checked: CheckedVariant) -> list:
    """What the last state (or step) of the counterexample violates."""
    violation = checked.exploration.violation
    if violation.kind in ("invariant", "final"):
        prop, _ = checked.program.property(violation.name)
        blocks = [Para((f"The {violation.kind} ", Code(violation.name), " is violated:")),
                  Pre((prop.code.one_line(),), "code")]
        if checked.reads:
            blocks += [Para(("The values it read in that state:",)),
                       Items(tuple((Code(f"{text} = {format_value(value)}"),) for text, value in checked.reads))]
        return blocks
    head, *rest = violation_lines(checked)
    if violation.kind == "livelock":
        return [Para((_sentence(" ".join([head] + rest)),))]
    return [Para((_sentence(head),))] + ([Pre(_dedent(rest), "text")] if rest else [])


def replay_blocks(checked: CheckedVariant, path: str) -> list:
    violation = checked.exploration.violation
    names = thread_names(checked)
    blocks = []
    if violation.cycle is not None:
        blocks.append(Para(("The steps after the marked line form the cycle ",
                            Code(violation.cycle.format(names)),
                            "; they can repeat forever from the end of the schedule.")))
    command = replay_command(path, checked.variant.name, violation.schedule.format(names))
    return blocks + [Para(("Replay (prints the state after every step):",)), Pre((command,), "sh")]


def _also_reachable(checked: CheckedVariant, path: str) -> list:
    others = checked.exploration.others
    if not others:
        return []
    blocks = [Heading(3, ("Also reachable",))]
    for other in others:
        command = replay_command(path, checked.variant.name, other.schedule.format(thread_names(checked)))
        blocks += [Para((_sentence(other.describe()), ":")), Pre((command,), "sh")]
    return blocks


def thread_names(checked: CheckedVariant) -> list:
    return [t.name for t in checked.program.threads]


# -- safe and inconclusive ---------------------------------------------------------

def safe_promise(reduced: bool) -> str:
    """What a safe verdict promises, in two sentences a reader of a mail can check."""
    reduction = ("; the reduction preserves every checked property, so it cannot hide a violation"
                 if reduced else "")
    return ("What safe promises: every interleaving of the threads' atomic steps, with every choose() "
            "alternative, was covered within the bounds above, and in none of them does a checked "
            f"property fail{reduction}. It is a statement about the model listed at the end, not about "
            "the code the model stands for.")


def _safe_blocks(checked: CheckedVariant) -> list:
    result = checked.exploration
    blocks = [Para(("No violation: ", stats_phrase(checked), "; ", result.exit_reason.describe(), "."))]
    return blocks + _how_blocks(checked)


def _inconclusive_blocks(checked: CheckedVariant) -> list:
    return [Para(("Inconclusive: ", bound_phrase(checked), ", after ", stats_phrase(checked), ".")),
            Para(("No violation was found in the part of the state space that was explored; "
                  "this is not a proof that none is reachable.",))] + _how_blocks(checked)


def _how_blocks(checked: CheckedVariant) -> list:
    result = checked.exploration
    if result.reduced:
        how = ("Partial-order reduction was used: interleavings that differ only in the order of "
               "independent steps were explored once, and states that differ only in values no thread "
               "reads again were stored once.")
    else:
        how = "Every interleaving was explored (no partial-order reduction)."
    blocks = [Para((how,)), Para(("Checked:",)), Items(tuple((item,) for item in result.checked))]
    if result.verdict is Verdict.SAFE:
        blocks.append(Para((safe_promise(result.reduced),)))
    if result.collision_bound is not None:
        blocks.append(Para(("States were stored as 64-bit fingerprints; the probability that a "
                            f"collision hid a state is at most {result.collision_bound:.1e}.",)))
    return blocks


def stats_phrase(checked: CheckedVariant) -> str:
    """``44 states, 60 transitions, depth 12`` (no seconds: reports must not vary)."""
    stats = checked.exploration.stats
    return f"{stats.states} states, {stats.transitions} transitions, depth {stats.depth}"


def bound_phrase(checked: CheckedVariant) -> str:
    """Which bound stopped the search, with its value."""
    result = checked.exploration
    bounds = result.bounds
    value = {ExitReason.MAX_STATES: bounds.max_states, ExitReason.MAX_DEPTH: bounds.max_depth,
             ExitReason.TIMEOUT: None if bounds.timeout is None else f"{bounds.timeout:g} s",
             ExitReason.MAX_MEMORY: bounds.max_memory}.get(result.exit_reason)
    return result.exit_reason.describe() + (f" ({value})" if value is not None else "")


# -- frequency and coverage --------------------------------------------------------


def frequency_items(frequency) -> tuple:
    """How common a violation is, over the full state graph. ``frequency`` is
    read with ``getattr``: ``violating_states``, ``states``,
    ``violating_orderings`` and ``orderings``, each None when not computed."""
    states = _share(getattr(frequency, "violating_states", None), getattr(frequency, "states", None),
                    "reachable states show the violation", "violating states")
    orderings = _share(getattr(frequency, "violating_orderings", None), getattr(frequency, "orderings", None),
                       "orderings of the steps reach it", "violating orderings")
    return (states, orderings if orderings.endswith("not computed") else
            orderings + "; orderings that differ only in the order of independent steps count once")


def _share(part, whole, what: str, short: str) -> str:
    if part is None:
        return f"{short}: not computed"
    if not whole:
        return f"{part} {what}"
    return f"{part} of {whole} {what} ({100 * part / whole:.1f}%)"


def _frequency_blocks(checked: CheckedVariant) -> list:
    if checked.frequency is None and checked.stopped("frequency"):
        return [Heading(3, ("How common the violation is",)),
                Para((f"Not computed ({checked.stopped('frequency')}).",))]
    if checked.frequency is None:
        return []
    return [Heading(3, ("How common the violation is",)),
            Items(tuple((item,) for item in frequency_items(checked.frequency)))]


def _coverage_blocks(checked: CheckedVariant) -> list:
    if checked.exploration.verdict is Verdict.SAFE and checked.stopped("coverage"):
        return [Heading(3, ("Steps never executed",)), Para((f"Not computed ({checked.stopped('coverage')}).",))]
    if not checked.coverage:
        return []
    rows = tuple((thread, text, _line_of(where, checked.scenario.path)) for thread, text, where in checked.coverage)
    return [Heading(3, ("Steps never executed",)),
            Para(("No explored state executed these steps. That is usually a mistake in the model "
                  "(a condition that is never true, a lock that is never released), and the verdict "
                  "says nothing about them.",), "warning"),
            Table(("thread", "step", "line"), rows)]


def _line_of(where: str, path: str) -> str:
    """``scenarios/x.yaml:125`` -> ``125`` in x.yaml's own report."""
    file, _, line = where.rpartition(":")
    return line if file == path and line.isdigit() else where


# -- small text helpers ------------------------------------------------------------


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _dedent(lines: list) -> tuple:
    margin = min((len(line) - len(line.lstrip()) for line in lines if line.strip()), default=0)
    return tuple(line[margin:] for line in lines)


# -- Markdown ----------------------------------------------------------------------


def render_markdown(checked: list, path: str) -> str:
    """The Markdown report for one scenario file."""
    return markdown_blocks(document(checked, path), checked)


def markdown_blocks(blocks: list, checked: list | None = None) -> str:
    """Blocks as Markdown; a ``Chart`` becomes a Mermaid sequence diagram of
    ``checked[index]`` (and is left out when ``checked`` is not given)."""
    out = [_markdown_block(block, checked) for block in blocks if checked is not None or not isinstance(block, Chart)]
    return "\n\n".join(out) + "\n"


def _markdown_block(block, checked: list | None = None) -> str:
    if isinstance(block, Chart):
        return ("The same counterexample as a sequence diagram (an arrow is a write to shared state):\n\n"
                + _md_fence(Pre(tuple(sequence_diagram(checked[block.index])), "mermaid")))
    if isinstance(block, Heading):
        return "#" * block.level + " " + _md_inline(block.parts)
    if isinstance(block, Para):
        text = _md_start(_md_inline(block.parts))
        return f"> **Warning:** {text}" if block.style == "warning" else text
    if isinstance(block, Items):
        return "\n".join("- " + _md_start(_md_inline(item)) for item in block.items)
    if isinstance(block, Pre):
        return _md_fence(block)
    if isinstance(block, Table):
        return _md_table(block)
    raise TypeError(f"not a report block: {block!r}")


_LANG = {"sh": "sh", "code": "python", "diagram": "text", "text": "text", "model": "text", "stamp": "text",
         "mermaid": "mermaid"}


def _md_fence(block: Pre) -> str:
    longest = max((len(run) for line in block.lines for run in re.findall(r"`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return "\n".join([fence + _LANG[block.kind], *block.lines, fence])


def _md_table(table: Table) -> str:
    lines = ["| " + " | ".join(md_cell(h) for h in table.headers) + " |",
             "|" + "|".join("---" for _ in table.headers) + "|"]
    lines += ["| " + " | ".join(md_cell(cell) for cell in row) + " |" for row in table.rows]
    return "\n".join(lines)


def md_cell(text: str) -> str:
    """A table cell: one line (a line break would end the table), escaped."""
    return md_escape(" ".join(str(text).split()))


def _md_inline(parts: tuple) -> str:
    """Inline text on one line: a line break inside it (an assert message
    may hold one) could start a heading or a list in the middle of a
    paragraph; Markdown shows a line break there as a space anyway."""
    return "".join(md_code(_one_line(p.text)) if isinstance(p, Code) else md_escape(_one_line(p)) for p in parts)


def _one_line(text: str) -> str:
    return re.sub(r"[ \t]*(?:\r\n|[\r\n])[ \t]*", " ", text)


def md_code(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


_URL = re.compile(r"<?(https?://[^\s<>]+[^\s<>.,;:)\]])>?")


def md_escape(text: str) -> str:
    """Prose as Markdown that shows exactly this text; URLs become links."""
    out = []
    last = 0
    for match in _URL.finditer(text):
        out.append(_md_plain(text[last:match.start()]))
        out.append(f"<{match.group(1)}>")
        last = match.end()
    out.append(_md_plain(text[last:]))
    return "".join(out)


def _md_plain(text: str) -> str:
    # an underscore between two letters or digits never starts emphasis: do_swap_page stays readable
    text = re.sub(r"([\\`*\[\]<|~])", r"\\\1", text)
    text = re.sub(r"&(?=#?\w+;)", r"\\&", text)
    return re.sub(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])", r"\\_", text)


def _md_start(text: str) -> str:
    """Escape what would make a paragraph a list, heading or quote."""
    match = re.match(r"(\d+)([.)])(\s|$)", text)
    if match:
        return match.group(1) + "\\" + text[len(match.group(1)):]
    return "\\" + text if text[:1] in "#+-=>" else text
