"""lossbook.errata: a note's failing code becomes one line of text."""

import pytest
import torch
import torch.nn.functional as F

from lossbook.errata import outcome, run_snippet


def test_run_snippet_reports_syntax_and_name_errors():
    assert run_snippet("x = 1 + 1") == "runs"
    assert run_snippet("import math、").startswith("SyntaxError: invalid character '、'")
    assert run_snippet("torch.zeros(1)") == "NameError: name 'torch' is not defined"
    assert run_snippet("torch.zeros(1)", {"torch": torch}) == "runs"


def test_run_snippet_does_not_change_the_namespace_it_is_given():
    namespace = {"a": 1}
    assert run_snippet("a = 2", namespace) == "runs"
    assert namespace == {"a": 1}


def test_outcome_formats_values_and_errors():
    assert outcome(torch.add, torch.tensor(1.0), 2.0) == "returns 3.0000"
    text = outcome(F.binary_cross_entropy, torch.rand(2), torch.rand(2), reduction="batchmean")
    assert text == "ValueError: batchmean is not a valid value for reduction"


def test_glossary_lookup():
    from lossbook.glossary import lookup

    assert lookup("交叉熵") == "cross-entropy"
    with pytest.raises(KeyError, match="term: '熵熵' is not in the glossary"):
        lookup("熵熵")


def test_glossary_table_is_markdown():
    from lossbook.glossary import GLOSSARY, table

    text = table()._repr_markdown_()
    assert text.splitlines()[:3] == [
        "| Chinese | English |", "| --- | --- |", "| 损失函数 | loss function |"]
    assert len(text.splitlines()) == len(GLOSSARY) + 2
    assert repr(table()) == text
