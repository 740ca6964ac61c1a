"""fmnist.data: IDX parsing, payload verification and the stratified split."""
import struct

import numpy as np
import pytest

from fmnist.data import (CLASS_NAMES, IMAGE_MAGIC, LABEL_MAGIC, SPLIT_FILES, load_raw_split, load_split,
                         parse_idx_images, parse_idx_labels, sha256, stratified_split, stratified_subset, verify_payload)
from fmnist.errors import StudyError
from idx_builders import flip_byte, idx_images, idx_labels, raw_payloads, synthetic_images


@pytest.fixture
def images_and_labels():
    return synthetic_images(12, seed=0)


def test_parse_good_image_file(images_and_labels):
    images, _ = images_and_labels
    parsed = parse_idx_images(idx_images(images), "images")
    assert parsed.dtype == np.uint8
    assert parsed.shape == (12, 28, 28)
    np.testing.assert_array_equal(parsed, images)


def test_parse_good_label_file(images_and_labels):
    _, labels = images_and_labels
    parsed = parse_idx_labels(idx_labels(labels), "labels")
    assert parsed.dtype == np.uint8
    np.testing.assert_array_equal(parsed, labels)


def test_every_label_from_0_to_9_is_accepted():
    labels = np.arange(len(CLASS_NAMES))
    np.testing.assert_array_equal(parse_idx_labels(idx_labels(labels), "labels"), labels)


def test_image_file_with_label_magic_is_rejected(images_and_labels):
    images, _ = images_and_labels
    with pytest.raises(StudyError, match=f"my-images: magic number {LABEL_MAGIC}, expected {IMAGE_MAGIC}"):
        parse_idx_images(idx_images(images, magic=LABEL_MAGIC), "my-images")


def test_label_file_with_image_magic_is_rejected(images_and_labels):
    _, labels = images_and_labels
    with pytest.raises(StudyError, match=f"my-labels: magic number {IMAGE_MAGIC}, expected {LABEL_MAGIC}"):
        parse_idx_labels(idx_labels(labels, magic=IMAGE_MAGIC), "my-labels")


def test_file_shorter_than_its_header_is_rejected():
    with pytest.raises(StudyError, match="my-images: 7 bytes is too short"):
        parse_idx_images(struct.pack(">I", IMAGE_MAGIC)[:3] + b"1234", "my-images")
    with pytest.raises(StudyError, match="my-labels: 0 bytes is too short"):
        parse_idx_labels(b"", "my-labels")


@pytest.mark.parametrize("change", [-1, +1], ids=["truncated", "trailing-byte"])
def test_image_body_of_wrong_length_is_rejected(images_and_labels, change):
    payload = idx_images(images_and_labels[0])
    payload = payload[:-1] if change < 0 else payload + b"\0"
    with pytest.raises(StudyError, match=f"my-images: {16 + 12 * 784 + change} bytes, header promises {16 + 12 * 784}"):
        parse_idx_images(payload, "my-images")


def test_truncated_label_body_is_rejected(images_and_labels):
    payload = idx_labels(images_and_labels[1])[:-1]
    with pytest.raises(StudyError, match="my-labels: 19 bytes, header promises 20"):
        parse_idx_labels(payload, "my-labels")


def test_images_of_wrong_dimensions_are_rejected():
    images = np.zeros((3, 27, 28), np.uint8)  # body length matches the header; only the side is wrong
    with pytest.raises(StudyError, match="my-images: images are 27x28, expected 28x28"):
        parse_idx_images(idx_images(images), "my-images")


@pytest.mark.parametrize("bad_label", [10, 255])
def test_label_outside_0_to_9_is_rejected(bad_label):
    with pytest.raises(StudyError, match=f"my-labels: label {bad_label} is outside 0..9"):
        parse_idx_labels(idx_labels([0, 3, bad_label, 9]), "my-labels")


def write_raw_dir(directory, payloads):
    for name, payload in payloads.items():
        (directory / name).write_bytes(payload)
    return directory


@pytest.mark.parametrize("split, count", [("train", 30), ("test", 20)])
def test_load_raw_split_reads_the_matching_pair(tmp_path, split, count):
    raw = write_raw_dir(tmp_path, raw_payloads(train_count=30, test_count=20))
    images, labels = load_raw_split(raw, split)
    assert images.shape == (count, 28, 28)
    expected_images, expected_labels = synthetic_images(count, seed=1 if split == "train" else 2)
    np.testing.assert_array_equal(images, expected_images)
    np.testing.assert_array_equal(labels, expected_labels)


def test_load_raw_split_rejects_count_mismatch(tmp_path):
    payloads = raw_payloads(train_count=30)
    images_name, labels_name = SPLIT_FILES["train"]
    payloads[labels_name] = idx_labels(np.zeros(29, np.uint8))
    raw = write_raw_dir(tmp_path, payloads)
    with pytest.raises(StudyError) as caught:
        load_raw_split(raw, "train")
    message = str(caught.value)
    assert f"{images_name} has 30 images" in message
    assert f"{labels_name} has 29 labels" in message


