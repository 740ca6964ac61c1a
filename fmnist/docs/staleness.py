"""What an edit of a params.yaml key makes `dvc repro` rerun, read from DVC's own view of dvc.yaml: the stages whose
params include the key, and every stage downstream of them. tests/test_docs.py checks it against `dvc repro --dry
--force-downstream` on the tests' tiny project, so the pages' rerun claims come from DVC, not from a list kept by hand."""
import functools
from pathlib import Path

import yaml

from fmnist.docs.committed import ROOT


@functools.cache
def pipeline(root=ROOT):
    """({stage: the stages it reads from}, {stage: its params keys}), by stage name ("evaluate@cnn"), in dvc.yaml's
    order."""
    from dvc.repo import Repo

    with Repo(str(root)) as repo:
        graph = repo.index.graph  # an edge runs from a stage to a stage it depends on
        params = {stage.name: [key for dep in stage.deps if hasattr(dep, "params") for key in dep.params]
                  for stage in graph}
        upstream = {stage.name: {dependency.name for dependency in graph.successors(stage)} for stage in graph}
    return upstream, params


def downstream_of(stages, upstream):
    """`stages` and every stage that reads from them, directly or not."""
    found, grew = set(stages), True
    while grew:
        more = {stage for stage, inputs in upstream.items() if inputs & found} - found
        found, grew = found | more, bool(more)
    return found


def run_order(stages, upstream):
    """`stages` in an order `dvc repro` may run them: each after what it reads from, ties in dvc.yaml's order."""
    order, left = [], [stage for stage in upstream if stage in stages]
    while left:
        ready = next(stage for stage in left if not (upstream[stage] & set(left)))
        order.append(ready)
        left.remove(ready)
    return order


def reads_key(declared, key):
    """Whether a stage that declares `declared` params ("cnn", "cnn.dropout", "control.epochs") reads `key`."""
    return any(key == name or key.startswith(name + ".") or name.startswith(key + ".") for name in declared)


def rerun_after_edit(keys, root=ROOT):
    """The stages `dvc repro` reruns after an edit of `keys` of params.yaml, in an order it may run them."""
    upstream, params = pipeline(Path(root))
    edited = {stage for stage, declared in params.items() for key in keys if reads_key(declared, key)}
    return run_order(downstream_of(edited, upstream), upstream)


def stage_list(stages):
    return ", ".join(stages[:-1]) + " and " + stages[-1] if len(stages) > 1 else stages[0]


def upstream_of(stage, upstream):
    """Every stage `stage` reads from, directly or not."""
    found, frontier = set(), set(upstream[stage])
    while frontier:
        found |= frontier
        frontier = {source for name in frontier for source in upstream[name]} - found
    return found


def not_rerun(keys, root=ROOT):
    """The stages an edit of `keys` leaves alone, but for those every rerun stage reads from (fetch, preprocess)."""
    upstream, _ = pipeline(Path(root))
    stale = rerun_after_edit(keys, root)
    feeding_all = set.intersection(*(upstream_of(stage, upstream) for stage in stale))
    return [stage for stage in upstream if stage not in stale and stage not in feeding_all]


def search_knobs(model):
    """The keys a `bin/search --apply` of `model` may write: its knobs in search.yaml."""
    space = yaml.safe_load((ROOT / "search.yaml").read_text(encoding="utf-8"))[model]
    return [f"{model}.{knob}" for knob in space]


def change_a_number():
    """README's loop: edit a key, see what is stale, rerun, compare."""
    epochs = rerun_after_edit(["cnn.epochs"])
    return "\n".join([
        "```bash", "source .venv/bin/activate",
        "# edit params.yaml, e.g. cnn.epochs, then",
        "dvc status                       # the stages whose own params changed",
        f"dvc repro                        # reruns {', '.join(epochs)}",
        "dvc metrics diff                 # against the committed baseline",
        "dvc plots diff                   # curves and confusion matrices, before and after", "```", "",
        f"What an edit reruns, as DVC's graph has it (the tests check it against `dvc repro --dry --force-downstream`): `cnn.epochs` "
        f"{stage_list(epochs)}, not {stage_list(not_rerun(['cnn.epochs']))}; `cnn.dropout` "
        f"{stage_list(rerun_after_edit(['cnn.dropout']))}; `ann.dropout` {stage_list(rerun_after_edit(['ann.dropout']))}."])


def rerun_sentence(keys, what):
    """'{what} reruns A, B and C (not D)': for a set of keys edited together."""
    stages = rerun_after_edit(keys)
    return f"{what} reruns {stage_list(stages)} (not {stage_list(not_rerun(keys))})."


def search_apply_sentence(model="cnn"):
    return rerun_sentence(search_knobs(model), f"Applying a {model.upper()} trial (any of its knobs in search.yaml)")
