"""fmnist.why.explanation and the maps of fmnist.why.attribution on hand-set models: the images chosen per class, the CNN's
filters and feature maps, the ANN's influential units, and class-activation maps that peak on a synthetic object."""
import keras
import numpy as np
import pytest

from conftest import project_params
from fmnist.why.attribution import class_activation_maps, input_saliency
from fmnist.data import CLASS_NAMES
from fmnist.why.explanation import explained_images, first_block_feature_maps, first_layer_filters, influential_units
from fmnist.models import build_ann, build_cnn, with_flip_averaging
from fmnist.params import AnnParams, CnnParams

OFF = dict(flip=False, translate=0.0, erase=0.0, dropout=0.0)
OBJECT = (slice(5, 11), slice(15, 21))  # rows, columns of the bright square, off-centre and asymmetric


@pytest.fixture(scope="module")
def brightness_cnn():
    """A CNN whose 3x3 filters average brightness and whose class 3 logit sums what they find: it 'sees' class 3
    wherever the image is bright."""
    keras.utils.set_random_seed(0)
    model = build_cnn(project_params("cnn", CnnParams, filters=(2,), convs_per_block=1, kernel_size=3, padding="same",
                                     batch_norm=False, dense_units=0, **OFF))
    convolution = next(layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D))
    convolution.set_weights([np.full((3, 3, 1, 2), 1 / 9, np.float32), np.zeros(2, np.float32)])
    head = model.get_layer("probabilities")
    kernel = np.zeros(head.kernel.shape, np.float32)
    kernel[:, 3] = 1.0
    head.set_weights([kernel, np.zeros(len(CLASS_NAMES), np.float32)])
    return model


def object_image():
    image = np.zeros((1, 28, 28), np.uint8)
    image[0][OBJECT] = 220
    return image


@pytest.mark.parametrize("flip_averaged", [False, True], ids=["plain", "flip-averaged"])
def test_class_activation_maps_have_the_image_size_and_peak_on_the_object(brightness_cnn, flip_averaged):
    model = with_flip_averaging(brightness_cnn) if flip_averaged else brightness_cnn
    maps = class_activation_maps(model, object_image(), [3])
    assert maps.shape == (1, 28, 28)
    assert maps.max() == pytest.approx(1.0)
    peak = np.unravel_index(np.argmax(maps[0]), (28, 28))
    assert 4 <= peak[0] <= 11 and 14 <= peak[1] <= 21, f"peak {peak} is not on the object"
    near_object = np.zeros((28, 28), bool)
    near_object[4:12, 14:22] = True
    assert maps[0][near_object].sum() > 0.9 * maps[0].sum(), "the map lies on the object (and its 1-pixel rim)"


def test_input_saliency_of_an_ann_has_the_image_size():
    keras.utils.set_random_seed(0)
    ann = build_ann(project_params("ann", AnnParams, hidden_units=(64,), **OFF))
    images = np.random.default_rng(0).integers(0, 256, (2, 28, 28)).astype(np.uint8)
    maps = input_saliency(ann, images, [2, 5])
    assert maps.shape == (2, 28, 28) and maps.max(axis=(1, 2)) == pytest.approx([1.0, 1.0]) and maps.min() >= 0


def test_first_layer_filters_and_feature_maps(brightness_cnn):
    filters = first_layer_filters(brightness_cnn)
    assert filters.shape == (2, 3, 3)
    np.testing.assert_allclose(filters, 1 / 9)
    maps = first_block_feature_maps(with_flip_averaging(brightness_cnn), object_image()[0])
    assert maps.shape == (2, 28, 28)
    assert maps[0][6:10, 16:20] == pytest.approx(220 / 255, rel=1e-5), "inside the square: its brightness, scaled"
    assert maps[0][20:, :10].max() == 0, "far from it: nothing"


def test_influential_units_rank_by_mean_activation_times_outgoing_weight_size():
    keras.utils.set_random_seed(0)
    ann = build_ann(project_params("ann", AnnParams, hidden_units=(6, 4), **OFF))
    first, second = [layer for layer in ann.layers if isinstance(layer, keras.layers.Dense)][:2]
    kernel = np.zeros((28 * 28, 6), np.float32)
    for unit in range(6):
        kernel[unit, unit] = 1.0  # unit u copies pixel u (row 0)
    first.set_weights([kernel, np.zeros(6, np.float32)])
    outgoing = np.zeros((6, 4), np.float32)
    outgoing[:, 0] = [1, 2, 3, 4, 5, 6]
    second.set_weights([outgoing, np.zeros(4, np.float32)])
    images = np.zeros((2, 28, 28), np.uint8)
    images[:, 0, :6] = 255  # every unit active alike: the outgoing weights decide
    weights, influences = influential_units(ann, images, 3)
    assert weights.shape == (3, 28, 28)
    assert [int(np.argmax(w)) for w in weights] == [5, 4, 3], "the units with the largest outgoing weights, in order"
    assert influences.tolist() == pytest.approx([6.0, 5.0, 4.0])


def test_explained_images_pick_per_class_the_most_confident_correct_answer_and_mistake():
    labels = np.array([0, 0, 0, 1, 1])
    probabilities = np.full((5, len(CLASS_NAMES)), 0.01)
    probabilities[0, 0], probabilities[1, 0], probabilities[2, 1], probabilities[3, 1], probabilities[4, 0] = \
        0.6, 0.9, 0.8, 0.7, 0.95
    picks = explained_images(labels, probabilities)
    assert [(p["class"], p["kind"], p["index"], p["predicted"]) for p in picks] == [
        (0, "correct", 1, 0), (0, "mistake", 2, 1), (1, "correct", 3, 1), (1, "mistake", 4, 0)]
    assert picks[-1]["confidence"] == pytest.approx(0.95)
