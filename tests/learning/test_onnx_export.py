from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from torch_helpers import gen

from scarline.learning.onnx_export import export_agent
from scarline.learning.qnet import QPopulation


def session(path: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("hidden", [[32], [16, 8]])
def test_onnxruntime_agrees_with_torch_on_q_values_and_actions(
    tmp_path: Path, hidden: list[int]
) -> None:
    pop = QPopulation(6, 16, hidden, 3, gen())
    path = export_agent(pop, 4, tmp_path / "agent4.onnx")
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    assert [i.name for i in model.graph.input] == ["obs"]
    assert [o.name for o in model.graph.output] == ["q"]
    assert {n.op_type for n in model.graph.node} == {"MatMul", "Add", "Relu"}

    obs = torch.randn(6, 500, 16, generator=gen(1)) * 3
    expected = pop.forward(obs)[4].detach().numpy()
    (q,) = session(path).run(None, {"obs": obs[4].numpy()})
    assert q.shape == (500, 3) and q.dtype == np.float32
    np.testing.assert_allclose(q, expected, atol=1e-5, rtol=0)
    assert np.array_equal(q.argmax(1), expected.argmax(1))
    (one,) = session(path).run(None, {"obs": obs[4, :1].numpy()})  # batch is dynamic
    assert one.shape == (1, 3)


def test_export_is_byte_deterministic_and_carries_metadata(tmp_path: Path) -> None:
    pop = QPopulation(3, 8, [8], 3, gen())
    meta = {"run_id": "r1", "actions": "[-1.0, 0.0, 1.0]"}
    a = export_agent(pop, 1, tmp_path / "a.onnx", meta).read_bytes()
    b = export_agent(pop, 1, tmp_path / "b.onnx", dict(reversed(meta.items()))).read_bytes()
    again = QPopulation(3, 8, [8], 3, gen())  # same weights, rebuilt
    c = export_agent(again, 1, tmp_path / "c.onnx", meta).read_bytes()
    assert a == b == c
    assert export_agent(pop, 2, tmp_path / "d.onnx", meta).read_bytes() != a
    props = {p.key: p.value for p in onnx.load(tmp_path / "a.onnx").metadata_props}
    assert props == meta


def test_export_rejects_an_unknown_agent(tmp_path: Path) -> None:
    pop = QPopulation(2, 4, [4], 3, gen())
    with pytest.raises(ValueError, match="out of range"):
        export_agent(pop, 2, tmp_path / "x.onnx")
