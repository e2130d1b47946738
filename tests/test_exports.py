"""The public surface: `httpdeck.__all__` and `httpdeck.client.__all__` are sorted,
complete and documented, every name and member the API reference (docs/api/) renders
has a docstring, and the client imports none of the testing tools."""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import itertools
import re
import subprocess
import sys
import textwrap
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import httpdeck
import httpdeck.client
import httpdeck.testing

CLIENT_DIR = Path(httpdeck.client.__file__).parent


def _public_attributes(module: types.ModuleType) -> set[str]:
    """Names a user can reach on `module` without an underscore, submodules aside."""
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and name not in {"annotations"}  # `from __future__ import annotations`
    }


def test_client_all_is_sorted_and_unique() -> None:
    names = httpdeck.client.__all__
    assert names == sorted(names)
    assert len(names) == len(set(names))


def test_client_all_is_complete() -> None:
    assert _public_attributes(httpdeck.client) == set(httpdeck.client.__all__)


def test_top_level_all_is_the_client_api_and_the_version_sorted() -> None:
    names = httpdeck.__all__
    assert names == sorted(names)
    assert set(names) == {"__version__", *httpdeck.client.__all__}


@pytest.mark.parametrize("name", httpdeck.client.__all__)
def test_every_exported_name_resolves_to_the_same_object(name: str) -> None:
    assert getattr(httpdeck, name) is getattr(httpdeck.client, name)


def test_unknown_top_level_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="module 'httpdeck' has no attribute 'HTTPClinet'"):
        _ = httpdeck.HTTPClinet


def test_version_is_the_installed_distribution_version() -> None:
    from importlib.metadata import version

    assert httpdeck.__version__ == version("httpdeck")


