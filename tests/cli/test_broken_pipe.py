"""A reader that stops reading (``scarline … --help | head``) ends the command quietly: exit 1
and nothing on stderr, no ``internal error`` line and no traceback file."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys

SCRIPT = "import sys; from scarline.cli import main; sys.argv = ['scarline', *sys.argv[1:]]; main()"
ARGS = ["--help"]
PIPE_BYTES = 4096  # the least a pipe holds (a page): the help text cannot all fit in it
READ = 16
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)  # Linux's fcntl, named from Python 3.10


def test_a_reader_that_goes_away_ends_the_command_quietly() -> None:
    whole = subprocess.run([sys.executable, "-c", SCRIPT, *ARGS], capture_output=True)
    assert whole.returncode == 0
    assert len(whole.stdout) > PIPE_BYTES + READ + 512, "the help must outgrow the pipe"
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, F_SETPIPE_SZ, PIPE_BYTES)
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, *ARGS], stdout=write_end, stderr=subprocess.PIPE
    )
    os.close(write_end)
    try:
        assert os.read(read_end, READ)  # the first bytes, as `head` takes its lines, then it
    finally:  # stops: the rest of the text no longer fits in the pipe, so the command is
        os.close(read_end)  # still writing when its reader goes away, whatever the timing
    assert proc.stderr is not None
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 1
    assert err == ""
