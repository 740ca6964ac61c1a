"""The one error type a user can fix, the missing-input check that raises it, and the wrapper that turns it into
a one-line message."""
import sys
from pathlib import Path


class StudyError(Exception):
    """A problem with the input or the configuration that the message tells the user how to fix."""


def first_line(error):
    """An exception's message cut to its first line (its type name when it has none): for one-line errors."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def require_input(path, stage):
    """`path` if it exists, else a StudyError naming the stage that writes it."""
    if not Path(path).exists():
        raise StudyError(f"{path} is missing: run `dvc repro {stage}` first")
    return path


def run_stage(main):
    """Run a stage's main(); a StudyError becomes one line on stderr and exit status 2."""
    try:
        main()
    except StudyError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
