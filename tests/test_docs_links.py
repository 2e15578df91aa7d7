"""Every relative link of README.md and docs/**/*.md points at a file or folder that exists.

A link is ``[text](target)``, ``![alt](target)`` or a reference definition ``[name]: target``; links to other sites
(``https:``, ``mailto:``, …) and to an anchor of the same page (``#…``) are not checked, and neither is text inside
fenced code blocks or inline code. The anchor part of a link (``page.md#section``) is dropped before the check.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])

FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+[\"'(][^)]*)?\)")
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.MULTILINE)
EXTERNAL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def relative_links(text: str) -> list[str]:
    """The relative link targets of a markdown text, in order, without their anchors."""
    text = INLINE_CODE.sub("", FENCE.sub("", text))
    targets = INLINE_LINK.findall(text) + REFERENCE_LINK.findall(text)
    return [target.split("#", 1)[0] for target in targets
            if not EXTERNAL.match(target) and not target.startswith("#")]


def broken_links(page: Path) -> list[str]:
    """The relative links of ``page`` whose target does not exist, resolved from the page's folder."""
    return [target for target in relative_links(page.read_text(encoding="utf-8"))
            if not (page.parent / target).exists()]


def test_the_documentation_pages_are_found():
    assert ROOT / "README.md" in PAGES and ROOT / "docs" / "index.md" in PAGES


@pytest.mark.parametrize("page", PAGES, ids=[str(page.relative_to(ROOT)) for page in PAGES])
def test_every_relative_link_resolves(page: Path):
    assert broken_links(page) == [], f"{page.relative_to(ROOT)}: links to missing files"


def test_a_broken_link_is_reported(tmp_path: Path):
    (tmp_path / "there.md").write_text("x")
    (tmp_path / "sub").mkdir()
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](there.md#part) ![fig](sub/) [web](https://example.org/x.md) [self](#top)\n"
        "[gone](missing.md) ![lost](figures/lost.png \"title\")\n"
        "`[in code](nowhere.md)`\n"
        "```\n[in a fence](nowhere_either.md)\n```\n"
        "[ref]: ../absent.md\n",
        encoding="utf-8",
    )
    assert broken_links(page) == ["missing.md", "figures/lost.png", "../absent.md"]
