"""The products of one DQN update, counted: the arithmetic a learning step cannot skip.

Shared by ``learner.py`` (the rate its compiled update reaches) and ``arena.py`` (the
update's share of a learning step), so both count the same way.
"""

from __future__ import annotations

from itertools import pairwise


def update_flop(sizes: list[int], batch: int, agents: int) -> int:
    """Floating-point operations in the products of one compiled update (a multiply and an
    add each; Adam, the loss and the clip not counted): per sample, the target's and the
    online network's forward passes, then the backward — the output layer's weight gradient
    and input gradient through the taken action's column only, each hidden layer's weight
    gradient, and the input gradient of every hidden layer but the first."""
    layers = list(pairwise(sizes))
    forward = sum(n_in * n_out for n_in, n_out in layers)
    backward = 2 * sizes[-2] + sum(n_in * n_out for n_in, n_out in layers[:-1])
    backward += sum(n_in * n_out for n_in, n_out in layers[1:-1])
    return 2 * (2 * forward + backward) * batch * agents
