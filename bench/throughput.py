"""Training images per second of the default CNN: our tf.data path against a plain Keras script.

Both train the same model (params.yaml's cnn section) on the same prepared images, one epoch each in
turn: a warm-up round, then TIMED_ROUNDS timed ones (order alternating). This VM's speed changes by up to
2x within minutes, so the ratio is the median of the per-round ratios, each from two epochs run
back to back. Prints one JSON line. Run from the project root; bench/run.py calls it.
"""
import json
import time

import keras
import numpy as np

from fmnist.data import CLASS_NAMES, load_split
from fmnist.models import build_cnn
from fmnist.params import CnnParams, load_params
from fmnist.paths import prepared_split
from fmnist.training import compile_model, image_dataset, make_deterministic

IMAGES = 12800  # enough for a stable rate, short enough to keep the benchmark quick
TIMED_ROUNDS = 4


def compiled_cnn(params):
    make_deterministic(params.seed)
    model = build_cnn(params)
    compile_model(model, params, steps_per_epoch=int(np.ceil(IMAGES / params.batch_size)))
    return model


def seconds(train_one_epoch):
    start = time.perf_counter()
    train_one_epoch()
    return time.perf_counter() - start


def main():
    params = load_params("cnn", CnnParams)
    images, labels = (array[:IMAGES] for array in load_split(prepared_split("train")))
    ours_model, plain_model = compiled_cnn(params), compiled_cnn(params)
    data = image_dataset(images, labels, params.batch_size, shuffle_seed=params.seed)
    x = images.astype("float32")  # the seeds' style: float arrays in memory, Keras slices the batches
    y = keras.utils.to_categorical(labels, len(CLASS_NAMES))
    epochs = {
        "ours": lambda: ours_model.fit(data, epochs=1, shuffle=False, verbose=0),
        "plain": lambda: plain_model.fit(x, y, batch_size=params.batch_size, epochs=1, verbose=0),
    }
    times = {"ours": [], "plain": []}
    for round_ in range(1 + TIMED_ROUNDS):  # round 0 traces and warms up
        for name in (("ours", "plain") if round_ % 2 else ("plain", "ours")):
            times[name].append(seconds(epochs[name]))
    ours, plain = (np.array(times[name][1:]) for name in ("ours", "plain"))
    print(json.dumps({"images": IMAGES, "timed_epochs": TIMED_ROUNDS,
                      "ours_images_per_s": round(IMAGES / float(np.median(ours)), 1),
                      "plain_images_per_s": round(IMAGES / float(np.median(plain)), 1),
                      "ratio": round(float(np.median(plain / ours)), 3)}))


if __name__ == "__main__":
    main()
