"""Stage explain (one per model): what the trained model looks at and what it learned, as figures for the plots
page: the CNN's class-activation maps, first-layer filters and feature maps; the ANN's input-gradient saliency and
its most influential first-layer units."""
import numpy as np

from fmnist.atomic import save_figure
from fmnist.data import load_split
from fmnist.errors import StudyError, require_input, run_stage
from fmnist.model_files import load_model, require_model
from fmnist.params import ExplainParams, load_params, model_argument
from fmnist.paths import explain_plots, model_file, predictions_file, prepared_split

MAPS = {"cnn": "HiResCAM", "ann": "input-gradient saliency"}


def answers_explained(name, model, images, labels, probabilities):
    """The gallery of the model's maps for its most confident correct answer and mistake per class."""
    from fmnist.why.attribution import class_activation_maps, input_saliency
    from fmnist.why.explanation import explained_images
    from fmnist.why.figures import attribution_gallery
    picks = explained_images(labels, probabilities)
    shown = images[[pick["index"] for pick in picks]]
    maps = (class_activation_maps if name == "cnn" else input_saliency)(model, shown, [p["predicted"] for p in picks])
    return attribution_gallery(shown, maps, picks, f"{name.upper()}: {MAPS[name]} for the class it answered; top its "
                                                   "most confident correct answer per class, below its most confident mistake")


def what_it_learned(name, model, images, params):
    """The CNN's first-layer filters and one image's feature maps; the ANN's most influential units' weights."""
    from fmnist.why.explanation import first_block_feature_maps, first_layer_filters, influential_units
    from fmnist.why.figures import filters_and_feature_maps, unit_weights_figure
    if name == "cnn":
        image = images[params.feature_map_image]
        return filters_and_feature_maps(first_layer_filters(model), first_block_feature_maps(model, image), image,
                                        f"CNN: first-layer filters (top), then test image {params.feature_map_image} "
                                        "and its first block's feature maps")
    weights, influences = influential_units(model, images, params.ann_units)
    return unit_weights_figure(weights, influences, f"ANN: incoming weights of its {len(weights)} most influential "
                                                    "first-layer units (whole-image templates; influence above each)")


def main():
    name = model_argument("explain")
    params = load_params("explain", ExplainParams)
    images, labels = load_split(prepared_split("test"))
    if name == "cnn" and params.feature_map_image >= len(images):
        raise StudyError(f"explain.feature_map_image is {params.feature_map_image}, but the test set has "
                         f"{len(images)} images: choose one below {len(images)}")
    with np.load(require_input(predictions_file(name), f"evaluate@{name}")) as arrays:
        probabilities = arrays["probabilities"]
    require_model(model_file(name), name)
    model = load_model(model_file(name), name)
    save_figure(answers_explained(name, model, images, labels, probabilities), explain_plots(name) / "maps.png")
    save_figure(what_it_learned(name, model, images, params), explain_plots(name) / "learned.png")
    print(f"explain {name}: figures in {explain_plots(name)}/")


if __name__ == "__main__":
    run_stage(main)
