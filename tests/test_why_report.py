"""fmnist.why.report: the "Why the CNN wins" section follows the numbers, both ways, and writes none of its own."""
from fmnist.why.report import claim_supported, why_section

FIGURES = {"Robustness curves": "../plots/robustness/curves.png"}


def arm(mean, std=0.001):
    return {"mean": mean, "std": std, "per_seed": [mean - std, mean, mean + std]}


def change(value, half_width=0.004):
    return {"value": value, "ci_low": value - half_width, "ci_high": value + half_width}


def model_entry(original, scrambled, p_value, real):
    return {"original": arm(original), "scrambled": arm(scrambled), "change": change(scrambled - original),
            "seeds_test_p": p_value, "real": real, "mcnemar_p_per_seed": [0.5, 0.03, 0.2]}


def control(cnn_scrambled, cnn_p, cnn_real, ann_scrambled=0.8676, ann_p=0.14, ann_real=0):
    ann, cnn = model_entry(0.8670, ann_scrambled, ann_p, ann_real), model_entry(0.8955, cnn_scrambled, cnn_p, cnn_real)
    gap_original, gap_scrambled = 0.8955 - 0.8670, cnn_scrambled - ann_scrambled
    return {"seeds": 3, "ann": ann, "cnn": cnn,
            "gap": {"original": change(gap_original), "scrambled": change(gap_scrambled),
                    "change": change(gap_scrambled - gap_original)}}


def control_metrics():
    arms = {"original": {"validation": arm(0.87), "test": arm(0.87)},
            "scrambled": {"validation": arm(0.86), "test": arm(0.86)}}
    return {model: {"train_images": 10000, "seeds": [42, 1, 2], "epochs": epochs, **arms}
            for model, epochs in (("ann", 20), ("cnn", 5))}


ROBUSTNESS = {model: {"shift": {"0": clean, "1": clean - 0.05, "4": clean - drop},
                      "rotation": {"-10": clean - 0.02, "0": clean, "10": clean - 0.04},
                      "noise": {"0": clean, "0.2": clean - 0.1}}
              for model, clean, drop in (("ann", 0.90, 0.60), ("cnn", 0.94, 0.45))}
DATA_EFFICIENCY = {"ann": {"1000": {"test_accuracy": 0.80, "epochs": 50}, "10000": {"test_accuracy": 0.87, "epochs": 20}},
                   "cnn": {"1000": {"test_accuracy": 0.82, "epochs": 50}, "10000": {"test_accuracy": 0.90, "epochs": 5}}}


def section(summary):
    return why_section(summary, control_metrics(), ROBUSTNESS, DATA_EFFICIENCY, 0.95, 0.05, FIGURES)


def test_a_real_cnn_loss_with_a_shrinking_gap_states_the_claim():
    summary = control(cnn_scrambled=0.8614, cnn_p=0.0023, cnn_real=1)
    assert claim_supported(summary)
    text = section(summary)
    assert text.startswith("## Why the CNN wins\n")
    assert "**The CNN's lead depends on the pixels' spatial arrangement**" in text
    assert "do not show" not in text
    assert "changes the CNN's test accuracy by -3.41 points (p = 0.0023 across seeds, a real effect)" in text
    assert "the ANN's by +0.06 points (p = 0.14 across seeds, within what seeds and test sampling explain)" in text
    assert "goes from +2.85 points on the original images to -0.62 points on scrambled ones" in text
    assert "stays within its seed-to-seed spread" in text


def test_a_cnn_change_within_the_spread_gets_the_neutral_wording():
    summary = control(cnn_scrambled=0.8940, cnn_p=0.4, cnn_real=0)
    assert not claim_supported(summary)
    text = section(summary)
    assert "**These numbers do not show that the CNN's lead comes from spatial structure**" in text
    assert "the CNN does not lose accuracy beyond its seed-to-seed spread" in text
    assert "depends on the pixels' spatial arrangement" not in text


def test_a_real_cnn_loss_matched_by_the_ann_is_not_taken_as_the_claim():
    summary = control(cnn_scrambled=0.8555, cnn_p=0.001, cnn_real=1, ann_scrambled=0.8270, ann_p=0.001, ann_real=1)
    summary["gap"]["change"] = change(0.0, half_width=0.006)
    assert not claim_supported(summary)
    text = section(summary)
    assert "the gap does not shrink beyond the test set's sampling" in text
    assert "the CNN does not lose" not in text


def test_tables_carry_the_inputs_numbers():
    text = section(control(cnn_scrambled=0.8614, cnn_p=0.0023, cnn_real=1))
    assert "| CNN | 89.55% ± 0.10 | 86.14% ± 0.10 | -3.41 points | -3.81 points to -3.01 points | 0.0023 " in text
    assert "| 0.5, 0.03, 0.2 | 87.00%, 86.00% |" in text
    assert "| ANN | 90.00% | 85.00% | 30.00% | 87.00% | 80.00% |" in text, "unchanged, shifts, mean of ±10°, noise"
    assert "by 4 pixels changes the CNN's accuracy by -45.00 points and the ANN's by -60.00 points: the CNN loses less" in text
    assert "Rotating them by ±10° changes the CNN's accuracy by -3.00 points and the ANN's by -3.00 points: both lose the same" in text
    assert "Noise of 0.2 changes the CNN's accuracy by -10.00 points and the ANN's by -10.00 points" in text
    assert "| 1,000 | 80.00% (50) | 82.00% (50) | +2.00 points |" in text
    assert "CNN minus ANN: +2.00 points with 1,000 training images, +3.00 points with 10,000." in text
    assert "- [Robustness curves](../plots/robustness/curves.png)" in text
