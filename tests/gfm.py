"""GitHub's own Markdown parser as a test oracle: cmark-gfm (through `cmarkgfm`) with the
extensions github.com enables, and its HTML read back as a small tree.

GitHub renders raw HTML and then sanitises it (a `<br>` in a table cell survives), so the
document is rendered with raw HTML on; tests check which tags came out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import quote

import cmarkgfm
from cmarkgfm.cmark import Options

VOID = frozenset({"br", "hr", "img", "input"})
HREF_SAFE = "-_.+!*'(),%#@?=;:/,&$~"
"""What cmark leaves as is in a link target (houdini_escape_href); the rest is %-encoded."""


@dataclass
class Node:
    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Node | str] = field(default_factory=list)

    def text(self) -> str:
        """The text a reader sees, `<br>` as a line break."""
        out = []
        after_break = False
        for child in self.children:
            if isinstance(child, str):
                # cmark writes a hard break as `<br />` and a newline: one line break.
                out.append(child[1:] if after_break and child.startswith("\n") else child)
            elif child.tag == "br":
                out.append("\n")
            else:
                out.append(child.text())
            after_break = isinstance(child, Node) and child.tag == "br"
        return "".join(out)

    def walk(self) -> Iterator[Node]:
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.walk()

    def all(self, tag: str) -> list[Node]:
        return [node for node in self.walk() if node.tag == tag]

    def tags(self) -> set[str]:
        return {node.tag for node in self.walk()}

    def links(self) -> list[tuple[str, str]]:
        """(text, href) of every link inside."""
        return [(a.text(), a.attrs.get("href", "")) for a in self.all("a")]


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("root")
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        while len(self.stack) > 1:
            if self.stack.pop().tag == tag:
                break

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def to_html(markdown: str) -> str:
    """The document as github.com renders it (before its HTML sanitiser)."""
    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)


def render(markdown: str) -> Node:
    builder = _Builder()
    builder.feed(to_html(markdown))
    builder.close()
    return builder.root


def href(url: str) -> str:
    """The `href` GitHub gives a typed address (`www.` gets `http://`), %-encoded as cmark does."""
    target = "http://" + url if url.startswith("www") else url
    return quote(target, safe=HREF_SAFE)


def sections(root: Node) -> dict[str, list[Node]]:
    """The top-level blocks under each second-level heading, by heading text."""
    out: dict[str, list[Node]] = {}
    current = ""
    for child in root.children:
        if isinstance(child, str):
            continue
        if child.tag == "h2":
            current = child.text()
            out[current] = []
        else:
            out.setdefault(current, []).append(child)
    return out


def table_cells(table: Node) -> list[list[Node]]:
    """The body rows of a table, each a list of its cells."""
    return [row.all("td") for row in table.all("tr") if row.all("td")]
