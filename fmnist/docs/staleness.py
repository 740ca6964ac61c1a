"""What an edit of a params.yaml key makes `dvc repro` rerun, read from DVC's own view of dvc.yaml: the stages whose
params include the key, and every stage downstream of them. tests/test_docs.py checks it against `dvc repro --dry
--force-downstream` on the tests' tiny project, so the pages' rerun claims come from DVC, not from a list kept by hand."""
import functools
from pathlib import Path

import networkx
import yaml

from fmnist.docs.committed import ROOT


@functools.cache
def pipeline(root=ROOT):
    """(DVC's stage graph, each stage's params keys, the stages in run order), all by stage name ("evaluate@cnn")."""
    from dvc.repo import Repo

    with Repo(str(root)) as repo:
        graph = repo.index.graph  # an edge runs from a stage to a stage it depends on
        names = {stage: stage.name for stage in graph}
        params = {names[stage]: [key for dep in stage.deps if hasattr(dep, "params") for key in dep.params]
                  for stage in graph}
        edges = [(names[stage], names[upstream]) for stage, upstream in graph.edges]
    dag = networkx.DiGraph(edges)
    dag.add_nodes_from(params)
    position = {name: index for index, name in enumerate(params)}  # dvc.yaml's order breaks ties
    order = list(networkx.lexicographical_topological_sort(dag.reverse(), key=position.get))
    return dag, params, order


def reads_key(declared, key):
    """Whether a stage that declares `declared` params ("cnn", "cnn.dropout", "control.epochs") reads `key`."""
    return any(key == name or key.startswith(name + ".") or name.startswith(key + ".") for name in declared)


def rerun_after_edit(keys, root=ROOT):
    """The stages `dvc repro` reruns after an edit of `keys` of params.yaml, in the order it runs them."""
    dag, params, order = pipeline(Path(root))
    edited = {stage for stage, declared in params.items() for key in keys if reads_key(declared, key)}
    stale = edited | {downstream for stage in edited for downstream in networkx.ancestors(dag, stage)}
    return [stage for stage in order if stage in stale]


def stage_list(stages):
    return ", ".join(stages[:-1]) + " and " + stages[-1] if len(stages) > 1 else stages[0]


def not_rerun(keys, root=ROOT):
    """The stages an edit of `keys` leaves alone, but for those upstream of every edited one (fetch, preprocess)."""
    dag, _, order = pipeline(Path(root))
    stale = rerun_after_edit(keys, root)
    upstream = set.intersection(*(networkx.descendants(dag, stage) for stage in stale))
    return [stage for stage in order if stage not in stale and stage not in upstream]


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
