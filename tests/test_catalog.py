"""lossbook.catalog: every entry points to a chapter, a real reference, and keeps torch's
signature where torch has the loss."""

import inspect
import json
from pathlib import Path

import pytest
import torch
import yaml

import lossbook
from lossbook import catalog

ROOT = Path(__file__).resolve().parent.parent
ENTRIES = catalog.entries()
# torch keeps these only for backward compatibility; lossbook leaves them out.
DEPRECATED = {"size_average", "reduce", "_stacklevel"}


def toc_files() -> set[str]:
    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                yield node["file"]
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return {toc["root"], *walk(toc)}


def test_catalog_is_not_empty_and_names_are_unique():
    names = [e.name for e in ENTRIES]
    assert names and len(names) == len(set(names))


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_entry_points_to_a_chapter_in_the_book(entry):
    notebook = ROOT / "chapters" / f"{entry.chapter}.ipynb"
    assert notebook.exists(), f"{entry.name}: no chapter {notebook.name}"
    assert f"chapters/{entry.chapter}" in toc_files()
    assert entry.name in json.dumps(json.loads(notebook.read_text())["cells"]), (
        f"{entry.name} is catalogued under {entry.chapter} but the chapter never mentions it"
    )


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_entry_is_exported_and_documented(entry):
    assert getattr(lossbook, entry.name) is entry.function
    doc = inspect.getdoc(entry.function)
    assert doc and "Reference" in doc or entry.reference is None
    assert entry.summary and entry.task and entry.input_kind
    for text in (entry.summary, entry.task, entry.input_kind, entry.reference or ""):
        assert "|" not in text, "a '|' would split the loss-zoo table's cell (use \\Vert)"


TORCH_NAMED = [e for e in ENTRIES if (e.reference or "").startswith("torch.nn.functional.")]


@pytest.mark.parametrize("entry", TORCH_NAMED, ids=lambda e: e.name)
def test_torch_named_losses_keep_torchs_name_and_signature(entry):
    reference = entry.reference_callable()
    assert reference is not None and reference.__name__ == entry.name
    ours = [(p.name, p.default) for p in inspect.signature(entry.function).parameters.values()]
    theirs = [(p.name, p.default) for p in inspect.signature(reference).parameters.values()
              if p.name not in DEPRECATED]
    assert ours == theirs


# lossbook's own losses whose signature an outside reference dictates: a user of that
# reference calls them positionally (tests call both sides alike).
EXTERNAL_SIGNATURES = {
    "sigmoid_focal_loss": "torchvision.ops.sigmoid_focal_loss(inputs, targets, alpha, gamma, "
                          "reduction)",
    "softmax_focal_loss": "kornia.losses.focal_loss(pred, target, alpha, gamma, reduction)",
    "box_iou_loss": "torchvision.ops's box losses (boxes1, boxes2, reduction, eps)",
    "generalized_box_iou_loss": "torchvision.ops (boxes1, boxes2, reduction, eps)",
    "distance_box_iou_loss": "torchvision.ops (boxes1, boxes2, reduction, eps)",
    "complete_box_iou_loss": "torchvision.ops (boxes1, boxes2, reduction, eps)",
    "minkowski": "scipy.spatial.distance.minkowski(u, v, p)",
    **{name: "torch.linalg.vector_norm(x, ord, dim, keepdim)"
       for name in ("l0_norm", "l1_norm", "l2_norm", "lp_norm", "linf_norm")},
    "gradient_penalty": "the critic, a callable, comes first",
    "r1_penalty": "the critic, a callable, comes first",
}
OWN = [e for e in ENTRIES if not hasattr(torch.nn.functional, e.name)
       and e.name not in EXTERNAL_SIGNATURES]


@pytest.mark.parametrize("entry", OWN, ids=lambda e: e.name)
def test_own_losses_take_tensors_positionally_and_hyper_parameters_by_keyword(entry):
    """DESIGN.md's convention: ``loss(input, target, *, hyper=..., reduction=...)``."""
    parameters = list(inspect.signature(entry.function).parameters.values())
    positional = [p.name for p in parameters
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                  and "Tensor" not in str(p.annotation)]  # tensors, maps or lists of them
    assert positional == [], f"{entry.name}: make {positional} keyword-only"
    names = [p.name for p in parameters]
    assert "reduction" not in names or names[-1] == "reduction"


def test_reference_callable_is_none_when_absent_or_not_importable():
    entry = catalog.find("zero_one_loss")
    assert entry.reference_callable() is None
    with pytest.raises(KeyError, match="no catalogued loss"):
        catalog.find("no_such_loss")


# Names that mark a function as a loss (or a distance used as one), so it belongs in the zoo.
LOSS_SUFFIXES = ("_loss", "_divergence", "_distance")
TORCH_LOSS_NAMES = {"cross_entropy", "kl_div", "binary_cross_entropy",
                    "binary_cross_entropy_with_logits"}


def defined_functions():
    """Every public function defined (not imported) in a lossbook module with a CATALOG."""
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(lossbook.__path__):
        module = importlib.import_module(f"lossbook.{info.name}")
        if info.name.startswith("_") or not hasattr(module, "CATALOG"):
            continue
        for name, value in vars(module).items():
            if inspect.isfunction(value) and value.__module__ == module.__name__ and (
                    not name.startswith("_")):
                yield name, value


def test_every_loss_of_the_package_is_catalogued():
    catalogued = {e.function for e in ENTRIES}
    losses = {name: f for name, f in defined_functions()
              if name.endswith(LOSS_SUFFIXES) or name in TORCH_LOSS_NAMES}
    assert {"cross_entropy", "kl_div", "nll_loss", "js_divergence"} <= set(losses)
    missing = sorted(name for name, f in losses.items() if f not in catalogued)
    assert not missing, f"losses without a catalog entry (add one to CATALOG): {missing}"
