"""Atomic writes: every output appears whole or not at all, so DVC never caches a half file."""
import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path

TEMP_PREFIX = ".tmp-"  # git-ignored, so leftovers of a killed stage are never committed


def umask_mode(mode):
    """mkstemp/mkdtemp create private files; outputs get the permissions a plain open() would give."""
    umask = os.umask(0)
    os.umask(umask)
    return mode & ~umask


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; on success rename it onto `path`, on failure delete it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=path.suffix, dir=path.parent)
    os.close(fd)
    os.chmod(temp, umask_mode(0o666))
    try:
        yield Path(temp)
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.remove(temp)


@contextlib.contextmanager
def atomic_dir(path):
    """Yield a fresh temporary directory beside `path`; on success it replaces `path` whole.

    The old directory is renamed aside before the new one moves in, so at every instant `path` is either
    the old complete directory, absent for one rename, or the new complete one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=path.parent))
    old = temp.with_name(temp.name + "-old")
    os.chmod(temp, umask_mode(0o777))
    try:
        yield temp
        if path.exists():
            os.replace(path, old)
        os.replace(temp, path)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def write_text(path, text):
    with atomic_path(path) as temp:
        temp.write_text(text, encoding="utf-8")


def write_json(path, data):
    write_text(path, json.dumps(data, indent=2) + "\n")


def save_arrays(path, **arrays):
    import numpy as np

    with atomic_path(path) as temp:
        with open(temp, "wb") as stream:
            np.savez(stream, **arrays)


def save_figure(figure, path, metadata=None):
    """`metadata` as matplotlib's savefig takes it: {"Software": None} leaves out the matplotlib version."""
    import matplotlib.pyplot as plt

    with atomic_path(path) as temp:
        figure.savefig(temp, dpi=110, bbox_inches="tight", format=Path(path).suffix[1:], metadata=metadata)
    plt.close(figure)
