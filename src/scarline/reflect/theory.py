"""Theory packets: when an agent's returns drift, a JSON document of what drifted, when, the
evidence (WAL seq ranges) and what was done about it.

One packet per alarm (agent × detector), written as ``<fired_step:06d>-agent-<id:04d>-
<detector>.json`` with deterministic bytes: msgspec encodes the fields in their declared
order, floats in their shortest round-trip form, and every file ends with one newline.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import msgspec
import numpy as np

from scarline.reflect.sentry import DETECTORS, Alarms


class Evidence(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """WAL records ``from_seq .. to_seq`` (inclusive) hold what the packet is about."""

    from_seq: int
    to_seq: int
    what: str


class Window(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Mean per-step return up to the change and after it (see ``Alarms``)."""

    mean_before: float
    mean_after: float


class TheoryPacket(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    tag="drift",
    tag_field="kind",
    omit_defaults=True,
    forbid_unknown_fields=True,
):
    """``{"kind": "drift", "agent", "detector", "fired_step", "change_step", "direction",
    "statistic", "threshold", "window"?, "evidence", "actions"}``.

    ``change_step`` is the last step before the change; ``statistic``/``threshold`` are in
    units of the agent's warm-up return standard deviation; ``direction`` is ``"down"``
    (the mean return fell) or ``"up"``."""

    agent: int
    detector: Literal["page-hinkley", "cusum"]
    fired_step: int
    change_step: int
    direction: Literal["up", "down"]
    statistic: float
    threshold: float
    window: Window | None = None
    evidence: tuple[Evidence, ...]
    actions: tuple[str, ...]

    @property
    def filename(self) -> str:
        return f"{self.fired_step:06d}-agent-{self.agent:04d}-{self.detector}.json"


def packet_bytes(packet: TheoryPacket) -> bytes:
    """The canonical bytes of a packet file."""
    return msgspec.json.encode(packet) + b"\n"


def read_packet(path: Path) -> TheoryPacket:
    try:
        return msgspec.json.decode(path.read_bytes(), type=TheoryPacket)
    except msgspec.ValidationError as e:
        raise ValueError(f"{path}: not a theory packet: {e}") from e


def write_packets(directory: Path, packets: Sequence[TheoryPacket]) -> list[Path]:
    """Write one file per packet into ``directory`` (created if missing); their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for packet in packets:
        path = directory / packet.filename
        path.write_bytes(packet_bytes(packet))
        paths.append(path)
    return paths


class StepSeqs:
    """Which WAL records each step wrote: the kernel calls ``record(step, first, last)``
    once per step, steps increasing; ``range`` turns a span of steps into a span of seqs."""

    def __init__(self) -> None:
        self._steps: list[int] = []
        self._first: list[int] = []
        self._last: list[int] = []

    def __len__(self) -> int:
        return len(self._steps)

    def record(self, step: int, first_seq: int, last_seq: int) -> None:
        if first_seq > last_seq:
            raise ValueError(f"step {step}: first_seq {first_seq} > last_seq {last_seq}")
        if self._steps and step <= self._steps[-1]:
            raise ValueError(f"steps must increase: {step} after {self._steps[-1]}")
        if self._last and first_seq <= self._last[-1]:
            raise ValueError(f"step {step}: seq {first_seq} is not after {self._last[-1]}")
        self._steps.append(step)
        self._first.append(first_seq)
        self._last.append(last_seq)

    def range(self, from_step: int, to_step: int) -> tuple[int, int]:
        """``(first_seq, last_seq)`` of the recorded steps in ``from_step .. to_step``."""
        lo = bisect_left(self._steps, from_step)
        hi = bisect_right(self._steps, to_step) - 1
        if from_step > to_step or lo > hi:
            raise ValueError(f"no recorded step in {from_step} .. {to_step}")
        return self._first[lo], self._last[hi]


def packets_from_alarms(
    alarms: Alarms, agent_ids: np.ndarray, seqs: StepSeqs, actions: Sequence[str]
) -> list[TheoryPacket]:
    """One packet per alarm; ``agent_ids[row]`` names the agent in a slot, ``actions`` are
    what the alarm did (``DriftConfig.actions``). Call after ``seqs`` holds ``alarms.step``."""
    packets = []
    acts = tuple(actions)
    for i in range(len(alarms)):
        agent = int(agent_ids[alarms.row[i]])
        fired, change = alarms.step, int(alarms.change_step[i])
        first, last = seqs.range(change, fired)
        what = f"returns of agent {agent} from step {change} to {fired}"
        packets.append(
            TheoryPacket(
                agent=agent,
                detector=DETECTORS[int(alarms.detector[i])],  # type: ignore[arg-type]
                fired_step=fired,
                change_step=change,
                direction="up" if alarms.side[i] > 0 else "down",
                statistic=float(alarms.statistic[i]),
                threshold=float(alarms.threshold[i]),
                window=Window(float(alarms.mean_before[i]), float(alarms.mean_after[i])),
                evidence=(Evidence(first, last, what),),
                actions=acts,
            )
        )
    return packets
