"""Stage explain: what each trained model looks at and what it learned, as figures for the plots page."""
import numpy as np

from fmnist.atomic import save_figure
from fmnist.data import load_split
from fmnist.errors import StudyError, require_input, run_stage
from fmnist.model_files import load_model, require_model
from fmnist.params import ExplainParams, load_params
from fmnist.paths import EXPLAIN_PLOTS, model_file, predictions_file, prepared_split


def predicted(model):
    with np.load(require_input(predictions_file(model), f"evaluate@{model}")) as arrays:
        return arrays["probabilities"]


def main():
    params = load_params("explain", ExplainParams)
    images, labels = load_split(prepared_split("test"))
    if params.feature_map_image >= len(images):
        raise StudyError(f"explain.feature_map_image is {params.feature_map_image}, but the test set has "
                         f"{len(images)} images: choose one below {len(images)}")
    cnn_probabilities, ann_probabilities = predicted("cnn"), predicted("ann")
    for name in ("ann", "cnn"):
        require_model(model_file(name), name)
    from fmnist.why.attribution import class_activation_maps, input_saliency
    from fmnist.why.explanation import explained_images, first_block_feature_maps, first_layer_filters, influential_units
    from fmnist.why.figures import attribution_gallery, filters_and_feature_maps, unit_weights_figure
    cnn, ann = load_model(model_file("cnn"), "cnn"), load_model(model_file("ann"), "ann")

    picks = explained_images(labels, cnn_probabilities)  # the CNN's answers choose the images; the ANN explains its own
    shown = images[[pick["index"] for pick in picks]]
    cnn_classes = [pick["predicted"] for pick in picks]
    save_figure(attribution_gallery(shown, class_activation_maps(cnn, shown, cnn_classes), picks,
                                    "CNN: HiResCAM for the class it answered; top its most confident correct answer "
                                    "per class, below its most confident mistake"), EXPLAIN_PLOTS / "cnn_maps.png")
    ann_classes = ann_probabilities[[pick["index"] for pick in picks]].argmax(axis=1)
    ann_picks = [{**pick, "predicted": int(c), "confidence": float(ann_probabilities[pick["index"], c])}
                 for pick, c in zip(picks, ann_classes)]
    save_figure(attribution_gallery(shown, input_saliency(ann, shown, ann_classes), ann_picks,
                                    "ANN: input-gradient saliency for the class it answered, on the CNN's images "
                                    "above"), EXPLAIN_PLOTS / "ann_saliency.png")
    image = images[params.feature_map_image]
    save_figure(filters_and_feature_maps(first_layer_filters(cnn), first_block_feature_maps(cnn, image), image,
                                         f"CNN: first-layer filters (top), then test image {params.feature_map_image} "
                                         "and its first block's feature maps"), EXPLAIN_PLOTS / "cnn_filters.png")
    weights, influences = influential_units(ann, images, params.ann_units)
    save_figure(unit_weights_figure(weights, influences,
                                    f"ANN: incoming weights of its {len(weights)} most influential first-layer units "
                                    "(whole-image templates; influence above each)"), EXPLAIN_PLOTS / "ann_units.png")
    print(f"explain: {len(picks)} test images explained, figures in {EXPLAIN_PLOTS}/")


if __name__ == "__main__":
    run_stage(main)
