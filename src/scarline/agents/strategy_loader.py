"""Find a user's strategy class (``module:Class``, optionally from a file) and the source file
replay must find unchanged.

A strategy is code outside scarline, so a run records the sha256 of the file that defines
it and of the user's own modules that file imports, directly or through each other (the
manifest's ``strategy_sources``; not the standard library's, installed packages' or
scarline's); replay re-imports it and refuses, naming the file, when one of them changed.
Classes defined in ``__main__`` (a notebook cell, ``python -c``) have no file to re-import,
so they are refused with the fix: move the class into a module.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import site
import sys
import sysconfig
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType

from scarline.agents.config import PythonGroup
from scarline.agents.strategy import Strategy
from scarline.errors import ConfigError

USER_MODULE = "__scarline_module__"
"""Set on a module imported from a file: the module name the config gave."""


def _from_file(path: Path, module: str) -> object:
    """Import ``path`` once per content (a module name unique to its bytes). A module of a
    package (``module`` is ``pkg.strats`` and ``path`` is ``…/pkg/strats.py``) is imported
    inside that package, so its relative imports (``from .helpers import x``) work."""
    data = path.read_bytes()
    leaf = f"scarline_user_{module.replace('.', '_')}_{hashlib.sha256(data).hexdigest()[:12]}"
    package = _package_of(path, module)
    if package and not _import_package(package, path.parents[package.count(".") + 1]):
        package = None  # as before packages were known: a module of its own
    name = f"{package}.{leaf}" if package else leaf
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"{path}: cannot be imported as a Python module")
    loaded = importlib.util.module_from_spec(spec)
    vars(loaded)[USER_MODULE] = module  # the name a config gives it again (spec_of)
    sys.modules[name] = loaded  # before exec: dataclasses and pickling look it up
    try:
        spec.loader.exec_module(loaded)
    except Exception as err:
        del sys.modules[name]
        raise ConfigError(f"{path}: importing it failed: {type(err).__name__}: {err}") from err
    return loaded


def _package_of(path: Path, module: str) -> str | None:
    """``pkg.sub`` when ``module`` (``pkg.sub.strats``) names ``path`` (``…/pkg/sub/strats.py``)
    inside package directories (each with an ``__init__.py``), else None."""
    *packages, leaf = module.split(".")
    if not packages or path.stem != leaf:
        return None
    folder = path.parent
    for name in reversed(packages):
        if folder.name != name or not (folder / "__init__.py").is_file():
            return None
        folder = folder.parent
    return ".".join(packages)


def _import_package(package: str, root: Path) -> bool:
    """Whether ``package`` imports (from ``root``, the folder holding its top package, when
    it is not importable already), so a module imported into it can import its siblings."""
    if package in sys.modules:
        return True
    sys.path.insert(0, str(root))
    try:
        importlib.import_module(package)
    except Exception:  # its __init__ fails: the module alone may still import
        return False
    finally:
        sys.path.remove(str(root))
    return True


def load_strategy_class(spec: str, path: str | None = None) -> type[Strategy]:
    """The class ``spec`` (``module:Class``) names, imported from ``path`` when given."""
    module_name, sep, class_name = spec.partition(":")
    if not sep or not module_name or not class_name:
        raise ConfigError(f"strategy {spec!r}: expected 'module:Class'")
    if path is not None:
        file = Path(path)
        if not file.is_file():
            raise ConfigError(f"strategy {spec!r}: no file {file}")
        module = _from_file(file.resolve(), module_name)
    else:
        try:
            module = importlib.import_module(module_name)
        except ImportError as err:
            raise ConfigError(
                f"strategy {spec!r}: cannot import {module_name!r} ({err}); give its file "
                "with path = '...', or put it on PYTHONPATH"
            ) from err
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type) or not issubclass(cls, Strategy):
        raise ConfigError(f"strategy {spec!r}: {class_name!r} is not a scarline.Strategy subclass")
    return cls


def source_file(cls: type) -> Path:
    """The file defining ``cls``; a class without one (``__main__``) is refused."""
    if cls.__module__ == "__main__":
        raise ConfigError(
            f"strategy {cls.__name__}: defined in __main__ (a notebook or script), so replay "
            "could not re-import it; move the class into a .py module and import it from there"
        )
    if "." in cls.__qualname__:  # nested in a class, or made inside a function
        raise ConfigError(
            f"strategy {cls.__qualname__}: not defined at the top level of its module, so "
            "replay could not re-import it by name; define the class at the module's top level"
        )
    try:
        found = inspect.getsourcefile(cls)
    except TypeError:
        found = None
    if found is None or not Path(found).is_file():
        raise ConfigError(f"strategy {cls.__name__}: its source file cannot be found")
    return Path(found).resolve()


def spec_of(cls: type) -> str:
    """``module:Class`` of a class (what a config records): a class imported from its file
    (:func:`load_strategy_class`) is named by the module its config gave, not by the
    content-named module it was imported as."""
    module = getattr(sys.modules.get(cls.__module__), USER_MODULE, cls.__module__)
    return f"{module}:{cls.__qualname__}"


def strategy_sources(groups: Sequence[object]) -> dict[str, str]:
    """``{file: sha256}`` of the files defining the python groups' strategies and of the user
    modules they import."""
    out: dict[str, str] = {}
    for group in groups:
        if not isinstance(group, PythonGroup):
            continue
        cls = load_strategy_class(group.strategy, group.path)
        file = Path(group.path).resolve() if group.path else source_file(cls)
        files = [file, *user_imports(sys.modules[cls.__module__])]
        out |= {str(f): hashlib.sha256(f.read_bytes()).hexdigest() for f in files}
    return dict(sorted(out.items()))


MAX_USER_MODULES = 500
"""User modules followed from one strategy's: a bound on the walk, far past a research tree."""


