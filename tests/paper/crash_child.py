"""A paper session in its own process, on a clock shared with the test's fake venue, for the
crash drill (test_paper_crash.py kills it with SIGKILL).

    python crash_child.py '{"t0": …, "r0": …, "speed": …, "config": {…}, "out": …,
                            "run_id": …, "max_steps": …, "resume": false}'
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from feed_venue import ScaledClock
from paper_helpers import fast_feeds

from scarline.config import RunConfig
from scarline.paper.resume import resume_session
from scarline.paper.session import PaperOptions, PaperSession


def main(spec: dict) -> None:
    clock = ScaledClock(spec["t0"], spec["r0"], spec["speed"])
    options = PaperOptions(
        out_dir=Path(spec["out"]),
        run_id=spec["run_id"],
        max_steps=spec["max_steps"],
        feed_factory=fast_feeds(clock),
        sleep=lambda s: time.sleep(s / spec["speed"]),
    )
    if spec["resume"]:
        session = resume_session(Path(spec["out"]) / spec["run_id"], options)
    else:
        session = PaperSession(RunConfig.model_validate(spec["config"]), options)
    session.run_session()


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
