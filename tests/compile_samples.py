"""Small valid inputs for every catalogued loss, for the ``torch.compile`` checks.

A stand-in until every catalog entry carries its own sample maker (``Entry.inputs``, issue 15
part B): :func:`sample` prefers ``entry.inputs`` where the entry has one and falls back to the
table here. Each maker takes a CPU generator and returns ``(args, kwargs)`` in float64;
``args[0]`` is the prediction.
"""

from __future__ import annotations

import torch

from lossbook import catalog

N, C, D = 4, 5, 3  # batch, classes, features


def _normal(g, *shape, std=1.0):
    return torch.randn(*shape, generator=g, dtype=torch.float64) * std


def _uniform(g, *shape, low=0.0, high=1.0):
    return low + (high - low) * torch.rand(*shape, generator=g, dtype=torch.float64)


def _classes(g, n=N, c=C):
    return torch.randint(0, c, (n,), generator=g)


def _signs(g, *shape):
    return torch.randint(0, 2, shape, generator=g).double() * 2 - 1


def _distributions(g, *shape):
    return torch.softmax(_normal(g, *shape, std=2), dim=-1)


def _boxes(g, n=N):
    corner = _uniform(g, n, 2, high=6.0)
    return torch.cat([corner, corner + _uniform(g, n, 2, low=0.5, high=4.0)], dim=-1)


def _masks(g):
    return _uniform(g, N, 2, 4, 4, low=0.05, high=0.95)


def _mask_labels(g):
    labels = torch.randint(0, 2, (N, 4, 4), generator=g)
    return torch.stack([labels == 0, labels == 1], dim=1).double()


def _multilabel(g):
    order = torch.argsort(_uniform(g, N, C), dim=-1)
    listed = torch.randint(1, C, (N, 1), generator=g)
    return _normal(g, N, C), torch.where(torch.arange(C) < listed, order, -1)


def _ctc(g):
    frames, classes, longest = 8, 4, 3
    log_probs = torch.log_softmax(_normal(g, frames, N, classes, std=2), dim=-1)
    targets = torch.randint(1, classes, (N, longest), generator=g)
    lengths = torch.randint(1, longest + 1, (N,), generator=g)
    return log_probs, targets, torch.full((N,), frames), lengths


class Critic(torch.nn.Module):
    """$D(x) = w^\\top x + \\tfrac{c}{2}\\lVert x \\rVert^2$, whose input gradient depends on x."""

    def __init__(self, g):
        super().__init__()
        self.weight = torch.nn.Parameter(_normal(g, D) / D**0.5)

    def forward(self, x):
        flat = x.flatten(start_dim=1)
        return flat @ self.weight + 0.05 * (flat * flat).sum(dim=1)


def _pair(kind):
    return lambda g: ((kind(g), kind(g)), {})


def _vectors(g):
    return _normal(g, N, D)


def _predictions(g):
    return _normal(g, N)


