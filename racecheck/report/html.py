"""The report as one self-contained HTML page.

The same blocks as the Markdown report (``markdown.document``), with each
race diagram in a ``<pre>`` and the SVG sequence chart of the same
counterexample under it. Inline CSS, no scripts, no external fonts, images
or stylesheets: the file can be attached to a review or opened offline.
Every piece of text goes through ``html.escape``; URLs in prose become
links.
"""

from __future__ import annotations

import re
from html import escape

from racecheck.report.blocks import Chart, Code, Heading, Items, Para, Pre, Table, plain
from racecheck.report.markdown import document
from racecheck.report.svg import sequence_chart

CSS = """
body { margin: 0; background: #f6f7f9; color: #1f2328;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 32px 48px; background: #fff;
  border-left: 1px solid #e3e6ea; border-right: 1px solid #e3e6ea; }
h1 { font-size: 1.6em; line-height: 1.25; margin: 0.4em 0 0.3em; }
h2 { font-size: 1.25em; margin: 2em 0 0.6em; padding-bottom: 0.25em; border-bottom: 1px solid #e3e6ea; }
h2.variant { border-bottom: 2px solid #e3e6ea; }
h3 { font-size: 1.05em; margin: 1.6em 0 0.5em; }
p, ul { margin: 0.6em 0; }
p, li { overflow-wrap: anywhere; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace;
  font-size: 0.87em; }
pre { font-size: 13px; }
p code, li code, h2 code, h3 code { background: #f0f2f5; padding: 0.05em 0.3em; border-radius: 3px; }
pre { background: #f6f8fa; border: 1px solid #e3e6ea; border-radius: 6px; padding: 10px 12px;
  overflow-x: auto; line-height: 1.4; }
pre.diagram { background: #fbfbf8; }
pre.sh { background: #1f2328; color: #f6f8fa; border-color: #1f2328; }
pre.code { border-left: 3px solid #c62828; }
pre.model { border-left: 3px solid #1a56c4; }
pre.stamp { background: #fff; color: #57606a; }
pre.sh, pre.code, pre.model, pre.text { white-space: pre-wrap; overflow-wrap: anywhere; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 14px; }
th, td { border: 1px solid #d9dde3; padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #f0f2f5; }
.badge { display: inline-block; font-size: 12px; font-weight: 600; padding: 1px 8px; margin-right: 8px;
  border-radius: 10px; vertical-align: 2px; text-transform: uppercase; letter-spacing: 0.03em; }
.badge.violation { background: #fdecea; color: #b71c1c; border: 1px solid #f5c2c0; }
.badge.safe { background: #e6f4ea; color: #1e6b34; border: 1px solid #b7dfc2; }
.badge.inconclusive { background: #fff4d6; color: #8a5a00; border: 1px solid #f0d68a; }
.warning { background: #fff4d6; border-left: 4px solid #e0a800; padding: 8px 12px; }
figure { margin: 0.8em 0 1em; overflow-x: auto; }
figure svg { max-width: 100%; height: auto; border: 1px solid #e3e6ea; border-radius: 6px; }
figcaption { color: #6b7280; font-size: 13px; margin-top: 4px; }
""".strip()


def render_html(checked: list, path: str, blocks: list | None = None) -> str:
    """The HTML report for one scenario file (``blocks``: already built)."""
    blocks = document(checked, path) if blocks is None else blocks
    title = plain(blocks[0].parts)
    body = "\n".join(_html_block(block, checked) for block in blocks)
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{escape(title)}</title>\n<style>\n{CSS}\n</style>\n</head>\n<body>\n<main>\n"
            f"{body}\n</main>\n</body>\n</html>\n")


def _html_block(block, checked: list) -> str:
    if isinstance(block, Heading):
        return _heading(block)
    if isinstance(block, Para):
        css = ' class="warning"' if block.style == "warning" else ""
        lead = "<strong>Warning:</strong> " if block.style == "warning" else ""
        return f"<p{css}>{lead}{_inline(block.parts)}</p>"
    if isinstance(block, Items):
        return "<ul>\n" + "\n".join(f"<li>{_inline(item)}</li>" for item in block.items) + "\n</ul>"
    if isinstance(block, Pre):
        return f'<pre class="{block.kind}"><code>' + escape("\n".join(block.lines)) + "</code></pre>"
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Chart):
        return _chart(checked[block.index])
    raise TypeError(f"not a report block: {block!r}")


def _heading(block: Heading) -> str:
    level = block.level
    text = _inline(block.parts)
    if not block.tag:
        return f"<h{level}>{text}</h{level}>"
    badge = f'<span class="badge {escape(block.tag)}">{escape(block.tag)}</span>'
    names = [p.text for p in block.parts if isinstance(p, Code)]
    anchor = "variant-" + re.sub(r"[^A-Za-z0-9_.+-]", "-", names[0]) if names else "result"
    return f'<h{level} class="variant" id="{escape(anchor)}">{badge}{text}</h{level}>'


def _table(table: Table) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in table.headers)
    rows = "\n".join("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>"
                     for row in table.rows)
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}\n</tbody>\n</table>"


def _chart(checked) -> str:
    return (f"<figure>\n{sequence_chart(checked)}<figcaption>The same counterexample as a sequence chart: "
            "one lane per thread, time running down, an arrow at each context switch.</figcaption>\n"
            "</figure>")


_URL = re.compile(r"https?://[^\s<>]+[^\s<>.,;:)\]]")


def _inline(parts: tuple) -> str:
    return "".join(f"<code>{escape(p.text)}</code>" if isinstance(p, Code) else _prose(p) for p in parts)


def _prose(text: str) -> str:
    out, last = [], 0
    for match in _URL.finditer(text):
        url = escape(match.group(0))
        out += [escape(text[last:match.start()]), f'<a href="{url}">{url}</a>']
        last = match.end()
    return "".join(out + [escape(text[last:])])
