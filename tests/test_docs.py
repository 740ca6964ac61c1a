"""README.md and docs/: every relative link and image resolves, every command in a bash block exists, and every
figure of the committed run is what bin/docs renders from the committed files (passages, pictures, rerun claims)."""
import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dvc_project import copy_project, edit_params, run, stages_a_repro_would_run
from fmnist.docs import committed
from fmnist.docs.pages import blocks, stale_passages
from fmnist.docs.pictures import PICTURES, draw, stale_pictures
from fmnist.docs.staleness import rerun_after_edit

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)")
HEADING = re.compile(r"^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$")
CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^()\s<>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s.*)?$", re.M)
HTML_TARGET = re.compile(r"<(?:img|a|source)\b[^>]*?\b(?:src|href|srcset)=[\"']([^\"']+)[\"']", re.I)
SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
PYTHON = re.compile(r"^python(3(\.\d+)?)?$")

SHELL_BLOCKS = {"bash", "sh", "shell"}
SEPARATORS = {"&&", "||", ";", "|", "&", "(", ")"}
# Shell builtins: no file to find.
BUILTINS = {"source", ".", "cd", "export", "set", "unset", "echo"}
# Used only in the database-server recipe, on a machine of its own: need not exist where the tests run.
SERVER_TOOLS = {"sudo"}


def split_page(text):
    """A Markdown page as (prose, code blocks): prose with fenced blocks blanked, each block (info, lines)."""
    prose, blocks, fence = [], [], None
    for line in text.splitlines():
        match = FENCE.match(line)
        if fence is None and match:
            fence, info, body = match.group(1), match.group(2).lower(), []
            prose.append("")
        elif fence is not None and match and match.group(1).startswith(fence) and not match.group(2):
            blocks.append((info, body))
            fence = None
            prose.append("")
        elif fence is not None:
            body.append(line)
        else:
            prose.append(line)
    assert fence is None, "a code block is never closed"
    return "\n".join(prose), blocks


def github_slug(heading):
    """The anchor GitHub gives a heading: markup and punctuation dropped, lower case, spaces to hyphens."""
    text = LINK.sub(lambda match: re.match(r"!?\[(.*)\]", match.group(0)).group(1), heading)
    text = re.sub(r"[^\w\- ]", "", text.lower())
    return text.replace(" ", "-")


def anchors(page):
    """Every heading anchor of a page, numbered -1, -2, ... on repeats as GitHub does."""
    prose, _ = split_page(page.read_text(encoding="utf-8"))
    seen = {}
    for line in prose.splitlines():
        match = HEADING.match(line)
        if match:
            slug = github_slug(match.group(1))
            seen[slug] = seen.get(slug, -1) + 1
            yield slug if seen[slug] == 0 else f"{slug}-{seen[slug]}"


def link_targets(page):
    """The targets of a page's links and images (inline, reference and HTML), outside code."""
    prose, _ = split_page(page.read_text(encoding="utf-8"))
    paragraphs = [CODE_SPAN.sub(" ", paragraph) for paragraph in prose.split("\n\n")]
    text = "\n\n".join(paragraphs)
    return [*LINK.findall(text), *REFERENCE.findall(text), *HTML_TARGET.findall(text)]


def git_ignored(path, root):
    """Whether git ignores `path` (a DVC output, say): such a file is not on GitHub, so a link to it breaks."""
    if not (root / ".git").exists() or shutil.which("git") is None:
        return False
    return subprocess.run(["git", "-C", str(root), "check-ignore", "-q", str(path)]).returncode == 0


