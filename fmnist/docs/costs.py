"""Passages of what the study costs, from bench/*.json: the reference run's stage times against the classic CNN,
and every earlier bench run (for docs/history.md). A benchmark counts as one of the committed run only when the
accuracies it recorded are the committed metrics'."""
from fmnist.comparison import percent
from fmnist.docs.committed import bench_runs, model_metrics, output_bytes, reference_run
from fmnist.docs.staleness import rerun_after_edit
from fmnist.why.report import MODELS

WHY_STAGES = ("control", "robustness", "data_efficiency", "explain")


def committed_accuracies():
    return {model: model_metrics(model)["accuracy"] for model in MODELS}


def of_the_committed_models(accuracy):
    """Whether a benchmark's recorded {model: test accuracy} is the committed run's."""
    return accuracy == committed_accuracies()


def why_stage_names(run):
    """The stages of "why the CNN wins" in a run: per model ("control_cnn", "robustness@cnn") or, before the
    pipeline had two branches, one for both ("control")."""
    return [name for name in run["stages"]
            if name.split("@")[0] in WHY_STAGES or name.rpartition("_")[0] in WHY_STAGES]


def why_seconds(run):
    """The why stages' seconds in a run's forced repro, together."""
    return sum(run["stages"][name]["seconds"] for name in why_stage_names(run))


def machine_label(run):
    machine = run["machine"]
    extensions = ", ".join(machine.get("extensions", [])) or "extensions not recorded"
    cap = f", oneDNN capped at {machine['onednn_cap']}" if machine.get("onednn_cap") else ""
    return f"{machine['cores']}-core {machine['cpu']} ({extensions}{cap})"


def whose_run(run):
    """'' for a bench run of the committed models, else a warning that names the difference."""
    if of_the_committed_models(run["accuracy"]):
        return ""
    return (" **Not the committed run's bench**: it recorded test accuracies " + ", ".join(
        f"{model.upper()} {percent(run['accuracy'][model])}" for model in MODELS) + "; `bench/run.py` remeasures.")


def minutes(seconds):
    return f"{seconds / 60:.0f} minutes"


def cost_line():
    """README's first screen: the full run's time and its outputs' size."""
    run = reference_run()
    return (f"A full run takes {minutes(run['full_repro_s'])} on the {machine_label(run)} of the committed run "
            f"(`bench/run.py`, {run['date']}): train_cnn {minutes(run['stages']['train_cnn']['seconds'])}, the why "
            f"stages {minutes(why_seconds(run))}. Its outputs take "
            f"{output_size()[:-1]}, as `dvc.lock` records them; twice that with DVC's cache.")


def cost_table():
    """The reference run against the classic CNN trained right after it."""
    run = reference_run()
    classic = run["classic_cnn"]
    why = why_seconds(run)
    return "\n".join([
        "| | seconds | classic CNNs | test accuracy |", "|---|---:|---:|---:|",
        f"| train_cnn | {run['stages']['train_cnn']['seconds']:.0f} | **{run['train_cnn_to_classic_ratio']:.2f}** "
        f"| {percent(run['accuracy']['cnn'])} |",
        f"| the why stages ({', '.join(why_stage_names(run))}) | {why:.0f} | {why / classic['seconds']:.2f} | |",
        f"| full `dvc repro --force` | {run['full_repro_s']:.0f} | {run['full_repro_s'] / classic['seconds']:.2f} | |",
        f"| the classic CNN (`bench/classic_cnn.py`) | {classic['seconds']:.0f} | 1 | {percent(classic['test_accuracy'])} |",
        "", f"{machine_label(run)}, {run['date']}, `bench/results.json`.{whose_run(run)}"])


def stage_table():
    """Each stage's seconds and peak memory in the reference run, the no-op repro and the cores it got."""
    run = reference_run()
    lines = ["| stage | seconds | peak memory (MiB) |", "|---|---:|---:|"]
    lines += [f"| {name} | {stage['seconds']:.1f} | {stage['peak_rss_mib']} |" for name, stage in run["stages"].items()]
    why = why_seconds(run)
    lines += [f"| **full `dvc repro --force`** | **{run['full_repro_s']:.0f}** | |",
              f"| no-op `dvc repro` | {run['noop_repro_s']:.1f} | |",
              f"| the why stages together, against train_cnn | {why:.0f}: **{why / run['stages']['train_cnn']['seconds']:.2f}** | |",
              "", f"{machine_label(run)}, {run['date']}. Cores' worth of CPU the full repro got on average (CPU time "
              f"over wall time; below, why that is not 2): {run['full_repro_cores']:.2f}.{whose_run(run)}"]
    return "\n".join(lines)


def throughput_sentence():
    run = reference_run()
    if "throughput" not in run:
        return ("The reference run did not measure training throughput against plain Keras (`bench/run.py "
                "--skip-repro` does); the earlier machines' readings are in [history](history.md#every-benchmark-run).")
    t = run["throughput"]
    return (f"Training throughput, {t['timed_rounds']} timed rounds of {t['images']} images on either path back to "
            f"back: median ratio (ours / plain) **{t['ratio']:.2f}**, ours faster in {t['rounds_ours_faster']} rounds; "
            f"fastest epochs {t['ours_best_images_per_s']:.0f} and {t['plain_best_images_per_s']:.0f} images/s.")


