"""Export one agent's Q-network as a small ONNX graph for deployed (onnxruntime) inference.

The graph is written directly with ``onnx.helper`` (MatMul → Add → Relu per layer, weights
as initializers) rather than traced with ``torch.onnx.export``: no exporter dependencies,
and the same weights always give the same bytes (deterministic protobuf serialization, no
timestamps or exporter versions inside), so an exported file can be hashed into the ledger.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

from scarline.learning.qnet import QPopulation

OPSET = 17  # MatMul/Add/Relu have been stable for many opsets; 17 is widely supported
IR_VERSION = 8  # the IR that goes with opset 17; older runtimes load it too


def agent_model(
    pop: QPopulation,
    agent: int,
    metadata: dict[str, str] | None = None,
    obs_mask: np.ndarray | None = None,
) -> onnx.ModelProto:
    """Agent ``agent``'s MLP: input ``obs`` float32[batch, obs_dim] → ``q`` float32[batch, A].

    ``obs_mask`` (an evolved agent's, 0 for a dropped feature) is folded into the first
    layer's rows, so the graph takes the raw observation the agent was shown and gives the
    values it acted on (``(obs * mask) @ W0 == obs @ (mask[:, None] * W0)``)."""
    if not 0 <= agent < pop.n_agents:
        raise ValueError(f"agent {agent} out of range [0, {pop.n_agents})")
    state = pop.agent_state(agent)
    if obs_mask is not None:
        state["w0"] = state["w0"] * torch.from_numpy(np.asarray(obs_mask, np.float32))[:, None]
    last = len(pop.weights) - 1
    nodes, initializers = [], []
    h = "obs"
    for k in range(last + 1):
        initializers.append(numpy_helper.from_array(state[f"w{k}"].numpy(), f"w{k}"))
        initializers.append(numpy_helper.from_array(state[f"b{k}"].numpy(), f"b{k}"))
        nodes.append(helper.make_node("MatMul", [h, f"w{k}"], [f"mm{k}"], name=f"matmul{k}"))
        out = "q" if k == last else f"z{k}"
        nodes.append(helper.make_node("Add", [f"mm{k}", f"b{k}"], [out], name=f"add{k}"))
        if k < last:
            nodes.append(helper.make_node("Relu", [out], [f"h{k}"], name=f"relu{k}"))
            h = f"h{k}"
    graph = helper.make_graph(
        nodes,
        "scarline_qnet",
        [helper.make_tensor_value_info("obs", TensorProto.FLOAT, ["batch", pop.obs_dim])],
        [helper.make_tensor_value_info("q", TensorProto.FLOAT, ["batch", pop.n_actions])],
        initializer=initializers,
    )
    model = helper.make_model(
        graph,
        producer_name="scarline",
        opset_imports=[helper.make_opsetid("", OPSET)],
        ir_version=IR_VERSION,
    )
    if metadata:
        helper.set_model_props(model, dict(sorted(metadata.items())))
    onnx.checker.check_model(model, full_check=True)
    return model


def export_agent(
    pop: QPopulation,
    agent: int,
    path: Path,
    metadata: dict[str, str] | None = None,
    obs_mask: np.ndarray | None = None,
) -> Path:
    """Write agent ``agent``'s network to ``path`` (e.g. ``metadata={"actions": "[-1,0,1]"}``)."""
    model = agent_model(pop, agent, metadata, obs_mask)
    path = Path(path)
    path.write_bytes(model.SerializeToString(deterministic=True))
    return path
