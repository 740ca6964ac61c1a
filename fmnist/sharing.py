"""Pull a run's outputs from the project's default DVC remote before `dvc repro`, when there is one and it answers.

bin/pipeline runs `python -m fmnist.sharing`: it prints one line (what it pulled, or why it skipped) and never
fails, so a checkout without a remote, or offline, still runs the pipeline.
"""
import subprocess
import sys
import threading
from pathlib import Path

from dvc.config import Config
from dvc.fs import get_cloud_fs

from fmnist.errors import first_line

PROBE_TIMEOUT_S = 20


def load_config(root):
    """The DVC config of the project in `root`, all levels merged (system, global, .dvc/config, config.local)."""
    return Config(dvc_dir=Path(root) / ".dvc")


def default_remote(config):
    """(name, url) of the default DVC remote; None if unset."""
    name = config["core"].get("remote")
    if not name:
        return None
    return name, config["remote"][name]["url"]


def unreachable_reason(config, name, timeout_s=PROBE_TIMEOUT_S):
    """None if remote `name` answers; else why not, in a few words.

    A local remote must be an existing directory; a network remote must answer a lookup of its root within
    `timeout_s` (any answer will do: the pull that follows tells what is there).
    """
    try:
        cls, fs_config, path = get_cloud_fs(config, name=name)
    except Exception as error:  # e.g. s3:// without the dvc-s3 plugin installed
        return first_line(error)
    if cls.protocol == "local":
        return None if Path(path).is_dir() else f"no directory {path}"
    outcome = {}

    def probe():
        try:
            cls(**fs_config).info(path)  # not exists(): fsspec's exists() is False when nothing answers
        except FileNotFoundError as error:
            # fsspec's HTTP raises this for a refused connection too, from the connection error;
            # from an HTTP status (404), or from nothing, it is the remote's own answer
            cause = error.__cause__
            if cause is None or getattr(cause, "status", None) is not None:
                outcome["answered"] = True
            else:
                outcome["error"] = first_line(cause)
        except Exception as error:
            outcome["error"] = first_line(error)
        else:
            outcome["answered"] = True

    # a daemon thread, so a remote that never answers cannot hold up the run or its exit
    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout_s)
    if "answered" in outcome:
        return None
    return outcome.get("error", f"no answer in {timeout_s} s")


def pull_line(root, timeout_s=PROBE_TIMEOUT_S):
    """Pull from the default remote if there is one and it answers; one line saying what happened."""
    try:
        config = load_config(root)
        remote = default_remote(config)
    except Exception as error:
        return f"pull: skipped, the DVC config is unreadable ({first_line(error)})"
    if remote is None:
        return "pull: skipped, no default DVC remote (`dvc remote add -d NAME URL` sets one)"
    name, url = remote
    reason = unreachable_reason(config, name, timeout_s)
    if reason:
        return f"pull: skipped, DVC remote '{name}' ({url}) is unreachable: {reason}"
    result = subprocess.run([sys.executable, "-m", "dvc", "pull"], cwd=root, capture_output=True, text=True)
    output = [line.strip() for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    if result.returncode == 0:
        return f"pull: from DVC remote '{name}' ({url}): {output[-1] if output else 'done'}"
    what = missing_outputs(output) or (output[-1] if output else f"exit status {result.returncode}")
    return (f"pull: incomplete from DVC remote '{name}' ({url}): {what}; "
            f"dvc repro rebuilds what is missing (`dvc push` after it shares the run)")


def missing_outputs(output):
    """'N outputs not there' from the lines of a failed `dvc pull`, which lists the outputs it could not check out."""
    starts = [i for i, line in enumerate(output) if line.endswith("Checkout failed for following targets:")]
    if not starts:
        return None
    targets = [line for line in output[starts[0] + 1:] if not line.startswith(("Is your cache", "<http"))]
    return f"{len(targets)} outputs not there"


def main():
    print(pull_line("."), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
