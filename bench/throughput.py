"""Training images per second of the default CNN: our tf.data path against a plain Keras script.

Both train the same model (params.yaml's cnn section) on the same prepared images for a warm-up epoch
and TIMED_EPOCHS timed ones, whose median rate counts (this VM's speed wanders);
prints one JSON line. Run from the project root; bench/run.py calls it.
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
TIMED_EPOCHS = 3


class EpochTimer(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)


def images_per_second(params, fit):
    make_deterministic(params.seed)
    model = build_cnn(params)
    compile_model(model, params, steps_per_epoch=int(np.ceil(IMAGES / params.batch_size)))
    timer = EpochTimer()
    fit(model, timer)
    return IMAGES / float(np.median(timer.seconds[1:]))  # the first epoch traces and warms up


def main():
    params = load_params("cnn", CnnParams)
    images, labels = (array[:IMAGES] for array in load_split(prepared_split("train")))

    def ours(model, timer):
        data = image_dataset(images, labels, params.batch_size, shuffle_seed=params.seed)
        model.fit(data, epochs=1 + TIMED_EPOCHS, callbacks=[timer], shuffle=False, verbose=0)

    def plain(model, timer):  # the seeds' style: float arrays in memory, Keras slices the batches
        x = images.astype("float32")
        y = keras.utils.to_categorical(labels, len(CLASS_NAMES))
        model.fit(x, y, batch_size=params.batch_size, epochs=1 + TIMED_EPOCHS, callbacks=[timer], verbose=0)

    ours_rate, plain_rate = images_per_second(params, ours), images_per_second(params, plain)
    print(json.dumps({"images": IMAGES, "timed_epochs": TIMED_EPOCHS, "ours_images_per_s": round(ours_rate, 1),
                      "plain_images_per_s": round(plain_rate, 1), "ratio": round(ours_rate / plain_rate, 3)}))


if __name__ == "__main__":
    main()
