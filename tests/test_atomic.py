"""fmnist.atomic: outputs appear whole with ordinary permissions, or not at all."""
import json
import os
import stat

import numpy as np
import pytest

from fmnist.atomic import TEMP_PREFIX, atomic_dir, atomic_path, save_arrays, write_json, write_text


class Boom(Exception):
    pass


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def leftovers(directory):
    return [path.name for path in directory.iterdir() if path.name.startswith(TEMP_PREFIX)]


@pytest.fixture
def umask_022():
    """A known umask, so that 'the permissions open() would give' is one definite value."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_atomic_path_creates_the_file_with_plain_open_permissions(tmp_path, umask_022):
    target = tmp_path / "sub" / "out.json"
    with atomic_path(target) as temp:
        assert temp.parent == target.parent and temp.name.startswith(TEMP_PREFIX)
        assert not target.exists()
        temp.write_text("new")
    assert target.read_text() == "new"
    reference = tmp_path / "reference"
    reference.write_text("x")
    assert mode(target) == mode(reference) == 0o644
    assert leftovers(target.parent) == []


def test_atomic_path_keeps_the_old_file_when_the_body_raises(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old")
    with pytest.raises(Boom):
        with atomic_path(target) as temp:
            temp.write_text("half written")
            raise Boom
    assert target.read_text() == "old"
    assert leftovers(tmp_path) == []


def test_atomic_path_creates_nothing_when_the_body_raises(tmp_path):
    target = tmp_path / "out.npz"
    with pytest.raises(Boom):
        with atomic_path(target):
            raise Boom
    assert sorted(path.name for path in tmp_path.iterdir()) == []


def test_atomic_dir_creates_the_directory_with_plain_mkdir_permissions(tmp_path, umask_022):
    target = tmp_path / "data" / "raw"
    with atomic_dir(target) as temp:
        assert temp.parent == target.parent and temp.name.startswith(TEMP_PREFIX)
        (temp / "a").write_bytes(b"1")
    assert sorted(path.name for path in target.iterdir()) == ["a"]
    reference = tmp_path / "reference"
    reference.mkdir()
    assert mode(target) == mode(reference) == 0o755
    assert leftovers(target.parent) == []


def test_atomic_dir_replaces_the_old_directory_whole(tmp_path):
    target = tmp_path / "raw"
    target.mkdir()
    (target / "stale").write_text("old")
    with atomic_dir(target) as temp:
        (temp / "fresh").write_text("new")
    assert sorted(path.name for path in target.iterdir()) == ["fresh"]
    assert leftovers(tmp_path) == []


def test_atomic_dir_keeps_the_old_directory_when_the_body_raises(tmp_path):
    target = tmp_path / "raw"
    target.mkdir()
    (target / "kept").write_text("old")
    with pytest.raises(Boom):
        with atomic_dir(target) as temp:
            (temp / "partial").write_text("half")
            raise Boom
    assert sorted(path.name for path in target.iterdir()) == ["kept"]
    assert (target / "kept").read_text() == "old"
    assert leftovers(tmp_path) == []


def test_atomic_dir_creates_nothing_when_the_body_raises(tmp_path):
    with pytest.raises(Boom):
        with atomic_dir(tmp_path / "raw") as temp:
            (temp / "partial").write_text("half")
            raise Boom
    assert list(tmp_path.iterdir()) == []


def test_write_json_and_save_arrays_write_whole_files(tmp_path):
    write_json(tmp_path / "m.json", {"accuracy": 0.5})
    assert json.loads((tmp_path / "m.json").read_text()) == {"accuracy": 0.5}
    write_text(tmp_path / "m.json", "replaced")
    assert (tmp_path / "m.json").read_text() == "replaced"
    save_arrays(tmp_path / "split.npz", images=np.arange(6).reshape(2, 3), labels=np.array([1, 2]))
    with np.load(tmp_path / "split.npz") as arrays:
        np.testing.assert_array_equal(arrays["images"], np.arange(6).reshape(2, 3))
        np.testing.assert_array_equal(arrays["labels"], [1, 2])
    assert leftovers(tmp_path) == []
