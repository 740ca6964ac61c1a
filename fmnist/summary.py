"""The few lines bin/pipeline ends with: both accuracies, the CNN's gain, its significance, the scrambled-pixel
control, and where to look next."""
import json
import sys
from pathlib import Path

from fmnist.errors import first_line
from fmnist.paths import COMPARE_METRICS, COMPARE_REPORT

PLOTS_PAGE = Path("dvc_plots/index.html")  # where `dvc plots show` writes the page


def summary_lines(compare, plots_page_exists=True):
    """Lines for a person to read at a glance, from compare.json's content."""
    gain, mcnemar = compare["accuracy_gain"], compare["mcnemar"]
    verdict = "significant" if mcnemar["p_value"] < compare["significance_level"] else "not significant"
    page = str(PLOTS_PAGE) if plots_page_exists else "run `dvc plots show` to write it"
    control = ["Scrambled pixels, mean change over seeds: " + ", ".join(
        f"{model.upper()} {100 * compare['control'][model]['change']['value']:+.2f} points "
        f"(p = {compare['control'][model]['seeds_test_p']:.2g})" for model in ("cnn", "ann"))
        ] if "control" in compare else []
    return [
        f"Test accuracy: ANN {compare['ann_accuracy']['value']:.4f}, CNN {compare['cnn_accuracy']['value']:.4f}",
        f"CNN gain: {100 * gain['value']:+.2f} points ({compare['confidence']:.0%} interval "
        f"{100 * gain['ci_low']:+.2f} to {100 * gain['ci_high']:+.2f}), McNemar p = {mcnemar['p_value']:.3g} "
        f"({verdict} at {compare['significance_level']:g})",
        *control,
        f"Plots: {page}   Report: {COMPARE_REPORT}",
    ]


def summarize(root="."):
    """The summary of the run in `root`, or one line saying why there is none."""
    root = Path(root)
    path = root / COMPARE_METRICS
    try:
        compare = json.loads(path.read_text(encoding="utf-8"))
        return summary_lines(compare, (root / PLOTS_PAGE).exists())
    except FileNotFoundError:
        return [f"summary: no {COMPARE_METRICS} yet: the compare stage has not run (`dvc repro compare`)"]
    except (ValueError, KeyError, TypeError) as error:
        detail = f"no key {error}" if isinstance(error, KeyError) else first_line(error)
        return [f"summary: {COMPARE_METRICS} is unreadable ({detail}): rerun `dvc repro compare`"]


def main():
    print("\n".join(summarize()))


if __name__ == "__main__":
    sys.exit(main())
