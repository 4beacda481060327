"""lossbook: loss functions from first principles, in plain PyTorch.

Torch-named losses are available at the top level, so ``lossbook.cross_entropy`` can replace
``torch.nn.functional.cross_entropy`` line for line. Each family also lives in its own module
(``lossbook.information``, ...), named as in the book's chapters, and ``lossbook.nn`` holds
their ``torch.nn``-style module forms (``lossbook.nn.CrossEntropyLoss(weight=w)``).

``import lossbook`` loads the losses and the light helpers only: the book's figure style
(``lossbook.plot``, which imports matplotlib), the exercise graders (``lossbook.grading``) and
the experiment helpers (``lossbook.experiment``) are imported the first time they are used,
as attributes (``lossbook.plot.figure()``) or as modules (``from lossbook import plot``).
"""

import importlib

from lossbook import catalog, data, display, nn, runtime
from lossbook._numerics import log_softmax, logsumexp, softmax, softplus
from lossbook.calibration import (
    brier_score_loss,
    expected_calibration_error,
    fit_temperature,
    maximum_calibration_error,
    reliability_curve,
    spherical_score_loss,
    temperature_scale,
)
from lossbook.classification import (
    class_balanced_weights,
    exponential_loss,
    generalized_cross_entropy_loss,
    large_margin_psi,
    large_margin_softmax_logits,
    large_margin_softmax_loss,
    logistic_loss,
    sigmoid_focal_loss,
    softmax_focal_loss,
    symmetric_cross_entropy_loss,
)
from lossbook.contrastive import clip_loss, nt_xent_loss, siglip_loss
from lossbook.distances import (
    bhattacharyya_coefficient,
    bhattacharyya_distance,
    bray_curtis,
    chebyshev,
    correlation_distance,
    cosine_distance,
    euclidean,
    hamming,
    hellinger_distance,
    js_distance,
    mahalanobis,
    manhattan,
    minkowski,
    mmd,
    mmd_permutation_test,
    sinkhorn_distance,
    sinkhorn_plan,
    standardized_euclidean,
    wasserstein_1d,
)
from lossbook.distillation import distillation_loss, logit_matching_loss, soft_target_loss
from lossbook.embedding import (
    batch_all,
    batch_hard,
    contrastive_loss,
    cosine_embedding_loss,
    cosine_similarity,
    info_nce_loss,
    pairwise_distance,
    pdist,
    triplet_margin_loss,
    triplet_margin_with_distance_loss,
)
from lossbook.gan import (
    cycle_consistency_loss,
    d_loss_hinge,
    d_loss_lsgan,
    d_loss_minimax,
    d_loss_wasserstein,
    g_loss_hinge,
    g_loss_lsgan,
    g_loss_minimax,
    g_loss_nonsaturating,
    g_loss_wasserstein,
    gradient_penalty,
    r1_penalty,
)
from lossbook.generative import (
    NoiseSchedule,
    diffusion_loss,
    elbo_loss,
    gaussian_kl_divergence,
    mode_coverage,
)
from lossbook.information import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    entropy,
    js_divergence,
    kl_div,
    label_smoothing,
    nll_loss,
    zero_one_loss,
)
from lossbook.language import (
    TensorMemory,
    bradley_terry_loss,
    dpo_loss,
    ipo_loss,
    linear_cross_entropy,
    simpo_loss,
    z_loss,
)
from lossbook.likelihood import (
    bernoulli_log_likelihood,
    binomial_pmf,
    fit_mle,
    gaussian_nll_loss,
    laplace_nll,
    poisson_nll_loss,
)
from lossbook.margin import (
    hinge_embedding_loss,
    hinge_loss,
    margin_ranking_loss,
    multi_margin_loss,
    multilabel_margin_loss,
    multilabel_soft_margin_loss,
    soft_margin_loss,
    squared_hinge_loss,
)
from lossbook.norms import (
    l0_norm,
    l1_norm,
    l1_penalty,
    l2_norm,
    l2_penalty,
    linf_norm,
    lp_norm,
    soft_threshold,
)
from lossbook.overlap import (
    box_iou,
    box_iou_loss,
    complete_box_iou_loss,
    dice_loss,
    distance_box_iou_loss,
    generalized_box_iou_loss,
    soft_jaccard_loss,
    tversky_loss,
)
from lossbook.perceptual import (
    feature_reconstruction_loss,
    gram_matrix,
    style_loss,
    total_variation,
)
from lossbook.ranking import (
    lambdarank_loss,
    listmle_loss,
    listnet_loss,
    mrr,
    ndcg,
    ordered_pairs,
    ranknet_loss,
)
from lossbook.regression import (
    huber_loss,
    l1_loss,
    log_cosh_loss,
    mse_loss,
    quantile_loss,
    rmse_loss,
    smooth_l1_loss,
)
from lossbook.sequence import ctc_alignment_table, ctc_greedy_decode, ctc_loss

