"""One DQN update of a whole Q-network population, compiled (``qnet.update``: the default,
``"auto"``, from schema 12 on; or ``"compiled"``).

Torch's update at N = 4096 (batch 32, 16 → 32 → 3) spends 25–40 ms on what is ~250 M
multiply-adds: autograd pushes a dense gradient through every action column though only the
taken one is non-zero, and the per-agent clip and Adam's foreach ops each stream the 2.6 M
weights and both moments through memory again. Here each agent's whole update (target
values, forward, Huber loss, backward, clip, Adam) runs in one pass while its ~10 KB of
weights sit in L1, and agents split across threads (:class:`RowSplit`): about twice as fast.

The rules that keep replay exact, and independent of the thread count:

- agent by agent, each on one thread; no operation mixes agents;
- every sum has one order, fixed here and not by a library: a layer's output sums its inputs
  in order from zero and adds the bias last (the order of :mod:`scarline.learning.acting`);
  a gradient sums the batch's samples in order from zero; the squared-gradient norm sums 16
  strided partial sums, then those in order;
- float32 throughout, no fused multiply-add (numba contracts none without ``fastmath``).

So the weights differ from torch's in their last bits (torch's batched products sum in
MKL's order): a run replays with the update its config names, ``"auto"`` meaning torch's
for runs of schema 11 and older.
``tests/learning/test_update_kernel.py`` holds this to the torch update within rounding and
to itself across thread counts bit for bit.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from scarline.learning.buffer import ReplaySource, observed_agent
from scarline.learning.row_split import RowSplit

_LANES = 16  # partial sums of the squared-gradient norm (a fixed order, and vectorizable)
_F0 = np.float32(0.0)


class AdamMoments:
    """Adam's first and second moments of every agent, ``float32[N, P]`` each, in the
    kernel's layout: agent i's row is ``W0, b0, W1, b1, …`` flattened, ``P`` numbers."""

    def __init__(self, n_agents: int, n_params: int) -> None:
        self.first = np.zeros((n_agents, n_params), dtype=np.float32)
        self.second = np.zeros((n_agents, n_params), dtype=np.float32)

    def reset_rows(self, rows: np.ndarray) -> None:
        """Zero agents ``rows``' moments (a newborn's weights moved: a fresh start)."""
        self.first[rows] = 0.0
        self.second[rows] = 0.0


class AdamHyper(NamedTuple):
    """The scalars of one update; ``step_size`` is ``lr / (1 - beta1 ** step)`` and
    ``bc2_sqrt`` is ``sqrt(1 - beta2 ** step)``, Adam's bias corrections at this step."""

    gamma: float
    huber_delta: float
    grad_clip: float
    step_size: float
    beta1: float
    beta2: float
    eps: float
    bc2_sqrt: float


def dqn_update(
    online: tuple[np.ndarray, ...],
    target: tuple[np.ndarray, ...],
    moments: AdamMoments,
    batch: tuple[np.ndarray, ...] | ReplaySource,
    hyper: AdamHyper,
    lr_scale: np.ndarray,
    n_act: int,
    double: bool,
    split: RowSplit,
) -> tuple[np.ndarray, np.ndarray]:
    """Update ``online`` (``(W0, b0, W1, b1, …)``, numpy views of the population's tensors,
    in place) and ``moments`` from ``target``'s values; returns each agent's loss (the mean
    Huber loss of its batch) and gradient norm before clipping, ``float32[N]`` each.

    ``batch``: ``(obs, action, reward, next_obs, done, head, next_head)``, ``[N, B, …]``, the
    heads ``int64`` (zeros with one head); or a :class:`ReplaySource`, each agent's batch
    read from its replay buffer's slot-major records (:func:`observed_agent`, inlined here,
    masks applied as each input is written) as :meth:`ReplayBuffers.batch` would build it
    (the same values, so the same update).
    ``n_act``: actions per head; ``lr_scale``: ``float32[N]``, each agent's learning rate
    as a multiple of the config's.
    """
    n = online[0].shape[0]
    ws, bs = online[0::2], online[1::2]
    tws, tbs = target[0::2], target[1::2]
    if isinstance(batch, ReplaySource):
        from_replay, replay, nb = True, batch, batch.u.shape[1]
        obs, action, reward, next_obs, done, head, next_head = _NO_BATCH
    else:
        from_replay, replay, nb = False, _NO_REPLAY, batch[1].shape[1]
        obs, action, reward, next_obs, done, head, next_head = batch
    h = hyper
    loss = np.empty(n, dtype=np.float32)
    norm = np.empty(n, dtype=np.float32)

    def rows(lo: int, hi: int) -> None:
        _update_rows(
            lo, hi, ws, bs, tws, tbs, moments.first, moments.second, obs, action, reward,
            next_obs, done, head, next_head, from_replay, replay, nb, n_act, double, h.gamma,
            h.huber_delta, h.grad_clip, h.step_size, h.beta1, h.beta2, h.eps, h.bc2_sqrt,
            lr_scale, loss, norm,
        )  # fmt: skip

    split.run(rows, n)
    return loss, norm


