"""Sample inputs for the catalog: one maker factory per input kind, shared by every family.

Each family's ``CATALOG`` gives every loss ``inputs=``, a maker
``(generator, dtype, device, *, batch=4, realistic=False) -> catalog.Sample``. Most are built
by :func:`sample` from the *kinds* of the positional arguments, e.g.
``sample("logits", "classes")`` for ``cross_entropy``; the few losses with special arguments
(CTC's lengths, a critic, layers of feature maps) have their own factory below.

Everything is drawn in float64 on the CPU from ``generator`` (so a sample is the same on every
device) and then converted to ``dtype`` and moved to ``device``; integer tensors keep their
dtype. ``batch=0`` gives the loss's empty input.

**Realistic scales** (``realistic=True``), the sizes half precision must survive: logits and
classification scores of $\\pm 10^4$ over 128 classes, regression predictions with standard
deviation 10, vectors with entries in the hundreds, 128-d embeddings (and samples, feature
maps) with standard deviation 4, boxes in pixel coordinates 0-1000, 256 x 256 masks, critic
scores of $\\pm 100$, VAE log-variances from -10 to 4, rewards with standard deviation 10,
sequences of up to 500 tokens.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch

from lossbook.catalog import Sample

#: The natural domain of each kind of argument (see :class:`lossbook.catalog.Sample`).
DOMAINS = {
    "logits": "real", "scores": "real", "critic_scores": "real", "predictions": "real",
    "vectors": "real", "embeddings": "real", "samples": "real", "features": "real",
    "codes": "real", "log_rates": "real", "probabilities": "unit", "labels01": "unit",
    "masks": "unit",
    "distributions": "simplex", "log_probabilities": "log_simplex", "boxes": "boxes",
    "distances": "nonnegative", "amounts": "nonnegative", "counts": "nonnegative",
    "variances": "nonnegative", "log_variances": "real", "rewards": "real",
}


class Critic:
    """The critic $D(x) = \\langle w, x \\rangle + \\tfrac{c}{2} \\lVert x \\rVert^2$ (features
    flattened), with input gradient $w + c\\,x$: the prediction of a gradient penalty is
    ``weight`` $w$; the small curvature $c = 0.1$ makes the gradient depend on the sample."""

    curvature = 0.1

    def __init__(self, weight: torch.Tensor):
        self.weight = weight

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.flatten(start_dim=1)
        return flat @ self.weight + self.curvature / 2 * (flat * flat).sum(dim=1)

    def __repr__(self) -> str:
        return f"Critic({self.weight!r})"


# --------------------------------------------------------------------------- the prediction
def tensor_of(value):
    """The prediction tensor inside ``args[0]``: itself, a critic's weight, a layer's maps."""
    if isinstance(value, Critic):
        return value.weight
    if isinstance(value, Mapping):
        (only,) = value.values()
        return only
    return value


def with_tensor(value, tensor: torch.Tensor):
    """``value`` (as :func:`tensor_of` reads it) with its prediction tensor replaced."""
    if isinstance(value, Critic):
        return Critic(tensor)
    if isinstance(value, Mapping):
        (layer,) = value
        return {layer: tensor}
    return tensor


def convert(value, dtype: torch.dtype, device):
    """Floating tensors (also inside critics, mappings, tuples) to ``dtype`` on ``device``."""
    if isinstance(value, torch.Tensor):
        return value.to(device=device, dtype=dtype if value.is_floating_point() else None)
    if isinstance(value, Critic):
        return Critic(convert(value.weight, dtype, device))
    if isinstance(value, Mapping):
        return {k: convert(v, dtype, device) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(convert(v, dtype, device) for v in value)
    return value


# --------------------------------------------------------------------------- drawing
class Draw:
    """Seeded float64 draws of every kind, at small or realistic scale."""

    def __init__(self, generator: torch.Generator, realistic: bool):
        self.generator, self.realistic = generator, realistic
        self.width = 128 if realistic else 5  # classes, features, embedding size
        self.side = 256 if realistic else 4  # height and width of masks and images

    def normal(self, *shape, std=1.0):
        return torch.randn(*shape, generator=self.generator, dtype=torch.float64) * std

    def uniform(self, *shape, low=0.0, high=1.0):
        u = torch.rand(*shape, generator=self.generator, dtype=torch.float64)
        return low + (high - low) * u

    def integers(self, low, high, *shape):
        return torch.randint(low, high, shape, generator=self.generator)

    def kind(self, kind: str, n: int) -> torch.Tensor:
        """A tensor of ``kind`` for a batch of ``n``: (n, width) unless the kind says else."""
        shape, r = (n, self.width), self.realistic
        if kind in ("logits", "scores"):
            return self.uniform(*shape, low=-1e4, high=1e4) if r else self.normal(*shape, std=2)
        if kind == "critic_scores":
            return self.uniform(*shape, low=-100, high=100) if r else self.normal(*shape, std=2)
        if kind == "log_rates":  # log of Poisson rates (counts up to 1000 when realistic)
            return self.uniform(*shape, low=0, high=7) if r else self.normal(*shape)
        if kind == "predictions":
            return self.normal(*shape, std=10 if r else 1)
        if kind == "vectors":
            return self.uniform(*shape, low=-500, high=500) if r else self.normal(*shape)
        if kind in ("embeddings", "samples"):
            return self.normal(*shape, std=4 if r else 1)
        if kind == "features":  # (N, C, H, W) feature maps or images
            return self.normal(n, 3, self.side, self.side, std=4 if r else 1)
        if kind == "codes":
            return self.integers(0, 3, *shape).double()
        if kind == "probabilities":
            return self.uniform(*shape, low=0.05, high=0.95)
        if kind == "labels01":
            return self.integers(0, 2, *shape).double()
        if kind == "masks":  # (N, 2, H, W) probabilities
            return self.uniform(n, 2, self.side, self.side, low=0.05, high=0.95)
        if kind == "mask_labels":  # (N, 2, H, W) one-hot masks
            labels = self.integers(0, 2, n, self.side, self.side)
            return torch.stack([labels == 0, labels == 1], dim=1).double()
        if kind == "distributions":
            return torch.softmax(self.normal(*shape, std=2), dim=-1)
        if kind == "log_probabilities":
            logits = self.uniform(*shape, low=-1e4, high=1e4) if r else self.normal(*shape, std=2)
            return torch.log_softmax(logits, dim=-1)
        if kind == "boxes":
            limit = 1000.0 if r else 10.0
            corner = self.uniform(n, 2, high=limit * 0.6)
            size = self.uniform(n, 2, low=limit * 0.05, high=limit * 0.4)
            return torch.cat([corner, corner + size], dim=-1)
        if kind in ("distances", "amounts"):
            return self.uniform(*shape, low=0.1, high=500.0 if r else 3.0)
        if kind == "counts":
            return self.integers(0, 1000 if r else 6, *shape).double()
        if kind == "variances":
            return self.uniform(*shape, low=0.5, high=2.0)
        if kind == "log_variances":  # a VAE encoder's log sigma^2 (sigma from 0.007 to 7)
            return self.uniform(*shape, low=-10, high=4) if r else self.normal(*shape)
        if kind == "rewards":  # one scalar reward per example, shape (n,)
            return self.normal(n, std=10 if r else 1)
        if kind == "classes":
            return self.integers(0, self.width, n)
        if kind == "signs":
            return self.integers(0, 2, *shape).double() * 2 - 1
        if kind == "row_signs":
            return self.integers(0, 2, n).double() * 2 - 1
        raise KeyError(f"kind: no such kind of sample argument, {kind!r}")


def maker(build: Callable[[Draw, int], Sample]) -> Callable[..., Sample]:
    """An ``Entry.inputs`` maker from ``build(draw, batch) -> Sample`` (float64, CPU)."""

    def inputs(generator, dtype=torch.float64, device="cpu", *, batch=4, realistic=False):
        built = build(Draw(generator, realistic), batch)
        return built._replace(args=convert(built.args, dtype, device),
                              kwargs=convert(built.kwargs, dtype, device))

    return inputs


# --------------------------------------------------------------------------- the factories
def sample(*kinds: str, **kwargs) -> Callable[..., Sample]:
    """Positional arguments of the given kinds (the first is the prediction), and ``kwargs``.

    Arguments of the prediction's kind are its targets: they move with it in the property
    tests (see :class:`lossbook.catalog.Sample`).
    """

    def build(draw: Draw, n: int) -> Sample:
        args = tuple(draw.kind(kind, n) for kind in kinds)
        moving = tuple(i for i, kind in enumerate(kinds) if kind == kinds[0])
        return Sample(args, dict(kwargs), DOMAINS[kinds[0]], moving)

    return maker(build)


def masks(target: str = "mask_labels", **kwargs) -> Callable[..., Sample]:
    """(N, 2, H, W) probabilities and a float mask (``"mask_labels"``, ``"masks"``)."""

    def build(draw: Draw, n: int) -> Sample:
        return Sample((draw.kind("masks", n), draw.kind(target, n)), kwargs, "unit",
                      (0, 1) if target == "masks" else (0,))

    return maker(build)


def weighted_vectors(weight: str) -> Callable[..., Sample]:
    """Two (n, d) vectors and per-coordinate ``"variances"`` (d,) or an ``"inverse"`` (d, d)."""

    def build(draw: Draw, n: int) -> Sample:
        u, v = draw.kind("vectors", n), draw.kind("vectors", n)
        if weight == "variances":
            return Sample((u, v, draw.uniform(draw.width, low=0.5, high=2.0)), {}, "real", (0, 1))
        a = draw.normal(draw.width, draw.width)  # symmetric positive definite
        return Sample((u, v, a @ a.T / draw.width + torch.eye(draw.width, dtype=a.dtype)), {},
                      "real", (0, 1))

    return maker(build)


def multilabel() -> Callable[..., Sample]:
    """(n, C) scores and class-index lists padded with -1 (torch's multilabel_margin_loss)."""

    def build(draw: Draw, n: int) -> Sample:
        order = torch.argsort(draw.uniform(n, draw.width), dim=-1)
        listed = draw.integers(1, draw.width, n)  # at least one label, at least one not
        target = torch.where(torch.arange(draw.width) < listed[:, None], order, -1)
        return Sample((draw.kind("scores", n), target))

    return maker(build)


def large_margin(**kwargs) -> Callable[..., Sample]:
    """(n, D) features, (C, D) class weights, (n,) class indices."""

    def build(draw: Draw, n: int) -> Sample:
        scale = 4 if draw.realistic else 1
        features, weight = draw.normal(n, draw.width, std=scale), draw.normal(4, draw.width)
        return Sample((features, weight, draw.integers(0, 4, n)), kwargs)

    return maker(build)


def ctc(**kwargs) -> Callable[..., Sample]:
    """(T, N, C) log-probabilities, padded (N, S) targets and both lengths."""

    def build(draw: Draw, n: int) -> Sample:
        frames, classes, longest = (50, 20, 12) if draw.realistic else (8, 4, 3)
        logits = draw.normal(frames, n, classes, std=10 if draw.realistic else 2)
        targets = draw.integers(1, classes, n, longest)  # 0 is the blank
        target_lengths = draw.integers(1, longest + 1, n)
        input_lengths = draw.integers(frames - 2, frames + 1, n)
        return Sample((torch.log_softmax(logits, dim=-1), targets, input_lengths,
                       target_lengths), kwargs, "log_simplex")

    return maker(build)


def style(**kwargs) -> Callable[..., Sample]:
    """One layer of (N, C, H, W) feature maps for the input and for the target."""

    def build(draw: Draw, n: int) -> Sample:
        return Sample(({"relu1": draw.kind("features", n)}, {"relu1": draw.kind("features", n)}),
                      kwargs, "real", (0, 1))

    return maker(build)


def critic(*kinds: str, **kwargs) -> Callable[..., Sample]:
    """A :class:`Critic` and (n, d) samples of each kind; ``epsilon`` drawn if asked."""

    def build(draw: Draw, n: int) -> Sample:
        weight = draw.normal(draw.width) / draw.width**0.5
        samples = tuple(draw.kind(kind, n) for kind in kinds)
        drawn = dict(kwargs)
        if drawn.get("epsilon") == "<uniform>":
            drawn["epsilon"] = draw.uniform(n)
        return Sample((Critic(weight), *samples), drawn)

    return maker(build)


def ranked_lists(**kwargs) -> Callable[..., Sample]:
    """(Q, n) scores of ``n`` documents per query, graded relevance 0-3 (ties included) and a
    boolean ``mask``. Small samples: full lists (padding is never read, so a NaN there is no
    input, and the NaN test poisons every entry). Realistic: lists of 128 documents with
    scores of $\\pm 10^4$, each with at least two real documents and padding at the end."""

    def build(draw: Draw, n: int) -> Sample:
        scores = draw.kind("scores", n)
        relevance = draw.integers(0, 4, n, draw.width).double()
        length = draw.integers(2, draw.width + 1, n) if draw.realistic else draw.width
        mask = torch.arange(draw.width) < torch.as_tensor(length).reshape(-1, 1)
        return Sample((scores, relevance), {"mask": mask.expand(n, -1).clone(), **kwargs})

    return maker(build)


def paired(**kwargs) -> Callable[..., Sample]:
    """Two (n, d) views of the same n examples (contrastive pre-training's pairs, or an image's
    and its caption's embeddings): the second is the first plus noise of half its scale, so
    row i of each is a positive pair that is more alike than the others."""

    def build(draw: Draw, n: int) -> Sample:
        first = draw.kind("embeddings", n)
        second = first + 0.5 * draw.kind("embeddings", n)
        return Sample((first, second), dict(kwargs), "real", (0, 1))

    return maker(build)


def tokens(**kwargs) -> Callable[..., Sample]:
    """(n, C) next-token logits and (n,) token indices, every third one padding (-100)."""

    def build(draw: Draw, n: int) -> Sample:
        logits, target = draw.kind("logits", n), draw.kind("classes", n)
        padding = torch.arange(n) % 3 == 2
        return Sample((logits, torch.where(padding, -100, target)), dict(kwargs))

    return maker(build)


def projected_tokens(**kwargs) -> Callable[..., Sample]:
    """A language model's last layer: (n, d) hidden states, a (V, d) projection and (n,) next
    tokens; realistic: d = V = 128, hidden states of standard deviation 4 (logits of about
    45). Small: d = 5, V = 7."""

    def build(draw: Draw, n: int) -> Sample:
        vocabulary = draw.width if draw.realistic else 7
        hidden = draw.kind("embeddings", n)
        weight = draw.normal(vocabulary, draw.width)
        return Sample((hidden, weight, draw.integers(0, vocabulary, n)), dict(kwargs))

    return maker(build)


def preferences(lengths: bool = False, **kwargs) -> Callable[..., Sample]:
    """n preference pairs as per-sequence log-probabilities (sums over a response's tokens):
    the policy's (chosen, rejected) and the reference model's (chosen, rejected) of the same
    responses; with ``lengths``, the policy's pair and the two token counts (SimPO).

    Responses have 1-20 tokens (1-500 when realistic) costing 0 to 3 nats each.
    """

    def build(draw: Draw, n: int) -> Sample:
        longest = 500 if draw.realistic else 20
        counts = draw.integers(1, longest + 1, n), draw.integers(1, longest + 1, n)
        policy = tuple(-c * draw.uniform(n, high=3.0) for c in counts)
        if lengths:
            return Sample((*policy, *counts), dict(kwargs), "real", (0, 1))
        reference = tuple(-c * draw.uniform(n, high=3.0) for c in counts)
        return Sample((*policy, *reference), dict(kwargs), "real", (0, 1, 2, 3))

    return maker(build)