__version__ = "0.2.0"

#: Submodules imported on first use: they pull in matplotlib, or the graders' cases.
LAZY_SUBMODULES = ("experiment", "grading", "plot")


def __getattr__(name: str):
    """``lossbook.plot`` and the other :data:`LAZY_SUBMODULES`, imported when first used."""
    if name in LAZY_SUBMODULES:
        return importlib.import_module(f"lossbook.{name}")  # also sets it as an attribute
    raise AttributeError(f"module 'lossbook' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(LAZY_SUBMODULES))


__all__ = [
    "catalog", "data", "display", "grading", "nn", "plot", "runtime",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "entropy",
    "js_divergence", "kl_div", "label_smoothing", "log_softmax", "logsumexp", "nll_loss",
    "softmax", "softplus", "zero_one_loss",
    "class_balanced_weights", "exponential_loss", "large_margin_psi",
    "large_margin_softmax_logits", "large_margin_softmax_loss", "logistic_loss",
    "sigmoid_focal_loss", "softmax_focal_loss", "generalized_cross_entropy_loss",
    "symmetric_cross_entropy_loss",
    "clip_loss", "nt_xent_loss", "siglip_loss",
    "brier_score_loss", "expected_calibration_error", "fit_temperature",
    "maximum_calibration_error", "reliability_curve", "spherical_score_loss",
    "temperature_scale",
    "bhattacharyya_coefficient", "bhattacharyya_distance", "bray_curtis", "chebyshev",
    "correlation_distance", "cosine_distance", "euclidean", "hamming", "hellinger_distance",
    "js_distance", "mahalanobis", "manhattan", "minkowski", "mmd", "mmd_permutation_test",
    "sinkhorn_distance", "sinkhorn_plan", "standardized_euclidean", "wasserstein_1d",
    "distillation_loss", "logit_matching_loss", "soft_target_loss",
    "batch_all", "batch_hard", "contrastive_loss", "cosine_embedding_loss", "cosine_similarity",
    "info_nce_loss", "pairwise_distance", "pdist", "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
    "cycle_consistency_loss", "d_loss_hinge", "d_loss_lsgan", "d_loss_minimax",
    "d_loss_wasserstein", "g_loss_hinge", "g_loss_lsgan", "g_loss_minimax", "g_loss_nonsaturating",
    "g_loss_wasserstein", "gradient_penalty", "r1_penalty",
    "NoiseSchedule", "diffusion_loss", "elbo_loss", "gaussian_kl_divergence", "mode_coverage",
    "TensorMemory", "bradley_terry_loss", "dpo_loss", "ipo_loss", "linear_cross_entropy",
    "simpo_loss", "z_loss",
    "bernoulli_log_likelihood", "binomial_pmf", "fit_mle", "gaussian_nll_loss", "laplace_nll",
    "poisson_nll_loss",
    "hinge_embedding_loss", "hinge_loss", "margin_ranking_loss", "multi_margin_loss",
    "multilabel_margin_loss", "multilabel_soft_margin_loss", "soft_margin_loss",
    "squared_hinge_loss",
    "l0_norm", "l1_norm", "l1_penalty", "l2_norm", "l2_penalty", "linf_norm", "lp_norm",
    "soft_threshold",
    "feature_reconstruction_loss", "gram_matrix", "style_loss", "total_variation",
    "lambdarank_loss", "listmle_loss", "listnet_loss", "mrr", "ndcg", "ordered_pairs",
    "ranknet_loss",
    "huber_loss", "l1_loss", "log_cosh_loss", "mse_loss", "quantile_loss", "rmse_loss",
    "smooth_l1_loss",
    "box_iou", "box_iou_loss", "complete_box_iou_loss", "dice_loss", "distance_box_iou_loss",
    "generalized_box_iou_loss", "soft_jaccard_loss", "tversky_loss",
    "ctc_alignment_table", "ctc_greedy_decode", "ctc_loss",
]
