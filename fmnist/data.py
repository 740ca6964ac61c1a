"""Fashion-MNIST as data: class names, IDX parsing, payload verification, the split and its files."""
import hashlib
import struct

import numpy as np
from sklearn.model_selection import train_test_split

from fmnist.errors import StudyError, require_input

CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
IMAGE_SIDE = 28
IMAGE_MAGIC, LABEL_MAGIC = 2051, 2049

# SHA-256 of each decompressed payload of Zalando Research's release (github.com/zalandoresearch/fashion-mnist).
RAW_CHECKSUMS = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
SPLIT_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
               "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


def sha256(payload):
    return hashlib.sha256(payload).hexdigest()


def verify_payload(name, payload, expected):
    actual = sha256(payload)
    if actual != expected:
        raise StudyError(f"{name}: SHA-256 of the decompressed payload is {actual}, expected {expected}; "
                         "the source is corrupt or not Fashion-MNIST: delete it or point fetch.source_dir elsewhere")


def parse_idx_images(payload, name):
    """IDX image file -> uint8 array (count, 28, 28), checking magic, shape and length."""
    magic, count, rows, cols = read_header(payload, name, ">4I", IMAGE_MAGIC)
    if (rows, cols) != (IMAGE_SIDE, IMAGE_SIDE):
        raise StudyError(f"{name}: images are {rows}x{cols}, expected {IMAGE_SIDE}x{IMAGE_SIDE}")
    body = check_length(payload, name, 16, count * rows * cols)
    return np.frombuffer(body, dtype=np.uint8).reshape(count, rows, cols)


def parse_idx_labels(payload, name):
    """IDX label file -> uint8 array (count,), checking magic, length and the label range."""
    magic, count = read_header(payload, name, ">2I", LABEL_MAGIC)
    labels = np.frombuffer(check_length(payload, name, 8, count), dtype=np.uint8)
    if labels.size and labels.max() >= len(CLASS_NAMES):
        raise StudyError(f"{name}: label {labels.max()} is outside 0..{len(CLASS_NAMES) - 1}")
    return labels


def read_header(payload, name, layout, expected_magic):
    size = struct.calcsize(layout)
    if len(payload) < size:
        raise StudyError(f"{name}: {len(payload)} bytes is too short for an IDX header of {size} bytes")
    header = struct.unpack(layout, payload[:size])
    if header[0] != expected_magic:
        raise StudyError(f"{name}: magic number {header[0]}, expected {expected_magic}; wrong or corrupt IDX file")
    return header


def check_length(payload, name, header_size, body_size):
    if len(payload) != header_size + body_size:
        raise StudyError(f"{name}: {len(payload)} bytes, header promises {header_size + body_size}")
    return payload[header_size:]


def load_raw_split(raw_dir, split):
    """(images, labels) of the 'train' or 'test' IDX pair in raw_dir, checked to match in count."""
    images_name, labels_name = SPLIT_FILES[split]
    images = parse_idx_images(require_input(raw_dir / images_name, "fetch").read_bytes(), images_name)
    labels = parse_idx_labels(require_input(raw_dir / labels_name, "fetch").read_bytes(), labels_name)
    if len(images) != len(labels):
        raise StudyError(f"{images_name} has {len(images)} images but {labels_name} has {len(labels)} labels")
    return images, labels


def stratified_split(images, labels, validation_fraction, seed):
    """Seeded split that keeps every class's share equal in train and validation."""
    train_x, val_x, train_y, val_y = train_test_split(
        images, labels, test_size=validation_fraction, random_state=seed, stratify=labels)
    return {"train": (train_x, train_y), "validation": (val_x, val_y)}


def stratified_subset(images, labels, size, seed):
    """`size` of the (images, labels), drawn seeded with each class's share kept; all of them if size reaches their count."""
    if size >= len(labels):
        return images, labels
    subset_x, _, subset_y, _ = train_test_split(images, labels, train_size=size, random_state=seed, stratify=labels)
    return subset_x, subset_y


def load_split(path):
    with np.load(require_input(path, "preprocess")) as arrays:
        return arrays["images"], arrays["labels"]
