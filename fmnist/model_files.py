"""Trained models on disk: a byte-stable .keras archive, and loading that fails with one line, not a traceback.

Keras is imported inside the functions: callers check their inputs first, and TensorFlow's start-up notices
(which no log level silences on some CPUs) must not bury a one-line error.
"""
import json
import re
import zipfile
from pathlib import Path

from fmnist.atomic import atomic_path
from fmnist.errors import StudyError, first_line

# A .keras archive stamps its members and metadata.json with the save time, and config.json names shared objects
# by their id() in the saving process; fixed values make the same weights give the same bytes, so a retrain with
# unchanged inputs leaves dvc.lock unchanged.
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
FIXED_DATE_SAVED = "1980-01-01@00:00:00"
SHARED_OBJECT_ID = re.compile(rb'"shared_object_id": (\d+)')


def save_model(model, path):
    """Save `model` atomically as a .keras archive whose bytes depend only on its architecture and weights."""
    with atomic_path(path) as temp:
        model.save(temp)
        with zipfile.ZipFile(temp) as archive:
            members = {info.filename: (info.compress_type, archive.read(info)) for info in archive.infolist()}
        with zipfile.ZipFile(temp, "w") as archive:
            for name, (compress_type, data) in sorted(members.items()):
                if name == "metadata.json":
                    data = json.dumps({**json.loads(data), "date_saved": FIXED_DATE_SAVED}).encode()
                if name == "config.json":
                    data = numbered_shared_objects(data)
                member = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
                member.compress_type, member.external_attr = compress_type, 0o644 << 16
                archive.writestr(member, data)


def numbered_shared_objects(config):
    """config.json with each shared object's id() replaced by its order of first appearance (same sharing)."""
    numbers = {}
    return SHARED_OBJECT_ID.sub(
        lambda match: b'"shared_object_id": %d' % numbers.setdefault(match[1], len(numbers)), config)


def require_model(path, name):
    """`path` if it holds a complete zip archive, else a StudyError saying how to get the model."""
    path = Path(path)
    if not path.exists():
        raise StudyError(f"{path} is missing: run `dvc pull` (from a remote) or `dvc repro train_{name}`")
    try:
        with zipfile.ZipFile(path) as archive:
            broken = archive.testzip()
    except (zipfile.BadZipFile, OSError) as error:
        broken = f"not a .keras archive: {error}"
    if broken:
        raise StudyError(f"{path} is corrupt or truncated ({broken}): "
                         f"restore it with `dvc checkout {path}` or `dvc repro train_{name}`")
    return path


def load_model(path, name):
    """The trained model at `path` (checked with require_model), loaded in Keras safe mode."""
    require_model(path, name)
    import keras

    from fmnist.models import HorizontalFlip  # noqa: F401  (registers the layer that flip-averaged models use)
    try:
        return keras.saving.load_model(path, safe_mode=True)
    except Exception as error:  # Keras raises many types for a damaged archive, some with misleading text
        raise StudyError(f"{path} cannot be loaded as a Keras model ({first_line(error)}): "
                         f"restore it with `dvc checkout {path}` or `dvc repro train_{name}`") from None
