import numpy as np

from scarline.execution.volatility import causal_volatility


def test_matches_a_plain_ewma_loop_and_is_causal() -> None:
    close = 100 * np.exp(np.cumsum(np.random.default_rng(3).normal(0, 0.01, size=(300, 2)), axis=0))
    got = causal_volatility(close, span=10)
    alpha, var = 2 / 11, np.zeros(2)
    r = np.log(close[1:] / close[:-1])
    for k in range(len(close) - 2):
        var = (1 - alpha) * var + alpha * r[k] ** 2
        np.testing.assert_allclose(got[k + 2], np.sqrt(var), rtol=1e-12)
    cut = causal_volatility(close[:150], span=10)
    np.testing.assert_array_equal(got[:150], cut)
    assert np.all(got[:2] == 0)