SAMPLES = {
    "l0_norm": lambda g: ((_vectors(g),), {}),
    "l1_norm": lambda g: ((_vectors(g),), {}),
    "l2_norm": lambda g: ((_vectors(g),), {}),
    "lp_norm": lambda g: ((_vectors(g),), {"p": 3.0}),
    "linf_norm": lambda g: ((_vectors(g),), {}),
    "l1_penalty": lambda g: ((_vectors(g),), {}),
    "l2_penalty": lambda g: ((_vectors(g),), {}),
    "l1_loss": _pair(_predictions),
    "mse_loss": _pair(_predictions),
    "rmse_loss": _pair(_predictions),
    "smooth_l1_loss": _pair(_predictions),
    "huber_loss": _pair(_predictions),
    "log_cosh_loss": _pair(_predictions),
    "quantile_loss": lambda g: ((_predictions(g), _predictions(g)), {"q": 0.3}),
    "gaussian_nll_loss": lambda g: ((_predictions(g), _predictions(g),
                                     _uniform(g, N, low=0.5, high=2.0)), {}),
    "poisson_nll_loss": lambda g: ((_predictions(g), _uniform(g, N, high=5.0).floor()), {}),
    "laplace_nll": lambda g: ((_predictions(g), _predictions(g),
                               _uniform(g, N, low=0.5, high=2.0)), {}),
    "cross_entropy": lambda g: ((_normal(g, N, C), _classes(g)), {}),
    "nll_loss": lambda g: ((torch.log_softmax(_normal(g, N, C), -1), _classes(g)), {}),
    "binary_cross_entropy": lambda g: ((_uniform(g, N, low=0.05, high=0.95), _uniform(g, N)),
                                       {}),
    "binary_cross_entropy_with_logits": lambda g: ((_normal(g, N), _uniform(g, N)), {}),
    "kl_div": lambda g: ((torch.log_softmax(_normal(g, N, C), -1), _distributions(g, N, C)),
                         {"reduction": "batchmean"}),
    "js_divergence": lambda g: ((_distributions(g, N, C), _distributions(g, N, C)), {}),
    "zero_one_loss": lambda g: ((_normal(g, N, C), _classes(g)), {}),
    "sigmoid_focal_loss": lambda g: ((_normal(g, N), _uniform(g, N)), {}),
    "softmax_focal_loss": lambda g: ((_normal(g, N, C), _classes(g)), {}),
    "large_margin_softmax_loss": lambda g: ((_normal(g, N, D), _normal(g, C, D), _classes(g)),
                                            {}),
    "exponential_loss": lambda g: ((_predictions(g), _signs(g, N)), {}),
    "logistic_loss": lambda g: ((_predictions(g), _signs(g, N)), {}),
    "hinge_loss": lambda g: ((_predictions(g), _signs(g, N)), {}),
    "squared_hinge_loss": lambda g: ((_predictions(g), _signs(g, N)), {}),
    "soft_margin_loss": lambda g: ((_predictions(g), _signs(g, N)), {}),
    "margin_ranking_loss": lambda g: ((_predictions(g), _predictions(g), _signs(g, N)), {}),
    "hinge_embedding_loss": lambda g: ((_uniform(g, N, high=3.0), _signs(g, N)), {}),
    "multi_margin_loss": lambda g: ((_normal(g, N, C), _classes(g)), {}),
    "multilabel_margin_loss": lambda g: (_multilabel(g), {}),
    "multilabel_soft_margin_loss": lambda g: ((_normal(g, N, C), (_signs(g, N, C) + 1) / 2), {}),
    "pairwise_distance": _pair(_vectors),
    "cosine_similarity": _pair(_vectors),
    "pdist": lambda g: ((_vectors(g),), {}),
    "triplet_margin_loss": lambda g: ((_vectors(g), _vectors(g), _vectors(g)), {}),
    "triplet_margin_with_distance_loss": lambda g: ((_vectors(g), _vectors(g), _vectors(g)),
                                                    {}),
    "cosine_embedding_loss": lambda g: ((_vectors(g), _vectors(g), _signs(g, N)), {}),
    "contrastive_loss": lambda g: ((_vectors(g), _vectors(g), _uniform(g, N).round()), {}),
    "info_nce_loss": _pair(_vectors),
    "box_iou_loss": _pair(_boxes),
    "generalized_box_iou_loss": _pair(_boxes),
    "distance_box_iou_loss": _pair(_boxes),
    "complete_box_iou_loss": _pair(_boxes),
    "dice_loss": lambda g: ((_masks(g), _mask_labels(g)), {}),
    "soft_jaccard_loss": lambda g: ((_masks(g), _mask_labels(g)), {}),
    "tversky_loss": lambda g: ((_masks(g), _mask_labels(g)), {}),
    "ctc_loss": lambda g: (_ctc(g), {}),
    "feature_reconstruction_loss": lambda g: ((_normal(g, N, 2, 4, 4), _normal(g, N, 2, 4, 4)),
                                              {}),
    "style_loss": lambda g: (({"relu1": _normal(g, N, 2, 4, 4)},
                              {"relu1": _normal(g, N, 2, 4, 4)}), {}),
    "total_variation": lambda g: ((_normal(g, N, 2, 4, 4),), {}),
    "d_loss_minimax": _pair(_predictions),
    "g_loss_minimax": lambda g: ((_predictions(g),), {}),
    "g_loss_nonsaturating": lambda g: ((_predictions(g),), {}),
    "d_loss_lsgan": _pair(_predictions),
    "g_loss_lsgan": lambda g: ((_predictions(g),), {}),
    "d_loss_wasserstein": _pair(_predictions),
    "g_loss_wasserstein": lambda g: ((_predictions(g),), {}),
    "d_loss_hinge": _pair(_predictions),
    "g_loss_hinge": lambda g: ((_predictions(g),), {}),
    "gradient_penalty": lambda g: ((Critic(g), _vectors(g), _vectors(g)),
                                   {"epsilon": _uniform(g, N)}),
    "r1_penalty": lambda g: ((Critic(g), _vectors(g)), {}),
    "cycle_consistency_loss": _pair(_vectors),
    "euclidean": _pair(_vectors),
    "manhattan": _pair(_vectors),
    "chebyshev": _pair(_vectors),
    "minkowski": lambda g: ((_vectors(g), _vectors(g)), {"p": 3.0}),
    "standardized_euclidean": lambda g: ((_vectors(g), _vectors(g),
                                          _uniform(g, D, low=0.5, high=2.0)), {}),
    "mahalanobis": lambda g: ((_vectors(g), _vectors(g),
                               torch.eye(D, dtype=torch.float64) * 1.5), {}),
    "cosine_distance": _pair(_vectors),
    "correlation_distance": _pair(_vectors),
    "hamming": lambda g: ((_normal(g, N, D).round(), _normal(g, N, D).round()), {}),
    "bray_curtis": lambda g: ((_uniform(g, N, D), _uniform(g, N, D)), {}),
    "js_distance": lambda g: ((_distributions(g, N, C), _distributions(g, N, C)), {}),
    "hellinger_distance": lambda g: ((_distributions(g, N, C), _distributions(g, N, C)), {}),
    "bhattacharyya_distance": lambda g: ((_distributions(g, N, C), _distributions(g, N, C)),
                                         {}),
    "mmd": lambda g: ((_normal(g, 6, D), _normal(g, 5, D) + 0.5), {}),
    "wasserstein_1d": lambda g: ((_normal(g, 6), _normal(g, 5)), {}),
    "sinkhorn_distance": lambda g: ((_normal(g, 6, D), _normal(g, 5, D) + 0.5),
                                    {"iterations": 5}),
}


def _converted(value, dtype, device):
    if isinstance(value, torch.Tensor):
        return value.to(device=device, dtype=dtype if value.is_floating_point() else None)
    if isinstance(value, torch.nn.Module):
        return value.to(device=device, dtype=dtype)
    if isinstance(value, dict):
        return {k: _converted(v, dtype, device) for k, v in value.items()}
    return value


def sample(entry: catalog.Entry, dtype=torch.float64, device="cpu", seed=0):
    """``(args, kwargs)`` for one call of ``entry.function``: from ``entry.inputs`` when the
    entry has a maker, else from :data:`SAMPLES`."""
    generator = torch.Generator().manual_seed(seed)
    if entry.inputs is not None:
        made = entry.inputs(generator, dtype, device)
        return tuple(made.args), dict(made.kwargs)
    args, kwargs = SAMPLES[entry.name](generator)
    return (tuple(_converted(a, dtype, device) for a in args),
            {k: _converted(v, dtype, device) for k, v in kwargs.items()})
