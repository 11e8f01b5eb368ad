"""A kernel run in segments (begin, run_steps…, end) is the same run as ``run()``."""

from scarline.assembly import kernel_for
from scarline.config import RunConfig
from scarline.journal import HashOnlyWal
from scarline.market.stream import normalized
from scarline.market.synthetic import SynthSpec, generate
from scarline.operator import ReplayOperator
from scarline.session import SessionIds


def _kernel():  # type: ignore[no-untyped-def]
    market = normalized(generate(SynthSpec(n_steps=300, n_instruments=3, seed=5)))
    cfg = RunConfig(seed=5, agents=[{"kind": "random-entry", "count": 8}, {"kind": "momentum"}])
    return kernel_for(cfg, market, SessionIds("seg", "s"), HashOnlyWal("seg"), ReplayOperator([]))


def test_segments_give_the_same_run_as_run() -> None:
    whole = _kernel().run()
    kernel, seen = _kernel(), []
    kernel.begin()
    for start, stop in [(0, 1), (1, 128), (128, 128), (128, 300)]:
        kernel.run_steps(start, stop, seen.append)
    assert kernel.end() == whole
    assert seen == list(range(300))
