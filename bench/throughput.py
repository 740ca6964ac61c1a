"""Training images per second of the default CNN: our tf.data path against a plain Keras script.

Both train the same model (params.yaml's cnn section) on the same prepared images, in rounds of one
short epoch of each path back to back (order alternating), after a warm-up round. This VM gives a
process two cores' worth of CPU in some phases and one core's worth in others, each phase several
seconds long (two independent numpy threads: CPU/wall 1.99 against 1.05). Short paired rounds keep
both epochs of a pair in the same phase, and the ratio is the median of the per-pair ratios.
Prints one JSON line. Run from the project root; bench/run.py calls it.
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

IMAGES = 2560  # one round's epoch: 2.5 to 5 s here, well inside one machine phase
TIMED_ROUNDS = 20


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
    print(json.dumps({"images": IMAGES, "timed_rounds": TIMED_ROUNDS,
                      "ours_best_images_per_s": round(IMAGES / float(ours.min()), 1),
                      "plain_best_images_per_s": round(IMAGES / float(plain.min()), 1),
                      "ratio": round(float(np.median(plain / ours)), 3),
                      "rounds_ours_faster": int(np.sum(ours < plain)),
                      "round_seconds": {"ours": ours.round(3).tolist(), "plain": plain.round(3).tolist()}}))


if __name__ == "__main__":
    main()