def broken_links(page, root):
    """One line per link or image of `page` whose file (or heading) does not exist in the repository."""
    problems = []
    for target in link_targets(page):
        if SCHEME.match(target) or target.startswith("//"):
            continue
        file_part, _, anchor = target.partition("#")
        base = root if file_part.startswith("/") else page.parent
        path = (base / file_part.lstrip("/")).resolve() if file_part else page
        if not path.is_relative_to(root.resolve()):
            problems.append(f"{target}: outside the repository")
        elif not path.exists():
            problems.append(f"{target}: no such file")
        elif git_ignored(path, root):
            problems.append(f"{target}: ignored by git, so not on GitHub")
        elif anchor and path.suffix == ".md" and anchor.lower() not in set(anchors(path)):
            problems.append(f"{target}: no heading #{anchor} in {path.name}")
    return problems


def shell_commands(lines):
    """Each simple command of a shell block as its words: `\\` continuations joined, comments dropped,
    lines split at && || ; | & and parentheses, leading VAR=value assignments dropped."""
    commands = []
    for line in "\n".join(lines).replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        command = []
        for word in [*lexer, ";"]:
            if word in SEPARATORS:
                while command and ASSIGNMENT.match(command[0]):
                    command.pop(0)
                if command:
                    commands.append(command)
                command = []
            else:
                command.append(word)
    return commands


def executable(path):
    return path.is_file() and os.access(path, os.X_OK)


def python_problem(args, root):
    """What is wrong with `python ARGS`: a missing module of the package, or a missing script."""
    if args[:1] == ["-m"] and len(args) > 1:
        module = args[1]
        if module.split(".")[0] == "fmnist":
            relative = Path(*module.split("."))
            if not ((root / relative).with_suffix(".py").is_file() or (root / relative / "__main__.py").is_file()):
                return f"python -m {module}: no {relative}.py or {relative}/__main__.py"
        elif importlib.util.find_spec(module) is None:
            return f"python -m {module}: no such module"
    elif args and not args[0].startswith("-") and args[0].endswith(".py") and not (root / args[0]).is_file():
        return f"python {args[0]}: no such file"
    return None


def command_problem(words, root):
    """Why the command `words` cannot run from the project root, or None when its program exists."""
    program, args = words[0], words[1:]
    if program in BUILTINS:
        if program in ("source", ".") and args and args[0] != ".venv/bin/activate" and not (root / args[0]).is_file():
            return f"{program} {args[0]}: no such file"
        return None
    if "/" in program:
        path = root / program
        # .venv/ is made by bin/setup, which also made the interpreter running these tests
        if program.startswith(".venv/bin/") and not path.exists():
            path = Path(sys.prefix, "bin", program.removeprefix(".venv/bin/"))
        if not executable(path):
            return f"{program}: not an executable file in the repository"
    elif not (executable(Path(sys.prefix, "bin", program)) or shutil.which(program) or program in SERVER_TOOLS):
        return f"{program}: not in the virtual environment, not on PATH"
    if PYTHON.match(Path(program).name):
        return python_problem(args, root)
    return None


def unknown_commands(page, root):
    """One line per command of a bash block in `page` whose program, script or module does not exist."""
    _, blocks = split_page(page.read_text(encoding="utf-8"))
    problems = []
    for info, lines in blocks:
        if info in SHELL_BLOCKS:
            try:
                commands = shell_commands(lines)
            except ValueError as error:  # an unclosed quote
                problems.append(f"unparsable shell block ({error}): {lines[0]}")
                continue
            problems += [problem for words in commands if (problem := command_problem(words, root))]
    return problems


def page_id(page):
    return str(page.relative_to(ROOT))


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_links_and_images_resolve(page):
    problems = broken_links(page, ROOT)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_shell_commands_exist(page):
    problems = unknown_commands(page, ROOT)
    assert not problems, "\n".join(problems)


def test_every_docs_page_is_linked_from_the_readme():
    linked = {(ROOT / target.partition("#")[0]).resolve() for target in link_targets(ROOT / "README.md")}
    assert [page_id(page) for page in PAGES[1:] if page.resolve() not in linked] == []


def test_the_readme_is_an_entrance_of_at_most_200_lines():
    """The first screen: what it is, the picture, the two commands, the results; the rest lives in docs/."""
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 200


