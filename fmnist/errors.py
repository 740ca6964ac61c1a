"""The one error type a user can fix, and the wrapper that turns it into a one-line message."""
import sys


class StudyError(Exception):
    """A problem with the input or the configuration that the message tells the user how to fix."""


def run_stage(main):
    """Run a stage's main(); a StudyError becomes one line on stderr and exit status 2."""
    try:
        main()
    except StudyError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
