"""The client's seam: `httpdeck.testing` uses the client only through the
public `httpdeck` / `httpdeck.client` names and `httpdeck.client._seam`, and
the client never imports `httpdeck.testing` (docs/architecture.md, "The seam")."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import httpdeck.client
from httpdeck.client import _extensions, _seam

SRC = Path(__file__).resolve().parent.parent / "src" / "httpdeck"
SEAM = {"httpdeck", "httpdeck.client", "httpdeck.client._seam"}

# Imports of private client modules from testing/ still to be moved behind the
# seam: (file, module). It ends empty, and stays empty.
ALLOWED_EXCEPTIONS: set[tuple[str, str]] = set()


def _imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """Every import in `path` (top level, in functions, under TYPE_CHECKING):
    (line, absolute module, names)."""
    found: list[tuple[int, str, list[str]]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [alias.name for alias in node.names]
            found.append((node.lineno, node.module, names))
            # `from httpdeck.client import _x` reaches a private module too.
            found.extend(
                (node.lineno, f"{node.module}.{name}", [])
                for name in names
                if node.module.startswith("httpdeck") and name.startswith("_")
            )
    return found


def _modules(package: str) -> list[Path]:
    return sorted((SRC / package).rglob("*.py"))


def test_testing_imports_the_client_only_through_its_seam() -> None:
    crossings = sorted(
        (path.name, module, line)
        for path in _modules("testing")
        for line, module, _ in _imports(path)
        if module.startswith("httpdeck.client")
        and module not in SEAM
        and (path.name, module) not in ALLOWED_EXCEPTIONS
    )
    assert not crossings, "testing/ reaches past the client's seam (httpdeck.client._seam):\n" + (
        "\n".join(f"  {name}:{line}: {module}" for name, module, line in crossings)
    )


def test_the_allowed_exceptions_list_is_empty() -> None:
    assert not ALLOWED_EXCEPTIONS


def test_testing_imports_only_names_the_seam_or_the_client_exports() -> None:
    exported = {
        "httpdeck.client": set(httpdeck.client.__all__),
        "httpdeck.client._seam": set(_seam.__all__),
    }
    missing = sorted(
        (path.name, module, name)
        for path in _modules("testing")
        for _, module, names in _imports(path)
        if module in exported
        for name in names
        if name not in exported[module]
    )
    assert not missing, missing


def _module_level(path: Path) -> list[str]:
    """Modules `path` imports when it is imported (not in functions, not under TYPE_CHECKING)."""
    found: list[str] = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
    return found


def test_the_client_never_imports_testing() -> None:
    at_import = sorted(
        str(path.relative_to(SRC))
        for path in _modules("client")
        for module in _module_level(path)
        if module.startswith("httpdeck.testing")
    )
    assert not at_import, at_import
    # The one on-demand use: HTTPModule.stub() builds the fake (and a
    # type-only import of the public Route).
    lazy = sorted(
        (str(path.relative_to(SRC)), module)
        for path in _modules("client")
        for _, module, _ in _imports(path)
        if module.startswith("httpdeck.testing")
    )
    assert lazy == [
        ("client/_module.py", "httpdeck.testing"),
        ("client/_module.py", "httpdeck.testing.fake._client"),
    ]


def test_the_seam_exports_every_name_it_imports_once() -> None:
    imported = {
        alias.asname or alias.name
        for node in ast.parse(Path(_seam.__file__).read_text()).body
        if isinstance(node, ast.ImportFrom) and node.module != "__future__"
        for alias in node.names
    }
    assert len(set(_seam.__all__)) == len(_seam.__all__)
    assert set(_seam.__all__) == imported


def test_every_request_extension_key_lives_in_the_extensions_module() -> None:
    keys = {getattr(_extensions, name) for name in _extensions.__all__}
    written = re.compile(r"""["'](httpdeck\.[a-z_]+)["']""")
    elsewhere = sorted(
        (str(path.relative_to(SRC)), key)
        for path in _modules("client")
        if path.name != "_extensions.py"
        for key in written.findall(path.read_text())
        if "extensions" in path.read_text() and key in keys
    )
    assert not elsewhere, f"extension keys spelled outside client/_extensions.py: {elsewhere}"


def test_every_request_extension_key_is_documented() -> None:
    docs = (SRC.parent.parent / "docs" / "architecture.md").read_text()
    for name in _extensions.__all__:
        assert f"`{name}`" in docs, f"{name} is missing from docs/architecture.md"


def test_testing_is_four_sub_packages_and_a_few_shared_modules() -> None:
    # docs/architecture.md, "Layout": a new module goes into the sub-package of
    # its concern; the top level keeps the public namespaces and what all share.
    top = SRC / "testing"
    packages = sorted(p.name for p in top.iterdir() if (p / "__init__.py").is_file())
    modules = sorted(p.name for p in top.glob("*.py"))
    assert packages == ["cassettes", "fake", "faults", "plugin"]
    assert modules == ["__init__.py", "_json_limits.py", "_seeds.py", "_server.py", "schedules.py"]


def test_the_plugin_entry_point_is_the_plugin_package() -> None:
    import importlib.metadata

    (entry,) = (
        e for e in importlib.metadata.entry_points(group="pytest11") if e.name == "httpdeck"
    )
    assert entry.value == "httpdeck.testing.plugin"
