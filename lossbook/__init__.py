"""lossbook: loss functions from first principles, in plain PyTorch.

Torch-named losses are available at the top level, so ``lossbook.cross_entropy`` can replace
``torch.nn.functional.cross_entropy`` line for line. Each family also lives in its own module
(``lossbook.information``, ...), named as in the book's chapters.
"""

from lossbook import catalog, data, display, grading, plot, runtime
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
from lossbook.information import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    entropy,
    js_divergence,
    kl_div,
    label_smoothing,
    log_softmax,
    logsumexp,
    nll_loss,
    softmax,
    softplus,
    zero_one_loss,
)

__version__ = "0.1.0"

__all__ = [
    "catalog", "data", "display", "grading", "plot", "runtime",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "entropy",
    "js_divergence", "kl_div", "label_smoothing", "log_softmax", "logsumexp", "nll_loss",
    "softmax", "softplus", "zero_one_loss",
    "bhattacharyya_coefficient", "bhattacharyya_distance", "bray_curtis", "chebyshev",
    "correlation_distance", "cosine_distance", "euclidean", "hamming", "hellinger_distance",
    "js_distance", "mahalanobis", "manhattan", "minkowski", "mmd", "mmd_permutation_test",
    "sinkhorn_distance", "sinkhorn_plan", "standardized_euclidean", "wasserstein_1d",
]