def every_run_table():
    """Every bench/run.py run, train_cnn against the classic CNN trained right after it (for docs/history.md)."""
    lines = ["| date | machine | full repro (s) | train_cnn (s) | classic CNN (s) | train_cnn / classic "
             "| CNN, classic, ANN test accuracy |", "|---|---|---:|---:|---:|---:|---|"]
    for run in bench_runs():
        if "stages" not in run and "full_repro_s" not in run:
            continue
        classic = run.get("classic_cnn", {})
        ratio = f"{run['train_cnn_to_classic_ratio']:.2f}" if "train_cnn_to_classic_ratio" in run else "-"
        train_cnn = f"{run['stages']['train_cnn']['seconds']:.0f}" if "stages" in run else "-"
        lines.append(f"| {run['date']} | {machine_label(run)} | {run['full_repro_s']:.0f} | {train_cnn} "
                     f"| {classic.get('seconds', '-')} | {ratio} | {run['accuracy']['cnn']:.4f}, "
                     f"{classic.get('test_accuracy', '-')}, {run['accuracy']['ann']:.4f} |")
    return "\n".join(lines)


AIM = {"cnn_accuracy": 0.94, "study_in_classic_cnns": 4.5}


EDIT_TARGETS = {"ann": 1.5, "cnn": 4.0}  # issue 33's targets, in classic CNNs, for one edit of a model's section


def branch_seconds(run, model):
    """The forced repro's seconds in the stages an edit of the model's dropout (bench/run.py's edit) reruns, as
    DVC's graph has them: its branch and compare."""
    return sum(run["stages"][name]["seconds"] for name in rerun_after_edit([f"{model}.dropout"]))


def edit_cost(run, model):
    """'`cnn.dropout 0.15 -> 0.2` reruns ... in N minutes: **R** classic CNNs (target T)', timed by bench/run.py,
    or, where it did not time that edit, what the same stages took in the forced repro."""
    classic = run["classic_cnn"]["seconds"]
    if f"{model}_edit" in run:
        edit = run[f"{model}_edit"]
        return (f"`{edit['edit']}` reruns the {model.upper()} branch and compare in {minutes(edit['seconds'])}: "
                f"**{edit['seconds'] / classic:.2f}** classic CNNs (target {EDIT_TARGETS[model]})")
    seconds = branch_seconds(run, model)
    return (f"a {model.upper()} edit's stages (its branch and compare) took {minutes(seconds)} in the forced repro: "
            f"**{seconds / classic:.2f}** classic CNNs (target {EDIT_TARGETS[model]}; the edit itself not timed)")


def edit_costs():
    """What one edit of each model's settings costs to rerun, from the reference run's bench."""
    run = reference_run()
    if "classic_cnn" not in run or not any(f"{model}_edit" in run for model in MODELS):
        return "not timed by the reference bench run yet (`bench/run.py` times it)."
    return (f"measured on the {machine_label(run)} ({run['date']}): " + "; ".join(edit_cost(run, m) for m in MODELS)
            + f"; the whole study {run['full_repro_s'] / run['classic_cnn']['seconds']:.2f}.{whose_run(run)}")


def edits_table():
    """Each timed edit's rerun: seconds, classic CNNs, cores, the stages it ran (for docs/benchmark.md)."""
    run = reference_run()
    timed = [model for model in MODELS if f"{model}_edit" in run]
    if not timed:
        return "The reference bench run did not time an edit's rerun."
    lines = ["| edit, then `dvc repro` | seconds | classic CNNs | cores | stages it ran |", "|---|---:|---:|---:|---|"]
    lines += [f"| `{run[f'{m}_edit']['edit']}` | {run[f'{m}_edit']['seconds']:.0f} "
              f"| **{run[f'{m}_edit']['seconds'] / run['classic_cnn']['seconds']:.2f}** | {run[f'{m}_edit']['cores']:.2f} "
              f"| {', '.join(run[f'{m}_edit']['stages'])} |" for m in timed]
    return "\n".join(lines)


def aim_status():
    """The aim, and where the committed run stands against it."""
    run = reference_run()
    accuracy, cost = committed_accuracies()["cnn"], run["full_repro_s"] / run["classic_cnn"]["seconds"]
    reached = [what for what, done in (("the accuracy", accuracy >= AIM["cnn_accuracy"]),
                                        ("the cost", cost <= AIM["study_in_classic_cnns"])) if done]
    verdict = " and ".join(reached) + " reached" if reached else "neither reached"
    return (f"The aim: a CNN past {percent(AIM['cnn_accuracy'])} test accuracy in a whole study that costs at most "
            f"{AIM['study_in_classic_cnns']} classic CNNs on two cores. The committed run: {percent(accuracy)} and "
            f"{cost:.2f} classic CNNs, {verdict}.")


def reference_machine():
    """'the 2-core AMD EPYC (AVX2, AVX-512), bench run of 2026-12-05': where the committed run was measured."""
    run = reference_run()
    return f"the {machine_label(run)}, bench run of {run['date']}"


def output_size():
    """The size of the committed run's outputs, as dvc.lock records them."""
    return f"{output_bytes() / 2**20:.0f} MiB in all (data, models, plots, predictions)."
