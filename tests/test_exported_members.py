"""The package root exports exactly its public names, and every private module says what it has.

After encode/httpx ``tests/test_exported_members.py``: h11's ``__all__`` drifted for want of one.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import chunkagg

# Dunder names the package exports on purpose.
EXPORTED_DUNDERS = {"__version__"}


def _sort_key(name: str) -> tuple[int, str]:
    # ruff RUF022 (isort-style): CONSTANTS, then Classes, then everything else; each group sorted.
    if name.isupper():
        return (0, name)
    if name[:1].isupper():
        return (1, name)
    return (2, name)


def _private_modules() -> list[ModuleType]:
    names = [
        info.name
        for info in pkgutil.iter_modules(chunkagg.__path__)
        if info.name.startswith("_") and info.name != "__main__"
    ]
    return [importlib.import_module(f"chunkagg.{name}") for name in sorted(names)]


def test_all_is_sorted() -> None:
    assert chunkagg.__all__ == sorted(chunkagg.__all__, key=_sort_key)
    assert len(set(chunkagg.__all__)) == len(chunkagg.__all__)


def test_all_equals_the_public_names() -> None:
    public = {
        name
        for name, value in vars(chunkagg).items()
        if (not name.startswith("_") or name in EXPORTED_DUNDERS)
        and not isinstance(value, ModuleType)
    }
    assert set(chunkagg.__all__) == public


def test_every_exported_name_exists() -> None:
    for name in chunkagg.__all__:
        assert hasattr(chunkagg, name), name


def test_private_modules_declare_all() -> None:
    modules = _private_modules()
    assert {m.__name__ for m in modules} >= {
        "chunkagg._accumulator",
        "chunkagg._errors",
        "chunkagg._framing",
        "chunkagg._merge",
        "chunkagg._models",
    }
    for module in modules:
        names = getattr(module, "__all__", None)
        assert isinstance(names, list), f"{module.__name__} has no __all__ list"
        for name in names:
            assert hasattr(module, name), f"{module.__name__}.__all__ names missing {name!r}"


def test_exports_come_from_the_private_modules() -> None:
    # Every public name is declared in some private module's __all__, and is that object.
    declared: dict[str, object] = {}
    for module in _private_modules():
        for name in module.__all__:
            declared.setdefault(name, getattr(module, name))
    for name in chunkagg.__all__:
        if name in EXPORTED_DUNDERS:
            continue
        assert name in declared, f"{name} is not in any private module's __all__"
        assert getattr(chunkagg, name) is declared[name], name


def test_public_objects_claim_the_package() -> None:
    # Classes and functions defined in chunkagg, not re-exports of a dependency.
    for name in chunkagg.__all__:
        value = getattr(chunkagg, name)
        module = getattr(value, "__module__", None)
        if isinstance(value, type) or callable(value):
            assert module is not None and module.startswith("chunkagg"), (name, module)
