"""fmnist.models: raw 0..255 images in, class probabilities out; the ANN has no convolutions, the CNN does."""
import keras
import numpy as np
import pytest

from conftest import project_params
from fmnist.data import CLASS_NAMES
from fmnist.models import build_ann, build_cnn, with_flip_averaging
from fmnist.params import AnnParams, CnnParams

# Architectures the tests assert on, pinned here: params.yaml's ann and cnn sections get tuned.
CLASSIC_BASELINE_ANN = dict(hidden_units=(128,), dropout=0.0, flip=False, translate=0.0, erase=0.0)
PINNED_CNN = dict(filters=(32, 64), convs_per_block=1, kernel_size=3, padding="valid", batch_norm=False,
                  dense_units=128, dropout=0.0, flip=False, translate=0.0, erase=0.0)
TINY_CNN = dict(filters=(4,), convs_per_block=1, kernel_size=3, padding="valid", batch_norm=False, dense_units=8,
                dropout=0.0)


def raw_images(count, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(count, 28, 28)).astype("float32")


def layers_of(model, kind):
    return [layer for layer in model.layers if isinstance(layer, kind)]


@pytest.fixture(scope="module")
def baseline_ann():
    keras.utils.set_random_seed(0)
    return build_ann(project_params("ann", AnnParams, **CLASSIC_BASELINE_ANN))


@pytest.fixture(scope="module")
def pinned_cnn():
    keras.utils.set_random_seed(0)
    return build_cnn(project_params("cnn", CnnParams, **PINNED_CNN))


@pytest.fixture(scope="module")
def configured_ann():
    """The ANN exactly as the repo's params.yaml configures it, whatever its current tuning."""
    keras.utils.set_random_seed(0)
    return build_ann(project_params("ann", AnnParams))


@pytest.fixture(scope="module")
def configured_cnn():
    """The CNN exactly as the repo's params.yaml configures it, whatever its current tuning."""
    keras.utils.set_random_seed(0)
    return build_cnn(project_params("cnn", CnnParams))


@pytest.mark.parametrize("model_fixture", ["baseline_ann", "pinned_cnn", "configured_ann", "configured_cnn"])
def test_raw_images_map_to_class_probabilities(request, model_fixture):
    model = request.getfixturevalue(model_fixture)
    probabilities = model.predict(raw_images(5), verbose=0)
    assert probabilities.shape == (5, len(CLASS_NAMES))
    assert np.all(probabilities >= 0)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_classic_baseline_ann_is_flatten_dense_128_relu_dense_10_softmax(baseline_ann):
    kinds = [type(layer) for layer in baseline_ann.layers]
    after_scaling = kinds[kinds.index(keras.layers.Rescaling) + 1:]
    assert after_scaling == [keras.layers.Flatten, keras.layers.Dense, keras.layers.Dense]
    dense = [(layer.units, layer.get_config()["activation"]) for layer in layers_of(baseline_ann, keras.layers.Dense)]
    assert dense == [(128, "relu"), (len(CLASS_NAMES), "softmax")]
    assert not layers_of(baseline_ann, keras.layers.Conv2D)


def test_ann_hidden_units_and_dropout_follow_params():
    model = build_ann(project_params("ann", AnnParams, hidden_units=(64, 32), dropout=0.25))
    assert [layer.units for layer in layers_of(model, keras.layers.Dense)] == [64, 32, len(CLASS_NAMES)]
    assert [layer.rate for layer in layers_of(model, keras.layers.Dropout)] == [0.25, 0.25]
    assert not layers_of(model, keras.layers.Conv2D)


def test_cnn_has_the_configured_convolutions_and_pooling(pinned_cnn):
    convolutions = layers_of(pinned_cnn, keras.layers.Conv2D)
    assert [layer.filters for layer in convolutions] == [32, 64]
    assert all(layer.kernel_size == (3, 3) and layer.padding == "valid" for layer in convolutions)
    assert [layer.output.shape[1:3] for layer in convolutions] == [(26, 26), (11, 11)]  # valid: 28-2, then 13-2
    assert len(layers_of(pinned_cnn, keras.layers.MaxPooling2D)) == 2
    dense = [(layer.units, layer.get_config()["activation"]) for layer in layers_of(pinned_cnn, keras.layers.Dense)]
    assert dense == [(128, "linear"), (len(CLASS_NAMES), "softmax")]  # the hidden Dense's ReLU is its own layer


@pytest.mark.parametrize("padding, sides", [("same", [28, 28, 14, 14]), ("valid", [24, 20, 6, 2])])
def test_cnn_blocks_follow_params(padding, sides):
    model = build_cnn(project_params("cnn", CnnParams, filters=(8, 16), convs_per_block=2, kernel_size=5,
                                     padding=padding, batch_norm=True, dense_units=0))
    convolutions = layers_of(model, keras.layers.Conv2D)
    assert [layer.filters for layer in convolutions] == [8, 8, 16, 16]
    assert all(layer.kernel_size == (5, 5) and layer.padding == padding for layer in convolutions)
    assert [layer.output.shape[1:3] for layer in convolutions] == [(side, side) for side in sides]
    assert len(layers_of(model, keras.layers.MaxPooling2D)) == 2
    assert len(layers_of(model, keras.layers.BatchNormalization)) == 4
    assert [layer.units for layer in layers_of(model, keras.layers.Dense)] == [len(CLASS_NAMES)]


@pytest.fixture(scope="module")
def flip_pair():
    """A tiny CNN, its flip-averaged version, and a batch of images followed by their mirrors."""
    keras.utils.set_random_seed(1)
    model = build_cnn(project_params("cnn", CnnParams, **TINY_CNN))
    images = raw_images(3, seed=1)
    return model, with_flip_averaging(model), np.concatenate([images, images[:, :, ::-1]])


def test_flip_averaging_gives_the_same_output_for_an_image_and_its_mirror(flip_pair):
    model, averaged, batch = flip_pair
    plain = model.predict(batch, verbose=0)
    assert not np.allclose(plain[:3], plain[3:], atol=1e-4)  # otherwise the check below proves nothing
    outputs = averaged.predict(batch, verbose=0)
    np.testing.assert_allclose(outputs[:3], outputs[3:], rtol=0, atol=1e-7)


def test_flip_averaging_is_the_mean_of_both_views(flip_pair):
    model, averaged, batch = flip_pair
    plain = model.predict(batch, verbose=0)
    np.testing.assert_allclose(averaged.predict(batch, verbose=0)[:3], (plain[:3] + plain[3:]) / 2, atol=1e-6)


def test_flip_averaged_model_survives_save_and_load(flip_pair, tmp_path):
    _, averaged, batch = flip_pair
    path = tmp_path / "model.keras"
    averaged.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded.predict(batch, verbose=0), averaged.predict(batch, verbose=0), atol=1e-7)


def test_every_model_name_has_a_builder_a_params_section_and_dvc_stages():
    from pathlib import Path

    import yaml

    from fmnist.models import BUILDERS
    from fmnist.params import MODEL_NAMES, MODEL_PARAMS

    assert tuple(BUILDERS) == tuple(MODEL_PARAMS) == MODEL_NAMES
    stages = yaml.safe_load((Path(__file__).resolve().parents[1] / "dvc.yaml").read_text())["stages"]
    assert stages["evaluate"]["foreach"] == list(MODEL_NAMES)
    assert {f"train_{name}" for name in MODEL_NAMES} <= set(stages)