# the unused source of a call (typed as the used one would be, so one compiled version)
_F32_2D, _I64_1D = np.empty((0, 0), dtype=np.float32), np.empty(0, dtype=np.int64)
_NO_REPLAY = ReplaySource(
    np.empty((0, 0, 3), np.float32), _I64_1D, _I64_1D, _I64_1D, 0, _F32_2D, _F32_2D, True,
    np.empty((0, 0, 0), np.float32), _I64_1D, _F32_2D, False, _I64_1D, False,
)  # fmt: skip
_NO_BATCH = (
    np.empty((0, 0, 0), np.float32), np.empty((0, 0), np.int64), _F32_2D,
    np.empty((0, 0, 0), np.float32), np.empty((0, 0), np.bool_), np.empty((0, 0), np.int64),
    np.empty((0, 0), np.int64),
)  # fmt: skip


@njit(cache=True, nogil=True, error_model="numpy")
def _update_rows(
    lo: int, hi: int, ws: tuple, bs: tuple, tws: tuple, tbs: tuple, first: np.ndarray,
    second: np.ndarray, obs: np.ndarray, action: np.ndarray, reward: np.ndarray,
    next_obs: np.ndarray, done: np.ndarray, head: np.ndarray, next_head: np.ndarray,
    from_replay: bool, replay: ReplaySource, nb: int, n_act: int, double: bool, gamma: float,
    delta: float, clip: float, step_size: float, beta1: float, beta2: float, eps: float,
    bc2_sqrt: float, lr_scale: np.ndarray, loss_out: np.ndarray, norm_out: np.ndarray,
) -> None:  # fmt: skip
    """Agents ``lo`` … ``hi - 1``: DQN targets from ``tws``/``tbs``, the Huber loss of the
    taken actions' values (mean over the batch), its gradient, a per-agent clip to ``clip``
    and one Adam step with step size ``step_size * lr_scale[i]``.

    Each agent's batch of ``nb`` transitions is row i of ``obs`` … ``next_head``, or with
    ``from_replay`` read straight from its replay buffer (``replay``, see
    :class:`ReplaySource`), the observations into the layers' inputs ``x_t`` and ``xn_t``
    themselves: the same values, without the whole population's observations written out
    and read back."""
    depth = len(ws)
    d_in = ws[0].shape[1]
    width = d_in
    n_params = 0
    offsets = np.empty(2 * depth + 1, dtype=np.int64)
    for layer in range(depth):
        n_out = ws[layer].shape[2]
        width = max(width, n_out)
        offsets[2 * layer] = n_params
        n_params += ws[layer].shape[1] * n_out
        offsets[2 * layer + 1] = n_params
        n_params += n_out
    offsets[2 * depth] = n_params
    x_t = np.empty((d_in, nb), dtype=np.float32)  # the batch's observations, one row per input
    xn_t = np.empty((d_in, nb), dtype=np.float32)  # and the next ones
    acts = np.empty((depth, width, nb), dtype=np.float32)  # layer outputs, one row per unit
    spare = np.empty((depth, width, nb), dtype=np.float32)  # the target (or Double) pass
    grad_t = np.empty((width, nb), dtype=np.float32)  # d loss / d a hidden layer's units
    grad_prev = np.empty((width, nb), dtype=np.float32)
    grad_flat = np.empty(nb * width, dtype=np.float32)  # the same, one row per sample
    rows_flat = np.empty(nb * width, dtype=np.float32)  # a layer's units, one row per sample
    cols_flat = np.empty(width * width, dtype=np.float32)
    cols = np.empty(nb, dtype=np.int64)  # each sample's taken output column
    g_taken = np.empty(nb, dtype=np.float32)  # d loss / d its value
    y = np.empty(nb, dtype=np.float32)
    g = np.empty(n_params, dtype=np.float32)
    lanes = np.empty(_LANES, dtype=np.float32)
    half = np.float32(0.5)
    delta32, gamma32 = np.float32(delta), np.float32(gamma)
    inv_b = np.float32(1.0) / np.float32(nb)
    q_out = depth - 1
    # one agent's sample, when read from the replay buffer: the observations straight into
    # x_t and xn_t (written through their transposes, one sample a column), not copied twice
    r_obs, r_next = x_t.T, xn_t.T
    r_action, r_reward = np.empty(nb, dtype=np.int64), np.empty(nb, dtype=np.float32)
    r_done, r_t, r_next_t = np.empty(nb, np.bool_), np.empty(nb, np.int64), np.empty(nb, np.int64)
    r_head, r_next_head = np.zeros(nb, dtype=np.int64), np.zeros(nb, dtype=np.int64)
    slots = np.empty(nb, dtype=np.int64)
    records = np.empty((nb, replay.record.shape[2]), dtype=np.float32)
    for i in range(lo, hi):
        if from_replay:
            observed_agent(
                i, replay, r_obs, r_next, r_action, r_reward, r_done, r_t, r_next_t, slots,
                records,
            )  # fmt: skip
            if replay.has_heads:
                for b in range(nb):
                    r_head[b] = replay.head_of_t[r_t[b]]
                    r_next_head[b] = replay.head_of_t[r_next_t[b]]
            act_i, rew_i, done_i = r_action, r_reward, r_done
            head_i, next_head_i = r_head, r_next_head
        else:
            _transpose(next_obs[i], xn_t)
            _transpose(obs[i], x_t)
            act_i, rew_i, done_i = action[i], reward[i], done[i]
            head_i, next_head_i = head[i], next_head[i]
        # ---- TD targets: reward + gamma * max_a Q_target(next_obs)[a] (Double: at the
        # online network's argmax), zero past a done transition
        _forward(tws, tbs, i, xn_t, spare)
        if double:
            _forward(ws, bs, i, xn_t, acts)
        for b in range(nb):
            base = next_head_i[b] * n_act
            if double:
                pick = _argmax(acts[q_out], base, n_act, b)
            else:
                pick = _argmax(spare[q_out], base, n_act, b)
            not_done = _F0 if done_i[b] else np.float32(1.0)
            y[b] = rew_i[b] + gamma32 * spare[q_out, base + pick, b] * not_done
        # ---- Huber loss of the taken actions, d loss / d (each taken action's value)
        _forward(ws, bs, i, x_t, acts)
        total = _F0
        for b in range(nb):
            cols[b] = head_i[b] * n_act + act_i[b]
            d = acts[q_out, cols[b], b] - y[b]
            z = abs(d)
            if z < delta32:
                total += half * d * d
                g_taken[b] = d * inv_b
            else:
                total += delta32 * (z - half * delta32)
                g_taken[b] = (delta32 if d > 0 else -delta32) * inv_b
        loss_out[i] = total * inv_b
        # ---- backward. The output layer's gradient is non-zero in the taken columns only,
        # so it is gathered sample by sample (the same sums as the dense product: an added
        # zero changes no sum that starts from +0), along rows: units of one sample
        w_out = ws[q_out][i]
        n_in, n_out = w_out.shape
        h_rows = rows_flat[: nb * n_in].reshape((nb, n_in))
        _transpose(acts[q_out - 1, :n_in], h_rows)
        w_out_t = cols_flat[: n_out * n_in].reshape((n_out, n_in))  # w_out.T, then its grad
        _transpose(w_out, w_out_t)
        grad_rows = grad_flat[: nb * n_in].reshape((nb, n_in))
        for b in range(nb):
            wc, hb, gr = w_out_t[cols[b]], h_rows[b], grad_rows[b]
            gb = g_taken[b]
            for k in range(n_in):
                gr[k] = wc[k] * gb if hb[k] > _F0 else _F0
        b_grad = g[offsets[2 * q_out + 1] : offsets[2 * q_out + 2]]
        b_grad[:] = 0.0
        w_out_t[:] = 0.0
        for b in range(nb):
            c, gb, hb = cols[b], g_taken[b], h_rows[b]
            b_grad[c] += gb
            wc = w_out_t[c]
            for k in range(n_in):
                wc[k] += hb[k] * gb
        _transpose(w_out_t, g[offsets[2 * q_out] : offsets[2 * q_out + 1]].reshape((n_in, n_out)))
        # hidden layers: grad_rows[b, j] = d loss / d (sample b's unit j of this layer)
        for layer in range(q_out - 1, -1, -1):
            w = ws[layer][i]
            n_in, n_out = w.shape
            inp = x_t if layer == 0 else acts[layer - 1, :n_in]
            rows = grad_flat[: nb * n_out].reshape((nb, n_out))
            w_grad = g[offsets[2 * layer] : offsets[2 * layer + 1]].reshape((n_in, n_out))
            _weight_grad(inp, rows, w_grad)
            b_grad = g[offsets[2 * layer + 1] : offsets[2 * layer + 2]]
            b_grad[:] = 0.0
            for b in range(nb):
                for j in range(n_out):
                    b_grad[j] += rows[b, j]
            if layer > 0:  # two hidden layers: through w, batch-wide (sample along the rows)
                _transpose(rows, grad_t[:n_out])
                _input_grad(w, grad_t[:n_out], inp, grad_prev[:n_in])
                _transpose(grad_prev[:n_in], grad_flat[: nb * n_in].reshape((nb, n_in)))
        # ---- clip this agent's gradient to norm `clip`, then Adam
        lanes[:] = 0.0
        full = n_params - n_params % _LANES
        for e in range(0, full, _LANES):
            for k in range(_LANES):
                lanes[k] += g[e + k] * g[e + k]
        for k in range(n_params - full):
            lanes[k] += g[full + k] * g[full + k]
        sq = _F0
        for k in range(_LANES):
            sq += lanes[k]
        norm = np.sqrt(sq)
        norm_out[i] = norm
        scale = min(np.float32(clip) / (norm + np.float32(1e-6)), np.float32(1.0))
        rate = np.float32(step_size) * lr_scale[i]
        for layer in range(depth):
            lo_w, lo_b, hi_b = offsets[2 * layer], offsets[2 * layer + 1], offsets[2 * layer + 2]
            _adam(ws[layer][i].reshape(-1), g, first[i], second[i], lo_w, lo_b, scale, rate,
                  beta1, beta2, eps, bc2_sqrt)  # fmt: skip
            _adam(bs[layer][i, 0], g, first[i], second[i], lo_b, hi_b, scale, rate,
                  beta1, beta2, eps, bc2_sqrt)  # fmt: skip


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _transpose(rows: np.ndarray, out: np.ndarray) -> None:
    """``out[k, b] = rows[b, k]``: samples along the rows, so loops over the batch vectorize."""
    for b in range(rows.shape[0]):
        for k in range(rows.shape[1]):
            out[k, b] = rows[b, k]


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _argmax(q: np.ndarray, base: int, n_act: int, b: int) -> int:
    """The first maximum of ``q[base : base + n_act, b]`` (a NaN wins, as in torch)."""
    best = 0
    top = q[base, b]
    for a in range(1, n_act):
        if top != top:
            break
        v = q[base + a, b]
        if v > top or v != v:
            best, top = a, v
    return best


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _forward(ws: tuple, bs: tuple, i: int, x_t: np.ndarray, acts: np.ndarray) -> None:
    """Every layer of agent ``i`` on the batch ``x_t`` ``[in, B]``: ``acts[layer, :out]``."""
    depth = len(ws)
    for layer in range(depth):
        w = ws[layer][i]
        inp = x_t if layer == 0 else acts[layer - 1, : w.shape[0]]
        _dense(w, bs[layer][i, 0], inp, acts[layer, : w.shape[1]], layer < depth - 1)


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _dense(w: np.ndarray, bias: np.ndarray, x_t: np.ndarray, out_t: np.ndarray, relu: bool) -> None:
    """``out_t[j] = sum_k w[k, j] * x_t[k] + bias[j]`` for the whole batch at once (the bias
    added last); a ReLU lets a NaN through."""
    _weighted_sum(w, x_t, out_t)
    for j in range(w.shape[1]):
        bj = bias[j]
        o = out_t[j]
        for b in range(o.shape[0]):
            v = o[b] + bj
            o[b] = _F0 if relu and v <= _F0 else v  # NaN is not <= 0: it passes


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _weighted_sum(coef: np.ndarray, terms: np.ndarray, out: np.ndarray) -> None:
    """``out[r] = sum_t coef[t, r] * terms[t]``, each sum in order over ``t`` from zero.

    Rows are one batch (~32 samples) long, so each pass over an output row adds four terms,
    one after the other (the same order as one at a time): the pass's fixed cost is shared
    and the row is loaded and stored a quarter as often.
    """
    n_terms, n_out = coef.shape
    full = n_terms - n_terms % 4
    if full == 0:
        out[:] = 0.0
    for t in range(0, full, 4):
        x0, x1, x2, x3 = terms[t], terms[t + 1], terms[t + 2], terms[t + 3]
        for r in range(n_out):
            c0, c1, c2, c3 = coef[t, r], coef[t + 1, r], coef[t + 2, r], coef[t + 3, r]
            o = out[r]
            if t == 0:
                for b in range(o.shape[0]):
                    o[b] = (((_F0 + c0 * x0[b]) + c1 * x1[b]) + c2 * x2[b]) + c3 * x3[b]
            else:
                for b in range(o.shape[0]):
                    o[b] = (((o[b] + c0 * x0[b]) + c1 * x1[b]) + c2 * x2[b]) + c3 * x3[b]
    for t in range(full, n_terms):
        xt = terms[t]
        for r in range(n_out):
            c = coef[t, r]
            o = out[r]
            for b in range(o.shape[0]):
                o[b] += c * xt[b]


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _weight_grad(inp_t: np.ndarray, grad_rows: np.ndarray, w_grad: np.ndarray) -> None:
    """``w_grad[k, j] = sum_b inp_t[k, b] * grad_rows[b, j]``, the samples in order from
    zero (four at a time, one after the other)."""
    n_in, nb = inp_t.shape
    w_grad[:] = 0.0
    for k in range(n_in):
        row = w_grad[k]
        xk = inp_t[k]
        b = 0
        while b + 4 <= nb:
            a0, a1, a2, a3 = xk[b], xk[b + 1], xk[b + 2], xk[b + 3]
            g0, g1, g2, g3 = grad_rows[b], grad_rows[b + 1], grad_rows[b + 2], grad_rows[b + 3]
            for j in range(row.shape[0]):
                row[j] = (((row[j] + a0 * g0[j]) + a1 * g1[j]) + a2 * g2[j]) + a3 * g3[j]
            b += 4
        for rest in range(b, nb):
            a = xk[rest]
            gb = grad_rows[rest]
            for j in range(row.shape[0]):
                row[j] += a * gb[j]


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _input_grad(w: np.ndarray, grad_t: np.ndarray, inp_t: np.ndarray, out_t: np.ndarray) -> None:
    """``out_t[k] = sum_j w[k, j] * grad_t[j]``, zero where the ReLU's input ``inp_t[k]``
    was not positive (torch's ReLU backward)."""
    _weighted_sum(w.T, grad_t, out_t)
    for k in range(w.shape[0]):
        o = out_t[k]
        xk = inp_t[k]
        for b in range(o.shape[0]):
            o[b] = o[b] if xk[b] > _F0 else _F0  # a select, not a branch: signs are random


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _adam(
    p: np.ndarray, g: np.ndarray, first: np.ndarray, second: np.ndarray, lo: int, hi: int,
    scale: np.float32, rate: np.float32, beta1: float, beta2: float, eps: float,
    bc2_sqrt: float,
) -> None:  # fmt: skip
    """Adam on ``p`` with the clipped gradient ``g[lo:hi] * scale`` (torch's formula:
    ``p -= rate * m / (sqrt(v) / sqrt(1 - beta2 ** t) + eps)``)."""
    b1, c1 = np.float32(beta1), np.float32(1.0 - beta1)
    b2, c2 = np.float32(beta2), np.float32(1.0 - beta2)
    e32, bc = np.float32(eps), np.float32(bc2_sqrt)
    grad, m1, m2 = g[lo:hi], first[lo:hi], second[lo:hi]  # slices: the loop vectorizes
    for n in range(hi - lo):
        gn = grad[n] * scale
        m = b1 * m1[n] + c1 * gn
        v = b2 * m2[n] + c2 * gn * gn
        m1[n] = m
        m2[n] = v
        p[n] -= rate * m / (np.sqrt(v) / bc + e32)
