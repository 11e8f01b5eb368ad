"""``bench/flop.py``'s count of an update's products, against a count by hand."""

from __future__ import annotations

from bench_helpers import load_bench

flop = load_bench("flop")


def test_one_hidden_layer() -> None:
    # per sample: two forward passes of 16*32 + 32*3, then the taken column's weight and
    # input gradients (32 each) and the hidden layer's weight gradient (16*32)
    per_sample = 2 * (16 * 32 + 32 * 3) + 2 * 32 + 16 * 32
    assert flop.update_flop([16, 32, 3], 32, 4096) == 2 * per_sample * 32 * 4096


def test_two_hidden_layers_add_the_second_ones_input_gradient() -> None:
    forward = 16 * 32 + 32 * 16 + 16 * 3
    backward = 2 * 16 + (16 * 32 + 32 * 16) + 32 * 16
    assert flop.update_flop([16, 32, 16, 3], 1, 1) == 2 * (2 * forward + backward)
