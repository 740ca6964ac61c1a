"""Hand-made IDX payloads, their .gz files and checksum files, shared by the data and fetch tests."""
import gzip
import json
import struct

import numpy as np

from fmnist.data import CLASS_NAMES, IMAGE_MAGIC, LABEL_MAGIC, SPLIT_FILES, sha256


def idx_images(images, magic=IMAGE_MAGIC):
    """IDX bytes of a uint8 array (count, rows, cols)."""
    count, rows, cols = images.shape
    return struct.pack(">4I", magic, count, rows, cols) + np.asarray(images, np.uint8).tobytes()


def idx_labels(labels, magic=LABEL_MAGIC):
    """IDX bytes of a uint8 label vector."""
    labels = np.asarray(labels, np.uint8)
    return struct.pack(">2I", magic, len(labels)) + labels.tobytes()


def synthetic_images(count, seed):
    """Random 28x28 images and labels cycling through every class."""
    rng = np.random.default_rng(seed)
    labels = (np.arange(count) % len(CLASS_NAMES)).astype(np.uint8)
    images = rng.integers(0, 256, size=(count, 28, 28), dtype=np.uint8)
    return images, labels


def banded_images(count, seed):
    """Images whose class shows as a bright horizontal band, so even one epoch of training learns something."""
    images, labels = synthetic_images(count, seed)
    images //= 4
    for image, label in zip(images, labels):
        image[2 + 2 * label: 5 + 2 * label] = 250
    return images, labels


def raw_payloads(train_count=30, test_count=20, make_split=synthetic_images):
    """The four raw files, by their real names, holding small synthetic splits."""
    payloads = {}
    for split, count, seed in (("train", train_count, 1), ("test", test_count, 2)):
        images, labels = make_split(count, seed)
        images_name, labels_name = SPLIT_FILES[split]
        payloads[images_name] = idx_images(images)
        payloads[labels_name] = idx_labels(labels)
    return payloads


def flip_byte(payload, index=-1):
    """The payload with every bit of one byte inverted."""
    changed = bytearray(payload)
    changed[index] ^= 0xFF
    return bytes(changed)


def write_gz_dir(directory, payloads):
    """Write each payload as <name>.gz into directory (created if needed)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, payload in payloads.items():
        (directory / f"{name}.gz").write_bytes(gzip.compress(payload))
    return directory


def write_checksums(path, payloads):
    """The JSON file of name -> SHA-256 that FMNIST_CHECKSUMS_FILE points to."""
    path.write_text(json.dumps({name: sha256(payload) for name, payload in payloads.items()}))
    return path
