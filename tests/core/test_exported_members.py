"""The package root exports exactly its public names, every private module says what it has, and
the layout holds: a core that imports no format, and a room per format that imports only the core.

After encode/httpx ``tests/test_exported_members.py``: h11's ``__all__`` drifted for want of one.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import chunkagg

# Dunder names the package exports on purpose.
EXPORTED_DUNDERS = {"__version__"}
PACKAGE = Path(chunkagg.__file__).parent
# The rooms of the formats; the core is ``_core``. The modules at the package's top (helpers,
# relays, detection, the command line) may use any room.
FORMATS = ("_chat", "_completions", "_responses", "_messages")


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
        for info in pkgutil.walk_packages(chunkagg.__path__, "chunkagg.")
        if info.name.rsplit(".", 1)[-1].startswith("_") or "._" in info.name
    ]
    return [importlib.import_module(name) for name in sorted(names) if name != "chunkagg.__main__"]


def test_all_is_sorted() -> None:
    assert chunkagg.__all__ == sorted(chunkagg.__all__, key=_sort_key)
    assert len(set(chunkagg.__all__)) == len(chunkagg.__all__)


def test_all_equals_the_public_names() -> None:
    loaded = {
        name
        for name, value in vars(chunkagg).items()
        if (not name.startswith("_") or name in EXPORTED_DUNDERS)
        and not isinstance(value, ModuleType)
        and name not in ("annotations", "importlib", "TYPE_CHECKING", "Any")
    }
    lazy = set(chunkagg._MODULE_OF)
    assert set(chunkagg.__all__) == loaded | lazy
    assert set(dir(chunkagg)) >= set(chunkagg.__all__)


def test_every_exported_name_exists() -> None:
    for name in chunkagg.__all__:
        assert hasattr(chunkagg, name), name
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = chunkagg.Nope


def test_private_modules_declare_all() -> None:
    modules = _private_modules()
    assert {m.__name__ for m in modules} >= {
        "chunkagg._errors",
        "chunkagg._core.framing",
        "chunkagg._core.stream",
        "chunkagg._chat.accumulator",
        "chunkagg._completions.accumulator",
        "chunkagg._responses.accumulator",
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


def _imports(path: Path) -> set[str]:
    """The chunkagg modules ``path`` imports, as absolute dotted names (``chunkagg._core.x``)."""
    parts = ["chunkagg", *path.relative_to(PACKAGE).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    package = parts[:-1] if path.name != "__init__.py" else parts
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - node.level + 1]
            found.add(".".join([*base, *([node.module] if node.module else [])]))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("chunkagg"):
            found.add(str(node.module))
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("chunkagg"))
    return found


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


@pytest.mark.parametrize("path", sorted((PACKAGE / "_core").glob("*.py")), ids=lambda p: p.name)
def test_the_core_imports_no_format(path: Path) -> None:
    for module in _imports(path):
        assert _room(module) in ("_core", "_errors"), f"{path.name} imports {module}"


@pytest.mark.parametrize(
    "path",
    sorted(p for room in FORMATS for p in (PACKAGE / room).glob("*.py")),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_a_format_imports_only_the_core_and_itself(path: Path) -> None:
    own = path.parent.name
    for module in _imports(path):
        assert _room(module) in ("_core", "_errors", own), f"{own}/{path.name} imports {module}"


def test_import_loads_the_core_alone_and_a_room_on_first_use() -> None:
    script = (
        "import sys, chunkagg\n"
        "rooms = lambda: sorted({m.split('.')[1] for m in sys.modules\n"
        "                        if m.startswith('chunkagg.') and m.count('.') >= 1})\n"
        "print(rooms())\n"
        "chunkagg.ResponseAccumulator\n"
        "print(rooms())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    at_import, after = (eval(line) for line in done.stdout.splitlines())
    assert at_import == ["_core", "_errors"]
    assert after == ["_core", "_errors", "_responses"]


def test_the_wheel_carries_every_room() -> None:
    # pyproject's package list must name every subpackage, or the wheel ships without a room.
    text = (PACKAGE.parent / "pyproject.toml").read_text()
    assert 'include = ["chunkagg", "chunkagg.*"]' in text
    for room in ("_core", *FORMATS):
        assert (PACKAGE / room / "__init__.py").is_file(), room
