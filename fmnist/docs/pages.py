"""The pages' generated passages: cogapp runs the Python of each marked block and puts what it prints between the
markers. One function renders a page; writing the pages and checking them both use it.

A block in Markdown, invisible when rendered:
    <!-- [[[cog print(results.headline_table()) ]]] -->
    ...what it printed...
    <!-- [[[end]]] -->
"""
import difflib
import re

from cogapp import Cog

from fmnist.atomic import write_text
from fmnist.docs.committed import ROOT

PROLOGUE = "from fmnist.docs import costs, results, speed, staleness"
BLOCK = re.compile(r"\[\[\[cog (.*?)\]\]\].*?\n(.*?)<!-- \[\[\[end\]\]\]", re.S)


def pages(root=ROOT):
    """README.md and every page of docs/ that has a generated block."""
    candidates = [root / "README.md", *sorted((root / "docs").glob("*.md"))]
    return [page for page in candidates if "[[[cog" in page.read_text(encoding="utf-8")]


def render(text, name):
    """The page's text with every block's output rendered afresh from the committed files."""
    cog = Cog()
    cog.options.parse_args(["-P", "-p", PROLOGUE])
    return cog.process_string(text, name)


def write_pages(root=ROOT):
    for page in pages(root):
        text = page.read_text(encoding="utf-8")
        rendered = render(text, str(page.relative_to(root)))
        if rendered != text:
            write_text(page, rendered)


def blocks(text):
    """Each block of a page as (line number of its code, its code, its output)."""
    return [(text.count("\n", 0, match.start()) + 1, match.group(1).strip(), match.group(2))
            for match in BLOCK.finditer(text)]


def stale_passages(root=ROOT):
    """One entry per block whose committed output differs from a fresh render: the page, its line, the block's
    code, and the first lines of the difference."""
    problems = []
    for page in pages(root):
        name = str(page.relative_to(root))
        text = page.read_text(encoding="utf-8")
        for (line, code, committed), (_, _, fresh) in zip(blocks(text), blocks(render(text, name))):
            if committed != fresh:
                diff = difflib.unified_diff(committed.splitlines(), fresh.splitlines(), "committed", "rendered",
                                            n=0, lineterm="")
                problems.append(f"{name}:{line}: the passage of `{code}` is stale:\n" + "\n".join(list(diff)[2:12]))
    return problems