def test_every_docs_page_opens_with_what_it_is_for():
    for page in PAGES[1:]:
        lines = page.read_text(encoding="utf-8").splitlines()
        assert lines[0].startswith("# ") and lines[1] == "" and lines[2] and not lines[2].startswith("#"), page


def test_a_broken_link_image_or_anchor_is_reported(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "other.md").write_text("# Other page\n\n## Runs: one or many\n\n```\n# not a heading\n```\n")
    (tmp_path / "picture.png").write_bytes(b"")
    page = tmp_path / "README.md"
    page.write_text(
        "[fine](docs/other.md) ![fine](picture.png) [fine](docs/other.md#runs-one-or-many) [fine](#title)\n"
        "[web](https://example.com/missing.md) `[in code](missing.md)`\n\n"
        "# Title\n\n"
        "[gone](docs/missing.md) ![gone](plots/missing.png) [gone](docs/other.md#not-a-heading)\n"
        "[gone](../outside.md) [gone](#nowhere)\n\n"
        "```\n[in a block](missing.md)\n```\n")
    assert broken_links(page, tmp_path) == [
        "docs/missing.md: no such file",
        "plots/missing.png: no such file",
        "docs/other.md#not-a-heading: no heading #not-a-heading in other.md",
        "../outside.md: outside the repository",
        "#nowhere: no heading #nowhere in README.md",
    ]


def test_a_missing_script_module_or_program_is_reported(tmp_path):
    (tmp_path / "bin").mkdir()
    for name, mode in (("ok", 0o755), ("not-executable", 0o644)):
        (tmp_path / "bin" / name).write_text("#!/bin/sh\n")
        (tmp_path / "bin" / name).chmod(mode)
    (tmp_path / "fmnist").mkdir()
    (tmp_path / "fmnist" / "summary.py").write_text("")
    (tmp_path / "script.py").write_text("")
    page = tmp_path / "README.md"
    page.write_text(
        "```bash\n"
        "source .venv/bin/activate && bin/ok --flag   # a comment naming bin/missing\n"
        "FOO=1 BAR=2 bin/ok && python -m fmnist.summary | python script.py; python -m pytest\n"
        "bin/ok \\\n  --long-option 'a b' \\\n  --another\n"
        "bin/missing && FOO=1 bin/not-executable\n"
        "python -m fmnist.nosuch || python nosuch.py\n"
        "no-such-program-here --flag\n"
        "```\n\n"
        "```\nbin/missing in a plain block is output, not a command\n```\n")
    assert unknown_commands(page, tmp_path) == [
        "bin/missing: not an executable file in the repository",
        "bin/not-executable: not an executable file in the repository",
        "python -m fmnist.nosuch: no fmnist/nosuch.py or fmnist/nosuch/__main__.py",
        "python nosuch.py: no such file",
        "no-such-program-here: not in the virtual environment, not on PATH",
    ]


def test_shell_commands_are_split_like_bash():
    assert shell_commands([
        "git clone <repository> fmnist && cd fmnist   # then",
        "bin/search --storage \"$STUDY\" --apply 57 && dvc repro && dvc metrics diff",
        "dvc exp run -S 'ann.hidden_units=[128]' \\",
        "  -S ann.dropout=0",
    ]) == [
        ["git", "clone", "<", "repository", ">", "fmnist"], ["cd", "fmnist"],
        ["bin/search", "--storage", "$STUDY", "--apply", "57"], ["dvc", "repro"], ["dvc", "metrics", "diff"],
        ["dvc", "exp", "run", "-S", "ann.hidden_units=[128]", "-S", "ann.dropout=0"],
    ]


@pytest.mark.parametrize("heading, slug", [
    ("On many machines: a shared PostgreSQL", "on-many-machines-a-shared-postgresql"),
    ("Throughput: train_cnn against plain Keras", "throughput-train_cnn-against-plain-keras"),
    ("Past 94% in the 10-minute pipeline", "past-94-in-the-10-minute-pipeline"),
    ("The `dvc.yaml` [stages](x.md)", "the-dvcyaml-stages"),
])
def test_github_slug(heading, slug):
    assert github_slug(heading) == slug