def test_load_raw_split_names_the_bad_file(tmp_path):
    payloads = raw_payloads()
    images_name, _ = SPLIT_FILES["test"]
    payloads[images_name] = payloads[images_name][:-5]
    raw = write_raw_dir(tmp_path, payloads)
    with pytest.raises(StudyError, match=f"^{images_name}: "):
        load_raw_split(raw, "test")


def test_verify_payload_accepts_the_right_digest():
    payload = idx_labels([1, 2, 3])
    verify_payload("labels", payload, sha256(payload))


def test_verify_payload_fails_on_one_flipped_byte():
    payload = idx_labels(np.arange(10))
    expected = sha256(payload)
    corrupt = flip_byte(payload, index=9)
    with pytest.raises(StudyError) as caught:
        verify_payload("t10k-labels-idx1-ubyte", corrupt, expected)
    message = str(caught.value)
    assert message.startswith("t10k-labels-idx1-ubyte: ")
    assert expected in message
    assert sha256(corrupt) in message


def imbalanced_set():
    """Class k has 20 + 10k images; each image carries its own index in its first 2 pixels and its label in the 3rd."""
    labels = np.repeat(np.arange(len(CLASS_NAMES)), [20 + 10 * k for k in range(len(CLASS_NAMES))]).astype(np.uint8)
    labels = labels[np.random.default_rng(0).permutation(len(labels))]
    images = np.zeros((len(labels), 28, 28), np.uint8)
    index = np.arange(len(labels))
    images[:, 0, 0], images[:, 0, 1], images[:, 0, 2] = index // 256, index % 256, labels
    return images, labels


def image_ids(images):
    return images[:, 0, 0].astype(int) * 256 + images[:, 0, 1]


def test_stratified_split_keeps_class_proportions():
    images, labels = imbalanced_set()
    splits = stratified_split(images, labels, validation_fraction=0.2, seed=3)
    train_y, val_y = splits["train"][1], splits["validation"][1]
    assert len(val_y) == round(0.2 * len(labels))
    for label in range(len(CLASS_NAMES)):
        total = np.sum(labels == label)
        assert abs(np.sum(val_y == label) - 0.2 * total) <= 1
        assert np.sum(train_y == label) + np.sum(val_y == label) == total


def test_stratified_split_is_a_partition_that_keeps_pairs():
    images, labels = imbalanced_set()
    splits = stratified_split(images, labels, validation_fraction=0.2, seed=3)
    ids = np.concatenate([image_ids(splits[name][0]) for name in ("train", "validation")])
    assert sorted(ids.tolist()) == list(range(len(labels)))
    for split_images, split_labels in splits.values():
        np.testing.assert_array_equal(split_images[:, 0, 2], split_labels)


def test_stratified_split_same_seed_same_split():
    images, labels = imbalanced_set()
    first = stratified_split(images, labels, 0.2, seed=5)
    second = stratified_split(images, labels, 0.2, seed=5)
    for name in ("train", "validation"):
        np.testing.assert_array_equal(first[name][0], second[name][0])
        np.testing.assert_array_equal(first[name][1], second[name][1])


def test_stratified_split_different_seed_different_split():
    images, labels = imbalanced_set()
    first = stratified_split(images, labels, 0.2, seed=5)
    second = stratified_split(images, labels, 0.2, seed=6)
    assert set(image_ids(first["validation"][0])) != set(image_ids(second["validation"][0]))


def test_a_missing_prepared_split_names_the_file_and_the_stage_that_writes_it(tmp_path):
    with pytest.raises(StudyError, match=r"train\.npz is missing: run `dvc repro preprocess` first"):
        load_split(tmp_path / "train.npz")


def test_a_missing_raw_file_names_the_fetch_stage(tmp_path):
    with pytest.raises(StudyError, match=r"train-images-idx3-ubyte is missing: run `dvc repro fetch` first"):
        load_raw_split(tmp_path, "train")


def test_stratified_subset_keeps_pairs_and_class_shares_and_is_seeded():
    images, labels = imbalanced_set()
    subset_images, subset_labels = stratified_subset(images, labels, 100, seed=4)
    assert len(subset_labels) == 100
    np.testing.assert_array_equal(subset_images[:, 0, 2], subset_labels)
    assert len(set(image_ids(subset_images).tolist())) == 100, "no image twice"
    for label in range(len(CLASS_NAMES)):
        assert abs(np.sum(subset_labels == label) - 100 * np.mean(labels == label)) <= 1
    np.testing.assert_array_equal(stratified_subset(images, labels, 100, seed=4)[1], subset_labels)
    assert stratified_subset(images, labels, len(labels), seed=4)[1] is labels, "a size that covers all: all of them"
