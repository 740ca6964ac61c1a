"""fmnist.model_files: a byte-stable .keras archive that loads back the same model; damaged files fail in one line."""
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest

from fmnist.atomic import save_arrays
from fmnist.errors import StudyError
from fmnist.model_files import FIXED_ZIP_TIME, load_model, require_model, save_model
from fmnist.models import with_flip_averaging
from fmnist.paths import model_file, prepared_split

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(3)
    inputs = keras.Input(shape=(28, 28), name="image")
    outputs = keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(inputs))
    return with_flip_averaging(keras.Model(inputs, outputs))


@pytest.fixture(scope="module")
def saved(model, tmp_path_factory):
    path = tmp_path_factory.mktemp("models") / "cnn.keras"
    save_model(model, path)
    return path


def test_saving_twice_gives_the_same_bytes(model, saved, tmp_path):
    again = tmp_path / "again.keras"
    save_model(model, again)
    assert again.read_bytes() == saved.read_bytes()


def test_the_archive_carries_no_save_time(saved):
    with zipfile.ZipFile(saved) as archive:
        assert {info.date_time for info in archive.infolist()} == {FIXED_ZIP_TIME}
        assert "1980-01-01" in archive.read("metadata.json").decode()
        assert [info.filename for info in archive.infolist()] == sorted(archive.namelist())


def test_the_saved_model_loads_and_predicts_the_same(model, saved):
    images = np.random.default_rng(0).integers(0, 256, (4, 28, 28)).astype("float32")
    loaded = load_model(saved, "cnn")
    np.testing.assert_array_equal(loaded.predict(images, verbose=0), model.predict(images, verbose=0))


def test_no_temporary_file_is_left_beside_the_model(saved):
    assert [path.name for path in saved.parent.iterdir()] == ["cnn.keras"]


def test_a_missing_model_says_how_to_get_it(tmp_path):
    with pytest.raises(StudyError, match=r"missing: run `dvc pull` \(from a remote\) or `dvc repro train_ann`"):
        require_model(tmp_path / "ann.keras", "ann")


@pytest.mark.parametrize("damage", ["truncated", "empty", "not_a_zip"])
def test_a_damaged_archive_is_named_in_one_line(saved, tmp_path, damage):
    data = saved.read_bytes()
    broken = tmp_path / "cnn.keras"
    broken.write_bytes({"truncated": data[: len(data) // 2], "empty": b"", "not_a_zip": b"hello"}[damage])
    with pytest.raises(StudyError, match=r"cnn\.keras is corrupt or truncated .*`dvc repro train_cnn`") as caught:
        load_model(broken, "cnn")
    assert "\n" not in str(caught.value)


def test_a_corrupt_member_is_caught_by_its_checksum(saved, tmp_path):
    data = bytearray(saved.read_bytes())
    weights_at = data.index(b"HDF")  # stored uncompressed: flip a byte inside the weights file
    data[weights_at + 200] ^= 0xFF
    broken = tmp_path / "cnn.keras"
    broken.write_bytes(bytes(data))
    with pytest.raises(StudyError, match=r"corrupt or truncated \(model\.weights\.h5\)"):
        load_model(broken, "cnn")


def test_a_zip_that_is_not_a_keras_model_is_named_in_one_line(tmp_path):
    path = tmp_path / "cnn.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "not a model")
    with pytest.raises(StudyError, match=r"cnn\.keras cannot be loaded as a Keras model") as caught:
        load_model(path, "cnn")
    assert "\n" not in str(caught.value)


def test_evaluate_names_a_truncated_model_in_one_line(saved, tmp_path):
    """As a user runs the stage (TensorFlow's log level left alone): exit 2, one line, nothing written."""
    shutil.copy(PROJECT / "params.yaml", tmp_path / "params.yaml")
    save_arrays(tmp_path / prepared_split("test"), images=np.zeros((3, 28, 28), np.uint8), labels=np.zeros(3, np.uint8))
    model = tmp_path / model_file("cnn")
    model.parent.mkdir()
    model.write_bytes(saved.read_bytes()[:1000])
    before = sorted(tmp_path.rglob("*"))
    env = {name: setting for name, setting in os.environ.items() if name != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run([sys.executable, str(PROJECT / "stages/evaluate.py"), "cnn"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("error: models/cnn.keras is corrupt or truncated")
    assert sorted(tmp_path.rglob("*")) == before
