"""Graders for the exercises of *Generative models: the VAE's ELBO and the diffusion objective*.

Each grader compares the student's function with lossbook's on random, edge and extreme
inputs, in value and gradient. Handing in lossbook's own function (directly, wrapped in a
``functools.partial`` or called from a lambda) scores 0 with the line "implement it yourself"
(the engine, :func:`lossbook.grading.grade`, refuses it).
"""

from __future__ import annotations

import torch

from lossbook import data
from lossbook.generative import elbo_loss, gaussian_kl_divergence
from lossbook.grading import Case, Report, grade


def _kl_reference(mu, logvar):
    return gaussian_kl_divergence(mu, logvar, reduction="none")


def grade_gaussian_kl_divergence(student_fn) -> Report:
    """``student_fn(mu, logvar)``: KL(N(mu, exp(logvar)) || N(0, I)) per row, summed over the
    last dimension (shape ``mu.shape[:-1]``)."""
    title = "Grading gaussian_kl_divergence(mu, logvar)"
    mu = data.randn(6, 4, seed=31, dtype=torch.float64)
    logvar = data.randn(6, 4, seed=32, dtype=torch.float64)
    zeros = torch.zeros(3, 5, dtype=torch.float64)
    wide = torch.tensor([[-30.0, 0.0, 30.0]], dtype=torch.float64)
    cases = [
        Case("random means and log-variances (6 x 4)", (mu, logvar)),
        Case("the prior itself (KL = 0)", (zeros, zeros)),
        Case("one latent vector (shape (4,))", (mu[0], logvar[0])),
        Case("log-variances of -30 and +30", (wide, wide.flip(1))),
    ]
    return grade(student_fn, _kl_reference, cases, title=title)


def _elbo_reference(logits, x, mu, logvar, beta):
    return elbo_loss(logits, x, mu, logvar, beta=beta, reduction="none")


def grade_elbo_loss(student_fn) -> Report:
    """``student_fn(logits, x, mu, logvar, beta)``: the Bernoulli VAE's negative ELBO per
    sample, BCE summed over the pixels plus ``beta`` times the KL (shape (N,))."""
    title = "Grading elbo_loss(logits, x, mu, logvar, beta)"
    logits = data.randn(5, 8, seed=33, dtype=torch.float64) * 3
    x = data.rand(5, 8, seed=34, dtype=torch.float64)
    mu = data.randn(5, 3, seed=35, dtype=torch.float64)
    logvar = data.randn(5, 3, seed=36, dtype=torch.float64)
    extreme = torch.tensor([[-1e4, -50.0, 0.0, 50.0, 1e4]])
    one = torch.tensor([[0.0, 1.0, 0.5, 1.0, 0.0]])
    cases = [
        Case("random logits, grey-level pixels, beta = 1", (logits, x, mu, logvar, 1.0)),
        Case("binary pixels, beta = 4", (logits, (x > 0.5).double(), mu, logvar, 4.0)),
        Case("beta = 0 (an autoencoder with noise)", (logits, x, mu, logvar, 0.0)),
        Case("extreme logits ±1e4, float32",
             (extreme, one, torch.zeros(1, 2), torch.zeros(1, 2), 1.0)),
    ]
    return grade(student_fn, _elbo_reference, cases, title=title)
