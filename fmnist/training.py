"""Seeded, deterministic training of a Keras model on the prepared split, logged with dvclive."""
import tempfile
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from dvclive import Live
from dvclive.keras import DVCLiveCallback

from fmnist.atomic import atomic_dir
from fmnist.data import CLASS_NAMES
from fmnist.model_files import save_model
from fmnist.models import with_flip_averaging
from fmnist.paths import model_file, training_log_dir


def make_deterministic(seed):
    """Same seed, code and data give bit-identical weights on the same CPU build."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def image_dataset(images, labels, batch_size, shuffle_seed=None):
    """uint8 arrays -> batches of (float images, one-hot labels); shuffled each epoch when seeded."""
    dataset = tf.data.Dataset.from_tensor_slices((images, labels))
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(labels), seed=shuffle_seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size).map(
        lambda x, y: (tf.cast(x, tf.float32), tf.one_hot(tf.cast(y, tf.int32), len(CLASS_NAMES))),
        num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.prefetch(tf.data.AUTOTUNE)


def learning_rate(params, steps_per_epoch):
    """Per step: a linear warm-up from 0 over warmup_epochs, then constant or a cosine decay to 0."""
    warmup_steps = round(params.warmup_epochs * steps_per_epoch)
    decay_steps = params.epochs * steps_per_epoch - warmup_steps
    if not warmup_steps:
        if params.schedule == "cosine":
            return keras.optimizers.schedules.CosineDecay(params.learning_rate, decay_steps)
        return params.learning_rate
    return keras.optimizers.schedules.CosineDecay(  # alpha 1: no decay after the warm-up
        0.0, decay_steps, alpha=0.0 if params.schedule == "cosine" else 1.0,
        warmup_target=params.learning_rate, warmup_steps=warmup_steps)


def compile_model(model, params, steps_per_epoch):
    model.compile(
        optimizer=keras.optimizers.AdamW(learning_rate(params, steps_per_epoch), weight_decay=params.weight_decay),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=params.label_smoothing),
        metrics=["accuracy"],
    )


def fit(model, params, train, validation, live_dir):
    """Train `model` in place; per-epoch train/eval loss and accuracy go to dvclive files in live_dir.

    validation None: no per-epoch validation (the why stages' many short runs score once, at the end)."""
    train_data = image_dataset(*train, params.batch_size, shuffle_seed=params.seed)
    validation_data = None if validation is None else image_dataset(*validation, params.batch_size)
    compile_model(model, params, steps_per_epoch=len(train_data))
    live = Live(str(live_dir), dvcyaml=False, save_dvc_exp=False)
    callbacks = [DVCLiveCallback(live=live)]
    if params.early_stopping_patience and validation is not None:
        callbacks.append(keras.callbacks.EarlyStopping(
            monitor="val_accuracy", patience=params.early_stopping_patience, restore_best_weights=True))
    model.fit(train_data, validation_data=validation_data, epochs=params.epochs, callbacks=callbacks,
              shuffle=False, verbose=2)  # the dataset reshuffles itself, seeded


def train_model(params, build, train, validation, live_dir):
    """Seeded build and fit: the one training path of the train_<name> stages and of the search.

    Returns the trained model (without test-time flip averaging: see deployed_model).
    """
    make_deterministic(params.seed)
    model = build(params)
    fit(model, params, train, validation, live_dir)
    return model


def deployed_model(model, params):
    """The model as it is saved and evaluated: flip-averaged when params.test_time_flip."""
    return with_flip_averaging(model) if params.test_time_flip else model


def train_stage(name, params, build, train, validation):
    """A train_<name> stage after its inputs are read: seeded build, fit, then the model saved atomically."""
    with atomic_dir(training_log_dir(name)) as live_dir:
        model = train_model(params, build, train, validation, live_dir)
        save_model(deployed_model(model, params), model_file(name))
    print(f"train_{name}: {model.count_params()} parameters, saved {model_file(name)}")


def train_unlogged(params, build, train, validation):
    """train_model with its dvclive log thrown away: for runs whose curves nobody reads (search trials, why stages)."""
    with tempfile.TemporaryDirectory(prefix="fmnist-run-") as live_dir:
        return train_model(params, build, train, validation, Path(live_dir) / "live")


def predict_probabilities(model, images, batch_size):
    """Class probabilities of uint8 images (n, 28, 28)."""
    # A dataset, not the array: under op determinism, tf.data rewrites Keras's own array pipeline into a node
    # with an attribute its op lacks, and TensorFlow logs an "E0000 ... use_unbounded_threadpool" line.
    labels = np.zeros(len(images), np.uint8)  # image_dataset wants labels; predict ignores them
    return model.predict(image_dataset(images, labels, batch_size), verbose=0)


def predict_classes(model, images, batch_size):
    return np.argmax(predict_probabilities(model, images, batch_size), axis=1)


def score_trial(params, build, train, validation, batch_size):
    """(validation accuracy, training seconds) of `params`: trained by train_model, its dvclive log thrown away,
    then scored as the evaluate stage scores the saved model (flip-averaged when test_time_flip)."""
    start = time.perf_counter()
    model = train_unlogged(params, build, train, validation)
    seconds = time.perf_counter() - start
    return float(np.mean(predict_classes(deployed_model(model, params), validation[0], batch_size) == validation[1])), seconds
