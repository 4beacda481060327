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


# ------------------------------------------------------------------ lossbook's own answer
# The engine refuses lossbook's implementation of the function under test, however it is
# reached, and nothing else: every grader (and any new one) gets this without code of its own.

def test_lossbooks_own_function_scores_zero_by_every_route():
    import functools

    import lossbook
    import lossbook.information as information
    from lossbook.information import entropy as renamed

    @functools.wraps(lossbook.entropy)
    def decorated(p):
        return lossbook.entropy(p)

    routes = {
        "the function itself": lossbook.entropy,
        "its module's name": information.entropy,
        "a partial": functools.partial(lossbook.entropy, dim=-1),
        "a lambda through lossbook.entropy": lambda p: lossbook.entropy(p),
        "a lambda through lossbook.information.entropy": lambda p: information.entropy(p),
        "an imported alias": lambda p: renamed(p) + 0.0,
        "a decorated wrapper": decorated,
    }
    for route, answer in routes.items():
        report = grade_entropy(answer)
        assert report.score == 0.0, route
        assert report.refusal == "implement it yourself: your function calls lossbook.entropy"
        lines = str(report).splitlines()  # grade_entropy adds up two grade() calls
        assert lines[1:] == [f"  FAIL  {report.refusal}", f"Score: 0/{report.total} (0 %)"]


def test_a_module_twin_or_a_graders_wrapper_does_not_hide_the_call():
    import lossbook
    from lossbook.grading.likelihood import grade_poisson_nll

    twin = lossbook.nn.BCEWithLogitsLoss(reduction="none")
    report = grade_binary_cross_entropy_with_logits(lambda x, y: twin(x, y))
    assert report.score == 0.0
    assert report.refusal == ("implement it yourself: your function calls "
                              "lossbook.nn.BCEWithLogitsLoss, which runs "
                              "lossbook.binary_cross_entropy_with_logits")
    # grade_poisson_nll wraps the student's function in one of its own per case
    report = grade_poisson_nll(
        lambda x, y: lossbook.poisson_nll_loss(x, y, full=True, reduction="none"))
    assert report.score == 0.0 and report.total == 3  # three grade() calls, one line each
    assert str(report).count("implement it yourself") == 1


def test_other_lossbook_functions_stay_usable():
    import lossbook
    from lossbook.grading.classification import grade_sigmoid_focal_loss
    from lossbook.grading.regression import grade_huber_loss

    def focal(x, y, alpha, gamma):  # chapter 5's answer builds on lossbook's BCE
        ce = lossbook.binary_cross_entropy_with_logits(x, y, reduction="none")
        p = torch.sigmoid(x)
        loss = ce * (1 - (p * y + (1 - p) * (1 - y))) ** gamma
        return (alpha * y + (1 - alpha) * (1 - y)) * loss if alpha >= 0 else loss

    def huber(x, y, delta):  # mse_loss shares huber_loss's private reduction helper
        d = (x - y).abs()
        half_squared = 0.5 * lossbook.mse_loss(x, y, reduction="none")
        return torch.where(d < delta, half_squared, delta * (d - 0.5 * delta))

    assert grade_sigmoid_focal_loss(focal).score == 1.0
    assert grade_huber_loss(huber).score == 1.0


def test_calling_a_private_helper_of_the_answer_or_a_declared_twin_is_refused():
    import lossbook
    from lossbook import distillation
    from lossbook.grading.distillation import grade_soft_target_loss

    direct = grade_soft_target_loss(lambda s, t, temperature: distillation._soft_term(
        s, t, temperature))
    assert direct.refusal == ("implement it yourself: your function calls "
                              "lossbook.distillation._soft_term")

    def through_distillation(s, t, temperature):  # alpha = 1: only the soft term
        y = torch.zeros(len(s), dtype=torch.long)
        return lossbook.distillation_loss(s, t, y, temperature=temperature, alpha=1.0,
                                          reduction="none")

    assert grade_soft_target_loss(through_distillation).refusal == (
        "implement it yourself: your function calls lossbook.distillation_loss")


def test_a_new_grader_gets_the_refusal_without_code_of_its_own():
    import lossbook

    def reference(x, y):
        return lossbook.hinge_loss(x, y, reduction="none")

    cases = [grading.Case("random scores", (torch.randn(5, dtype=torch.float64),
                                             torch.tensor([1.0, -1, 1, -1, 1]).double()))]
    honest = grading.grade(lambda x, y: torch.relu(1 - x * y), reference, cases)
    assert honest.score == 1.0
    borrowed = grading.grade(lambda x, y: lossbook.margin.hinge_loss(x, y, reduction="none"),
                             reference, cases)
    assert borrowed.refusal == "implement it yourself: your function calls lossbook.hinge_loss"


def test_grading_puts_back_a_profiler_that_was_running():
    import sys

    import lossbook

    calls = []

    def profiler(frame, event, arg):
        calls.append(event)

    sys.setprofile(profiler)
    try:
        grade_entropy(lambda p: lossbook.entropy(p))
        grade_entropy(lambda p: 1 / 0)
        assert sys.getprofile() is profiler
    finally:
        sys.setprofile(None)


def test_collect_answers_names_the_code_each_grader_asks_for():
    import lossbook
    from lossbook.grading.distillation import grade_soft_target_loss

    def stub(*args, **kwargs):
        raise NotImplementedError

    with grading.collect_answers() as found:
        grade_entropy(stub)
    assert found == {lossbook.entropy.__code__: "lossbook.entropy"}
    with grading.collect_answers() as found:
        grade_soft_target_loss(stub)
    names = set(found.values())
    assert {"lossbook.soft_target_loss", "lossbook.distillation._soft_term",
            "lossbook.distillation_loss"} <= names
    assert not [n for n in names if "_numerics" in n or "_checks" in n]  # shared helpers


# ------------------------------------------------------------------ nbgrader's points

def test_assert_passed_returns_a_full_report_and_fails_any_other(capsys):
    import pytest

    full = grade_entropy(lambda p: -torch.xlogy(p, p).sum(-1))
    assert full.assert_passed() is full
    assert capsys.readouterr().out == ""
    partial = grade_binary_cross_entropy_with_logits(naive_bce)
    with pytest.raises(AssertionError, match=r"^\d+ of 6 checks passed"):
        partial.assert_passed()
    assert str(partial) in capsys.readouterr().out  # the report is shown before the error
    with pytest.raises(AssertionError):
        grading.Report("Grading nothing").assert_passed()  # no checks is no pass
