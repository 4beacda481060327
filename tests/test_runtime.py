"""lossbook.runtime.setup: seeded, deterministic, silent."""

import random

import numpy as np
import torch

from lossbook import data, runtime


def test_setup_is_silent_and_returns_a_device(capsys, monkeypatch):
    monkeypatch.delenv(runtime.DEVICE_VARIABLE, raising=False)
    device = runtime.setup(seed=0)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert device.type == expected
    assert capsys.readouterr() == ("", "")


def test_device_can_be_overridden_by_environment(monkeypatch):
    monkeypatch.setenv(runtime.DEVICE_VARIABLE, "cpu")
    assert runtime.setup(seed=0) == torch.device("cpu")
    assert runtime.pick_device("meta") == torch.device("meta")


def test_setup_seeds_every_generator():
    runtime.setup(seed=3)
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    runtime.setup(seed=3)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == first


def test_setup_turns_off_tf32_and_asks_for_determinism():
    runtime.setup(seed=0)
    assert not torch.backends.cuda.matmul.allow_tf32
    assert not torch.backends.cudnn.allow_tf32
    assert torch.get_float32_matmul_precision() == "highest"
    assert torch.are_deterministic_algorithms_enabled()


def test_data_is_identical_on_every_device():
    cpu = data.randn(3, 4, seed=7)
    assert torch.equal(cpu, data.randn(3, 4, seed=7))
    if torch.cuda.is_available():
        assert torch.equal(cpu, data.randn(3, 4, seed=7, device="cuda").cpu())
    probabilities = data.probabilities(5, 3, seed=1)
    torch.testing.assert_close(probabilities.sum(dim=-1), torch.ones(5))
    assert data.randint(0, 4, (10,), seed=2).dtype == torch.long


def test_setup_owns_the_thread_count():
    import pytest

    before = torch.get_num_threads()
    try:
        runtime.setup(seed=0, threads=1)
        assert torch.get_num_threads() == 1
        runtime.setup(seed=0)  # None leaves it as it is
        assert torch.get_num_threads() == 1
        with pytest.raises(ValueError, match="^threads: expected a positive integer, got 0"):
            runtime.setup(seed=0, threads=0)
    finally:
        torch.set_num_threads(before)


def test_no_chapter_sets_the_thread_count_itself():
    """runtime.setup(threads=...) owns it: a cell that sets it would leak into later cells."""
    import json
    from pathlib import Path

    chapters = Path(__file__).resolve().parent.parent / "chapters"
    for path in sorted(chapters.glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            assert "set_num_threads" not in "".join(cell["source"]), path.name
