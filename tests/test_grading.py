"""lossbook.grading: a right answer scores 100 %, a wrong or unfinished one does not."""

import torch

from lossbook import grading
from lossbook.grading.information import grade_binary_cross_entropy_with_logits, grade_entropy


def naive_bce(x, y):
    p = torch.sigmoid(x)
    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p))


def stable_bce(x, y):
    return (1 - y) * x + torch.logaddexp(torch.zeros_like(x), -x)


def test_a_correct_implementation_scores_full_marks():
    assert grade_binary_cross_entropy_with_logits(stable_bce).score == 1.0
    assert grade_entropy(lambda p: -torch.xlogy(p, p).sum(-1)).score == 1.0


def test_the_naive_implementation_fails_only_the_extreme_logits():
    report = grade_binary_cross_entropy_with_logits(naive_bce)
    failed = [text for ok, text in report.checks if not ok]
    assert failed and all("extreme logits" in text for text in failed)
    assert 0 < report.score < 1


def test_entropy_without_the_zero_convention_fails():
    report = grade_entropy(lambda p: -(p * torch.log(p)).sum(-1))
    assert any("0 log 0" in text and not ok for ok, text in report.checks)


def test_unimplemented_exercise_scores_zero_and_says_why():
    def student(x, y):
        raise NotImplementedError

    report = grade_binary_cross_entropy_with_logits(student)
    assert report.score == 0.0
    assert "not implemented yet" in str(report)


def test_non_differentiable_and_wrong_shape_answers_fail():
    detached = grade_entropy(lambda p: -torch.xlogy(p, p).sum(-1).detach())
    assert any("not differentiable" in text for _, text in detached.checks)
    wrong_shape = grade_entropy(lambda p: -torch.xlogy(p, p).sum())
    assert any("shape" in text for _, text in wrong_shape.checks)


def test_report_prints_one_line_per_check_and_a_score():
    report = grading.Report("Grading f", [(True, "a: value"), (False, "b: value — wrong")])
    assert str(report) == "Grading f\n  pass  a: value\n  FAIL  b: value — wrong\nScore: 1/2 (50 %)"