def _docstring_after(body: list[ast.stmt], name: str) -> str | None:
    """The string literal right after `name = ...` / `name: T = ...` in `body`."""
    for statement, following in itertools.pairwise(body):
        target = None
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            target = statement.target.id
        elif isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            only = statement.targets[0]
            target = only.id if isinstance(only, ast.Name) else None
        if target != name:
            continue
        if (
            isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            return following.value.value
    return None


def _alias_docstring(name: str) -> str | None:
    """The string literal right after `name = ...` / `name: T = ...` in the client modules."""
    for path in sorted(CLIENT_DIR.rglob("*.py")):
        doc = _docstring_after(ast.parse(path.read_text()).body, name)
        if doc is not None:
            return doc
    return None


@pytest.mark.parametrize("name", httpdeck.client.__all__)
def test_every_exported_name_has_its_own_docstring(name: str) -> None:
    value = getattr(httpdeck.client, name)
    if inspect.isclass(value):
        doc = vars(value).get("__doc__")
    elif inspect.isfunction(value):
        doc = value.__doc__
    else:  # a type alias: documented by the string literal after it
        doc = _alias_docstring(name)
    assert doc, f"httpdeck.{name} has no docstring of its own"
    assert len(doc.strip()) > 15, f"httpdeck.{name}'s docstring says too little: {doc!r}"


# -- the API reference: every name and member it renders has a docstring ------------------

API_PAGES = Path(__file__).resolve().parents[1] / "docs" / "api"
# A `::: path` line and the indented mkdocstrings options under it, if any.
API_BLOCK = re.compile(r"^::: (\S+)[ \t]*\n((?:[ \t]+.*\n)*)", re.MULTILINE)


@functools.cache
def _rendered() -> tuple[tuple[str, object, dict[str, Any]], ...]:
    """(dotted path, object, block options) for everything docs/api/*.md renders: each
    block's object and, for a module block (`httpdeck.testing.faults`), its `__all__`."""
    rendered: list[tuple[str, object, dict[str, Any]]] = []
    for page in sorted(API_PAGES.glob("*.md")):
        for path, indented in API_BLOCK.findall(page.read_text()):
            options = (yaml.safe_load(textwrap.dedent(indented)) or {}) if indented else {}
            options = options.get("options", {})
            parent, _, name = path.rpartition(".")
            value = getattr(importlib.import_module(parent), name)
            if isinstance(value, types.ModuleType):
                rendered += [(f"{path}.{n}", getattr(value, n), options) for n in value.__all__]
            else:
                rendered.append((path, value, options))
    return tuple(rendered)


def _own_docstring(value: type | types.FunctionType) -> str:
    doc = (vars(value).get("__doc__") if inspect.isclass(value) else value.__doc__) or ""
    # A dataclass or NamedTuple without a docstring gets its signature as one.
    return "" if doc.startswith(f"{value.__name__}(") else doc.strip()


def _public_members(cls: type) -> Iterator[tuple[type, str, types.FunctionType]]:
    """(owner, name, function) for every public method, property, classmethod and
    staticmethod of `cls` (and `__call__`): its own and those it inherits from httpdeck
    classes that the reference does not render themselves (private bases)."""
    rendered = {value for _, value, _ in _rendered() if inspect.isclass(value)}
    for owner in cls.__mro__:
        if owner is not cls and (owner in rendered or not owner.__module__.startswith("httpdeck")):
            continue
        for name, value in vars(owner).items():
            if name.startswith("_") and name != "__call__":
                continue
            if isinstance(value, staticmethod | classmethod):
                value = value.__func__
            elif isinstance(value, property):
                value = value.fget
            if inspect.isfunction(value):
                yield owner, name, value


def _member_docstring(owner: type, name: str, function: types.FunctionType) -> str:
    if function.__name__ == name or name == "__call__":  # `__call__` is not rendered
        return (function.__doc__ or "").strip()
    # An alias (`aclose = stop`): the reference shows the string literal after it.
    # Found through the function's file: the class's __module__ is the public one.
    module = ast.parse(Path(function.__code__.co_filename).read_text())
    (tree,) = [
        node
        for node in ast.walk(module)
        if isinstance(node, ast.ClassDef) and node.name == owner.__name__
    ]
    return (_docstring_after(tree.body, name) or "").strip()


def test_every_name_and_member_the_api_reference_renders_has_a_docstring() -> None:
    missing = []
    for path, value, _ in _rendered():
        if (inspect.isclass(value) or inspect.isfunction(value)) and not _own_docstring(value):
            missing.append(path)
        if inspect.isclass(value):
            missing += [
                f"{path}.{name}"
                for owner, name, function in _public_members(value)
                if not _member_docstring(owner, name, function)
            ]
    assert not missing, (
        f"{len(missing)} public names in docs/api/ have no docstring:\n"
        + "\n".join(f"  - {name}" for name in missing)
    )


def test_the_api_reference_renders_members_inherited_from_private_bases() -> None:
    # mkdocstrings shows a class's own members only; `FakeTransport.route` comes from the
    # private `_Routing`, so the block needs `inherited_members: true` or a list naming it.
    hidden = []
    for path, value, options in _rendered():
        if not inspect.isclass(value):
            continue
        shown = options.get("inherited_members", False)
        hidden += [
            f"{path}.{name} (from {owner.__name__})"
            for owner, name, _ in _public_members(value)
            if owner is not value
            and name != "__call__"
            and shown is not True
            and name not in (shown or ())
        ]
    assert not hidden, (
        "docs/api/ does not render these inherited members; add them to the block's "
        "`inherited_members` option:\n" + "\n".join(f"  - {name}" for name in hidden)
    )


EXPORTED = [
    *((f"httpdeck.{name}", "httpdeck") for name in httpdeck.__all__ if name != "__version__"),
    *((f"httpdeck.testing.{name}", "httpdeck.testing") for name in httpdeck.testing.__all__),
]


@pytest.mark.parametrize(("path", "public"), EXPORTED, ids=[path for path, _ in EXPORTED])
def test_exported_classes_carry_their_public_module(path: str, public: str) -> None:
    value = getattr(importlib.import_module(public), path.rpartition(".")[2])
    if inspect.isclass(value):
        assert value.__module__ == public, f"{path}.__module__ is {value.__module__!r}"


def test_the_top_level_dir_holds_only_the_api() -> None:
    import httpdeck.cli  # a loaded submodule is listed, as for any package

    names = [name for name in dir(httpdeck) if not name.startswith("__")]
    extra = set(names) - set(httpdeck.__all__) - {"cli", "client", "testing"}
    assert not extra, f"dir(httpdeck) shows names that are not its API: {sorted(extra)}"
    testing_extra = {n for n in dir(httpdeck.testing) if not n.startswith("__")} - set(
        httpdeck.testing.__all__
    )
    assert not testing_extra, sorted(testing_extra)


def test_tracebacks_name_the_public_modules() -> None:
    # In a fresh interpreter: the fake's own import of the router must not leave
    # `httpdeck.testing.fake._router.UnmatchedRequestError` in the traceback.
    _fresh_interpreter(
        """
        import asyncio, traceback
        from httpdeck import HTTPClient
        from httpdeck.testing import FakeHTTPClient

        async def main():
            async with FakeHTTPClient() as fake:
                try:
                    await fake.get("http://api.test/nowhere")
                except Exception:
                    return traceback.format_exc()

        text = asyncio.run(main()).splitlines()[-20:]
        last = [line for line in text if "UnmatchedRequestError" in line][0]
        assert last.startswith("httpdeck.testing.UnmatchedRequestError: "), last
        assert repr(HTTPClient).startswith("<class 'httpdeck.HTTPClient'"), repr(HTTPClient)
        """
    )


def test_circuit_state_is_a_str_enum() -> None:
    import enum

    assert issubclass(httpdeck.CircuitState, enum.StrEnum)
    assert httpdeck.CircuitState.OPEN == "open"
    assert f"{httpdeck.CircuitState.HALF_OPEN}" == "half_open"


def test_config_loads_from_env_with_public_module_names() -> None:
    config = httpdeck.HTTPClientConfig.from_env(
        environ={"HTTPDECK_HTTP__POOL__MAX_CONNECTIONS": "7"}
    )
    assert config.pool.max_connections == 7


def _fresh_interpreter(code: str) -> None:
    subprocess.run([sys.executable, "-c", textwrap.dedent(code)], check=True, timeout=60)


def test_the_client_imports_no_testing_tools() -> None:
    _fresh_interpreter(
        """
        import sys
        import httpdeck.client
        from httpdeck import HTTPClient
        loaded = sorted(
            name for name in sys.modules
            if name.split(".")[0] in {"pytest", "vcr", "faker", "_pytest"}
            or name.startswith("httpdeck.testing")
        )
        assert not loaded, loaded
        """
    )


def test_importing_httpdeck_alone_does_not_import_aiohttp() -> None:
    _fresh_interpreter(
        """
        import sys
        import httpdeck
        assert "aiohttp" not in sys.modules
        httpdeck.HTTPClient
        assert "aiohttp" in sys.modules
        """
    )


def _module_level_imports(path: Path) -> list[str]:
    """Modules imported when `path` is imported: top level, outside `if TYPE_CHECKING:`.

    Imports inside functions (HTTPModule.stub() loads the fake on demand) do not count.
    """
    found: list[str] = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append(node.module)
    return found


def test_client_modules_import_only_aiohttp_yarl_and_the_stdlib() -> None:
    allowed = {"aiohttp", "yarl", "multidict", "httpdeck", *sys.stdlib_module_names}
    for path in sorted(CLIENT_DIR.rglob("*.py")):
        for module in _module_level_imports(path):
            assert module.split(".")[0] in allowed, f"{path.name} imports {module}"
            assert not module.startswith("httpdeck.testing"), f"{path.name} imports {module}"
            if module.split(".")[0] == "aiohttp":
                assert path.parent.name == "_transports", f"{path.name} imports aiohttp"


def test_py_typed_is_shipped() -> None:
    package = Path(importlib.import_module("httpdeck").__file__ or "").parent
    assert (package / "py.typed").is_file()
