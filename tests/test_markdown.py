"""The code spans and code blocks of `cockpit.markdown`: what a reader sees is exactly the text."""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt

from cockpit.markdown import md_code_block, md_code_span

PARSER = MarkdownIt("commonmark")


@pytest.mark.parametrize(
    "text",
    [
        "kubectl get pods -n production",
        "echo `date`",
        "`starts with a backtick",
        "ends with a backtick`",
        "a `` double and a ``` triple run",
        " padded on both sides ",
        "`",
        "|pipes| and *stars* and <html>",
    ],
)
def test_a_code_span_shows_its_text_exactly(text: str) -> None:
    inline = PARSER.parseInline(f"run {md_code_span(text)} then")[0].children or []
    spans = [token.content for token in inline if token.type == "code_inline"]
    assert spans == [text]


@pytest.mark.parametrize(
    "lines",
    [
        ["plain output"],
        ["```", "a fence inside"],
        ["````text", "a longer fence", "```"],
        ["~~~", "tildes do not close a backtick fence"],
        ["`inline` and ``double``"],
        [],
    ],
)
def test_a_code_block_holds_every_line(lines: list[str]) -> None:
    tokens = PARSER.parse("\n".join(["before", "", *md_code_block(lines, "text"), "", "after"]))
    fences = [token for token in tokens if token.type == "fence"]
    assert len(fences) == 1
    assert fences[0].info == "text"
    assert fences[0].content == "".join(f"{line}\n" for line in lines)
    assert tokens[-2].content == "after"  # nothing after the block was swallowed by it
