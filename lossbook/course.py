"""A path through the book: what each chapter needs, and which loss to use for which task.

Two tables that the preface and the decision guide (appendix *Which loss should I use?*)
draw from, kept here so that they also work on Colab, where the book's ``_toc.yml`` is not
at hand; ``tests/test_course_map.py`` holds them to ``_toc.yml``, the chapters and the catalog.

* :data:`CHAPTERS` — every numbered chapter in reading order, its part, a short title for
  the reading map and the chapters it builds on (:func:`lossbook.plot.course.reading_map`).
* :data:`GUIDE` — the decision guide's rows: a task a reader has, the catalog's tasks that
  belong to it (the losses, and the chapters deriving them, come from
  :mod:`lossbook.catalog`), where to start and the experiment that shows the trade-off.
  :func:`guide` renders it as a table, :func:`lossbook.plot.course.decision_map` as a figure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Chapter:
    """A chapter of the book: file stem, part (``_toc.yml``'s caption), a short title and
    the stems of the chapters it builds on."""

    stem: str
    part: str
    short: str
    needs: tuple[str, ...] = ()


CHAPTERS = (
    Chapter("01_norms_regularisation", "Norms and regression", "Norms, regularisation"),
    Chapter("02_regression_losses", "Norms and regression", "Regression losses",
            ("01_norms_regularisation",)),
    Chapter("03_maximum_likelihood", "Information and likelihood", "Maximum likelihood",
            ("02_regression_losses",)),
    Chapter("04_entropy_cross_entropy_kl", "Information and likelihood",
            "Entropy, cross-entropy, KL", ("03_maximum_likelihood",)),
    Chapter("05_classification_losses", "Classification", "Classification losses",
            ("04_entropy_cross_entropy_kl",)),
    Chapter("05b_calibration_scoring_rules", "Classification", "Calibration, scoring rules",
            ("04_entropy_cross_entropy_kl", "05_classification_losses")),
    Chapter("05c_knowledge_distillation", "Classification", "Knowledge distillation",
            ("05_classification_losses",)),
    Chapter("06_margin_losses", "Margins and embeddings", "Margin losses",
            ("05_classification_losses",)),
    Chapter("07_embedding_losses", "Margins and embeddings", "Embedding losses",
            ("06_margin_losses",)),
    Chapter("07b_learning_to_rank", "Margins and embeddings", "Learning to rank",
            ("04_entropy_cross_entropy_kl", "06_margin_losses")),
    Chapter("08_detection_segmentation", "Detection, segmentation and sequences",
            "Detection, segmentation", ("02_regression_losses", "05_classification_losses")),
    Chapter("09_ctc", "Detection, segmentation and sequences", "CTC",
            ("04_entropy_cross_entropy_kl",)),
    Chapter("10_perceptual_style", "Images and generative models", "Perceptual, style",
            ("02_regression_losses",)),
    Chapter("11_gan_losses", "Images and generative models", "GAN losses",
            ("04_entropy_cross_entropy_kl",)),
    Chapter("12_distances", "Distances between distributions", "Distances",
            ("04_entropy_cross_entropy_kl", "11_gan_losses")),
    Chapter("13_contrastive_pretraining", "Losses of large models", "Contrastive pretraining",
            ("07_embedding_losses",)),
    Chapter("14_vae_diffusion", "Losses of large models", "VAE and diffusion",
            ("03_maximum_likelihood", "11_gan_losses")),
    Chapter("15_language_models", "Losses of large models", "Language models",
            ("04_entropy_cross_entropy_kl", "06_margin_losses")),
)


def chapter(stem: str) -> Chapter:
    """The entry of :data:`CHAPTERS` for ``stem``."""
    for entry in CHAPTERS:
        if entry.stem == stem:
            return entry
    raise KeyError(f"stem: no chapter {stem!r} in lossbook.course.CHAPTERS")


def number(stem: str) -> int:
    """The chapter's number in the book (its place among the numbered chapters)."""
    return CHAPTERS.index(chapter(stem)) + 1


@dataclass(frozen=True)
class Row:
    """One row of the decision guide.

    ``tasks`` is a regular expression: a catalogued loss belongs to the row when its
    ``task`` matches it (ignoring case) and, with ``robust`` set, when its ``robust``
    property is that value. ``extra`` names losses the catalog files under another task that
    also answer this one (label smoothing is an argument of ``cross_entropy``, for noisy
    labels). ``start`` is the loss to try first and ``why`` one line on the trade-off, which
    the chapter ``experiment`` shows (a notebook stem, with ``#anchor`` when it has one).
    """

    task: str
    tasks: str | None
    start: str
    why: str
    experiment: str
    robust: bool | None = None
    extra: tuple[str, ...] = field(default=())

    def matches(self, entry) -> bool:
        return (self.tasks is not None and re.search(self.tasks, entry.task, re.IGNORECASE)
                is not None and (self.robust is None or entry.robust == self.robust))


GUIDE = (
    Row("Regression, noise without outliers", r"^regression$", "mse_loss",
        "MSE is the Gaussian likelihood: it fits the mean, and it chases outliers",
        "02_regression_losses", robust=False),
    Row("Regression with outliers", r"^regression$|robust regression", "huber_loss",
        "bounded influence: Huber is quadratic near 0 and linear beyond delta; L1 fits "
        "the median", "02_regression_losses", robust=True),
    Row("Regression with uncertainty, counts or quantiles",
        r"predicted uncertainty|count regression|predicted scale", "gaussian_nll_loss",
        "predict the noise too; Poisson for counts; quantile_loss for an interval",
        "03_maximum_likelihood", extra=("quantile_loss",)),
    Row("Classification", r"^(binary|multi|classification)", "cross_entropy",
        "cross-entropy is the labels' likelihood; margins and the exponential loss bend it",
        "05_classification_losses"),
    Row("Probabilities to act on", r"proper score", "cross_entropy",
        "log loss and the Brier score are strictly proper; temperature scaling calibrates "
        "an over-confident network without changing its accuracy",
        "05b_calibration_scoring_rules", extra=("cross_entropy",)),
    Row("Imbalanced classes", r"imbalanced", "sigmoid_focal_loss",
        "focal loss down-weights easy examples; class weights rescale the rare class",
        "05_classification_losses", extra=("cross_entropy",)),
    Row("Noisy labels", None, "cross_entropy",
        "label smoothing caps the logit gap a wrong label can demand; a teacher's soft "
        "targets do so with learned similarities", "05c_knowledge_distillation",
        extra=("cross_entropy", "soft_target_loss")),
    Row("Learning from a teacher", r"distillation", "distillation_loss",
        "soft targets carry the teacher's similarities; T² keeps the soft gradient's size",
        "05c_knowledge_distillation"),
    Row("Retrieval and embeddings",
        r"metric learning|embedding|within a batch|\(pairs\)|contrastive representation",
        "triplet_margin_loss",
        "a margin stops once a pair is right; InfoNCE uses the batch as negatives",
        "07_embedding_losses"),
    Row("Ranking a list", r"learning to rank", "lambdarank_loss",
        "pairwise losses count swapped pairs; LambdaRank weighs each swap by its NDCG change",
        "07b_learning_to_rank"),
    Row("Detection boxes", r"bounding-box", "generalized_box_iou_loss",
        "IoU losses are scale-invariant; GIoU has a gradient when boxes do not overlap",
        "08_detection_segmentation", extra=("sigmoid_focal_loss",)),
    Row("Segmentation masks", r"segmentation", "dice_loss",
        "Dice and Tversky score the overlap, not the pixels: small objects count",
        "08_detection_segmentation"),
    Row("Sequences without alignment", r"without alignment", "ctc_loss",
        "CTC sums over every alignment by dynamic programming", "09_ctc"),
    Row("Images: synthesis, style, super-resolution",
        r"image|style|unpaired translation", "feature_reconstruction_loss",
        "pixel losses average; feature and Gram-matrix losses compare structure and texture",
        "10_perceptual_style"),
    Row("Generative models", r"\bw?gan\b|autoencoder|\bvae\b|diffusion|generative",
        "g_loss_nonsaturating",
        "non-saturating and hinge GANs keep a gradient; the ELBO and diffusion bound a "
        "likelihood",
        "11_gan_losses"),
    Row("Self-supervised and paired pretraining", r"contrastive", "clip_loss",
        "softmax losses couple the batch; SigLIP's sigmoid scores each pair alone",
        "13_contrastive_pretraining"),
    Row("Language models", r"language modelling", "cross_entropy",
        "token cross-entropy over the vocabulary; z-loss keeps the logits small; "
        "linear_cross_entropy never holds the logits whole", "15_language_models",
        extra=("cross_entropy",)),
    Row("Learning from preferences", r"reward modelling|preference optimisation", "dpo_loss",
        "Bradley–Terry fits a reward to pairs; DPO trains the policy directly, beta trading "
        "reward against the KL to the reference", "15_language_models"),
    Row("Comparing distributions", r"distribution matching|two-sample", "wasserstein_1d",
        "KL needs overlapping supports and JS saturates without; Wasserstein grows with the "
        "distance; MMD compares through a kernel",
        "12_distances"),
    Row("Vectors, codes, counts and penalties",
        r"distance|regularisation|evaluation|dissimilarity", "l2_penalty",
        "pick the geometry: L1 sparsifies, L2 shrinks, cosine ignores length",
        "01_norms_regularisation"),
)


def rows_for(entry) -> list[Row]:
    """The guide's rows a catalogued loss belongs to (every loss belongs to one at least)."""
    return [row for row in GUIDE if row.matches(entry) or entry.name in row.extra]


def losses(row: Row, entries=None) -> list:
    """The catalog's entries that answer ``row``, in the catalog's order."""
    from lossbook import catalog

    entries = catalog.entries() if entries is None else entries
    return [e for e in entries if row.matches(e) or e.name in row.extra]


class GuideTable:
    """The decision guide as a Markdown table; its plain-text form is the same Markdown.

    Four columns, so that it fits the book's text column: the task with the reason for the
    first choice, the losses (the first choice first, in bold), the chapters that derive
    them, and the chapter whose experiment shows the trade-off.
    """

    COLUMNS = ("task", "losses (try the first one first)", "derived in", "trade-off shown in")

    def __init__(self, titles: dict[str, str]):
        rows = [" | ".join(self.COLUMNS), " | ".join("---" for _ in self.COLUMNS)]
        for row in GUIDE:
            found = losses(row)
            chapters = list(dict.fromkeys(e.chapter for e in found))
            others = [f"`{e.name}`" for e in found if e.name != row.start]
            stem, _, anchor = row.experiment.partition("#")
            rows.append(" | ".join([
                f"**{row.task}**: {row.why}", ", ".join([f"**`{row.start}`**", *others]),
                ", ".join(_link(c, titles) for c in chapters), _link(stem, titles, anchor),
            ]))
        self.text = "\n".join(f"| {row} |" for row in rows) + "\n"

    def _repr_markdown_(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text


def _link(stem: str, titles: dict[str, str], anchor: str = "") -> str:
    label = f"{number(stem)}. {titles.get(stem, chapter(stem).short)}"
    return f"[{label}]({stem}.ipynb{'#' + anchor if anchor else ''})"


def guide(titles: dict[str, str] | None = None) -> GuideTable:
    """The decision guide as a table (``titles`` maps chapter stems to their titles)."""
    return GuideTable(titles or {})