def test_every_generated_passage_is_what_the_committed_files_say():
    problems = stale_passages(ROOT)
    assert not problems, "stale passages (run bin/docs):\n" + "\n".join(problems)


def test_every_picture_of_the_committed_run_is_a_redraw_of_the_committed_metrics():
    problems = stale_pictures(ROOT)
    assert not problems, "stale pictures (run bin/docs):\n" + "\n".join(problems)


@pytest.mark.parametrize("path", sorted(PICTURES), ids=str)
def test_a_picture_is_byte_stable(path, tmp_path):
    draw(path, tmp_path / "a")
    draw(path, tmp_path / "b")
    assert (tmp_path / "a" / path).read_bytes() == (tmp_path / "b" / path).read_bytes()


def committed_files_copy(target):
    """The files the pages are rendered from, and the pages, copied to `target`."""
    for pattern in ("metrics/*.json", "metrics/*/*.json", "dvclive/*/metrics.json", "bench/*.json", "dvc.lock",
                    "search.yaml", "README.md", "docs/*.md", "docs/*.png"):
        for path in ROOT.glob(pattern):
            (target / path.relative_to(ROOT)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target / path.relative_to(ROOT))
    return target


def test_a_changed_metric_names_its_stale_passage_and_picture(tmp_path, monkeypatch):
    root = committed_files_copy(tmp_path)
    monkeypatch.setattr(committed, "ROOT", root)
    metrics = json.loads((root / "metrics/cnn.json").read_text())
    metrics["per_class"]["Coat"]["f1"] += 0.01
    (root / "metrics/cnn.json").write_text(json.dumps(metrics))
    problems = stale_passages(root)
    assert [re.sub(r":\d+:", ":LINE:", problem.split(" is stale")[0]) for problem in problems] == [
        "docs/results.md:LINE: the passage of `print(results.per_class_table())`"]
    assert stale_pictures(root) == ["docs/per_class_f1.png: differs from a redraw from the committed metrics"]
    summary = json.loads((root / "metrics/compare.json").read_text())
    summary["mcnemar"]["p_value"] = 0.5
    (root / "metrics/compare.json").write_text(json.dumps(summary))
    assert any(problem.startswith("README.md:") and "results.gain_paragraph()" in problem
               for problem in stale_passages(root))


def test_blocks_are_found_with_their_line_and_code():
    text = "a\n<!-- [[[cog print(1) ]]] -->\n1\n<!-- [[[end]]] -->\nb\n<!-- [[[cog print(2) ]]] -->\n2\n3\n<!-- [[[end]]] -->\n"
    assert blocks(text) == [(2, "print(1)", "1\n"), (6, "print(2)", "2\n3\n")]


@pytest.fixture(scope="module")
def tiny_study(built_study, tmp_path_factory):
    return copy_project(built_study, tmp_path_factory.mktemp("docs-study"))


@pytest.mark.parametrize("key, value", [("cnn.epochs", 2), ("ann.dropout", 0.3)])
def test_the_rerun_claims_are_what_dvc_reruns(tiny_study, key, value):
    """The pages' rerun claims come from DVC's stage graph (fmnist.docs.staleness): on the tests' tiny project,
    which has the project's dvc.yaml, they must be exactly the stages `dvc repro --dry --force-downstream` lists:
    plain `--dry` lists only the stages whose own params changed, as nothing ran to change their outputs."""
    path = tiny_study["path"]
    section, name = key.split(".")
    edit_params(path, {section: {name: value}})
    try:
        would_run = stages_a_repro_would_run(tiny_study)
    finally:
        run(path, tiny_study["env"], "git", "checkout", "params.yaml")
    assert would_run == set(rerun_after_edit([key], root=path))
    assert rerun_after_edit([key], root=path) == rerun_after_edit([key])
