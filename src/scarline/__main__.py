"""``python -m scarline``: the ``scarline`` command, for environments without its script."""

from scarline.cli import main

main()
