"""A reader that stops reading (``scarline … --help | head``) ends the command quietly: exit 1
and nothing on stderr, no ``internal error`` line and no traceback file."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = "import sys; from scarline.cli import main; sys.argv = ['scarline', *sys.argv[1:]]; main()"
ARGS = ["gates", "--help"]


def _start() -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT, *ARGS], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def test_a_reader_that_goes_away_ends_the_command_quietly() -> None:
    whole = _start()
    size = len(whole.communicate()[0])
    assert whole.returncode == 0 and size > 2000
    proc = _start()
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(size - 500)  # most of it, as `head` takes its lines, then it stops
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 1
    assert err == ""