def user_imports(module: ModuleType) -> list[Path]:
    """The source files of the user modules ``module`` reaches through its globals (modules
    it imports, and the modules of the functions and classes it imports), transitively;
    modules of the standard library, of installed packages and of scarline are not the
    user's and are not followed."""
    libraries = _library_roots()
    own = getattr(module, "__file__", None)
    seen: set[str] = {str(Path(own).resolve())} if own else set()
    found: list[Path] = []
    todo = [module]
    while todo and len(found) < MAX_USER_MODULES:
        for dep in _imported(todo.pop()):
            file = getattr(dep, "__file__", None)
            if not isinstance(file, str) or not file.endswith(".py"):
                continue
            path = Path(file).resolve()
            if str(path) in seen or not path.is_file() or _within(path, libraries):
                continue
            seen.add(str(path))
            found.append(path)
            todo.append(dep)
    return found


def _imported(module: ModuleType) -> Iterator[ModuleType]:
    """The modules ``module``'s globals are, or were defined in."""
    for value in list(vars(module).values()):
        if isinstance(value, ModuleType):
            yield value
            continue
        try:
            name = value.__module__ if isinstance(value, type) or callable(value) else None
        except Exception:  # an object whose attribute lookup itself fails: not a user import
            continue
        dep = sys.modules.get(name) if isinstance(name, str) else None
        if dep is not None:
            yield dep


def _library_roots() -> tuple[Path, ...]:
    """Where code that is not the user's lives: the standard library, installed packages,
    scarline itself."""
    paths = sysconfig.get_paths()
    roots = [paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths]
    roots += [*site.getsitepackages(), site.getusersitepackages()]
    roots.append(str(Path(__file__).resolve().parents[1]))  # scarline's package
    return tuple(Path(root).resolve() for root in roots)


def _within(path: Path, roots: tuple[Path, ...]) -> bool:
    return any(path.is_relative_to(root) for root in roots)


def changed_sources(recorded: dict[str, str]) -> str | None:
    """Why the recorded strategy files no longer match (naming the first), or None."""
    for file, digest in sorted(recorded.items()):
        path = Path(file)
        if not path.is_file():
            return f"the strategy's source file {file} is gone"
        now = hashlib.sha256(path.read_bytes()).hexdigest()
        if now != digest:
            return (
                f"the strategy's source file {file} changed since the run (sha256 "
                f"{digest[:12]}… then, {now[:12]}… now)"
            )
    return None


def unrecorded_strategy(groups: Sequence[object], recorded: dict[str, str]) -> str | None:
    """Why building ``groups`` to replay a run would import Python code the run did not
    record (naming the group), or None. Checked before anything is imported: ``config.toml``
    is not signed, and a python group added to it, or pointed at another file, would run
    that file's code in the process replaying (``scarline replay``, ``promote``, ``gates``),
    whose key store signs. A group's file must be one of ``recorded`` (the manifest's
    ``strategy_sources``, whose bytes :func:`changed_sources` checks); a group naming a
    module without a file is imported from ``sys.path`` and is refused when the run
    recorded no strategy at all."""
    for i, group in enumerate(groups):
        if not isinstance(group, PythonGroup):
            continue
        where = f"agents[{i}] ({group.strategy})"
        if group.path is None:
            if not recorded:
                return f"{where} names a strategy module, but the run recorded no strategy"
        elif str(Path(group.path).resolve()) not in recorded:
            return f"{where} imports {group.path}, a file the run did not record"
    return None
