"""``python -m scarline``: the ``scarline`` command, for environments without its script."""

from scarline.cli import main

if __name__ == "__main__":  # importing the module (pkgutil walks, tests) runs nothing
    main()
