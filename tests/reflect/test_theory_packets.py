"""Theory packets: built from alarms, evidence as WAL seq ranges, canonical bytes on disk."""

from __future__ import annotations

from pathlib import Path

import msgspec
import numpy as np
import pytest

from scarline.reflect import (
    DriftConfig,
    DriftSentry,
    Evidence,
    StepSeqs,
    TheoryPacket,
    Window,
    packet_bytes,
    packets_from_alarms,
    read_packet,
    write_packets,
)

RECORDS_PER_STEP = 3  # the fake kernel writes seqs 3t, 3t + 1, 3t + 2 at step t


def _packets_of_a_decay() -> list[TheoryPacket]:
    rng = np.random.default_rng(0)
    n = 4
    returns = np.concatenate([rng.normal(0.005, 0.01, (300, n)), rng.normal(-0.01, 0.01, (60, n))])
    cfg = DriftConfig(enabled=True)
    sentry = DriftSentry(n, cfg)
    seqs = StepSeqs()
    agent_ids = np.array([40, 41, 42, 1043])
    packets = []
    for t in range(len(returns)):
        alarms = sentry.update(t, returns[t], np.ones(n, dtype=bool))
        seqs.record(t, RECORDS_PER_STEP * t, RECORDS_PER_STEP * t + 2)
        packets += packets_from_alarms(alarms, agent_ids, seqs, cfg.actions)
    return packets


def test_packets_say_what_drifted_when_and_where_the_evidence_is() -> None:
    packets = _packets_of_a_decay()
    assert packets
    assert {p.agent for p in packets} <= {40, 41, 42, 1043}
    for p in packets:
        assert p.detector in ("page-hinkley", "cusum")
        assert p.change_step < p.fired_step and p.statistic > p.threshold
        (ev,) = p.evidence
        assert ev.from_seq == RECORDS_PER_STEP * p.change_step
        assert ev.to_seq == RECORDS_PER_STEP * p.fired_step + 2
        assert ev.what == f"returns of agent {p.agent} from step {p.change_step} to {p.fired_step}"
        assert p.actions == ("freeze_exploration", "halve_size")
        assert p.window is not None
        if p.fired_step > 300:
            assert p.direction == "down" and p.window.mean_after < p.window.mean_before


def test_files_round_trip_with_deterministic_bytes(tmp_path: Path) -> None:
    packets = _packets_of_a_decay()
    paths = write_packets(tmp_path / "a" / "theory", packets)
    again = write_packets(tmp_path / "b", _packets_of_a_decay())
    assert [p.name for p in paths] == [p.name for p in again]
    for path, other, packet in zip(paths, again, packets, strict=True):
        data = path.read_bytes()
        assert data == other.read_bytes() == packet_bytes(packet)
        assert data.endswith(b"}\n") and data.count(b"\n") == 1
        back = read_packet(path)
        assert back == packet and packet_bytes(back) == data
        name = f"{packet.fired_step:06d}-agent-{packet.agent:04d}-{packet.detector}.json"
        assert path.name == name


def test_canonical_field_order_and_omitted_window() -> None:
    p = TheoryPacket(
        agent=42,
        detector="cusum",
        fired_step=123,
        change_step=100,
        direction="down",
        statistic=10.5,
        threshold=10.0,
        evidence=(Evidence(300, 371, "returns of agent 42 from step 100 to 123"),),
        actions=("halve_size",),
    )
    assert packet_bytes(p) == (
        b'{"kind":"drift","agent":42,"detector":"cusum","fired_step":123,"change_step":100,'
        b'"direction":"down","statistic":10.5,"threshold":10.0,'
        b'"evidence":[{"from_seq":300,"to_seq":371,'
        b'"what":"returns of agent 42 from step 100 to 123"}],"actions":["halve_size"]}\n'
    )
    with_window = msgspec.structs.replace(p, window=Window(0.001, -0.002))
    assert b'"threshold":10.0,"window":{"mean_before":0.001,"mean_after":-0.002},"evidence"' in (
        packet_bytes(with_window)
    )
    assert p.filename == "000123-agent-0042-cusum.json"


def test_a_bad_packet_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "000001-agent-0001-cusum.json"
    path.write_bytes(b'{"kind":"drift","agent":"x"}')
    with pytest.raises(ValueError, match=r"000001-agent-0001-cusum\.json"):
        read_packet(path)


def test_step_seqs_ranges() -> None:
    seqs = StepSeqs()
    for step, first, last in [(0, 0, 4), (1, 5, 5), (5, 6, 9), (6, 10, 12)]:
        seqs.record(step, first, last)
    assert len(seqs) == 4
    assert seqs.range(0, 6) == (0, 12)
    assert seqs.range(1, 1) == (5, 5)
    assert seqs.range(2, 5) == (6, 9)  # steps 2 … 4 wrote nothing
    assert seqs.range(-10, 0) == (0, 4)
    with pytest.raises(ValueError, match="no recorded step"):
        seqs.range(2, 4)
    with pytest.raises(ValueError, match="no recorded step"):
        seqs.range(6, 5)
    with pytest.raises(ValueError, match="steps must increase"):
        seqs.record(6, 13, 14)
    with pytest.raises(ValueError, match="not after"):
        seqs.record(7, 12, 14)
    with pytest.raises(ValueError, match="first_seq"):
        seqs.record(7, 15, 14)
