"""Every Python example in docs/*.md and README.md runs, so the docs cannot rot.

How a page's examples run (the conventions a docs writer needs):

- **Every ```python block pastes and runs as it is.** Each runs on its own,
  in a fresh namespace (nothing injected: it imports what it uses), inside an
  event loop, so top-level `await` and `async with` work as in `python -m
  asyncio`. A block never sees the names another block defined.
- The one visible set-up, documented on docs/index.md ("About the
  examples"): example hosts (`api.example.com`, `weather.example.com`,
  `api.example.test`, ... the RFC 2606 names, which never reach a real
  service) are answered by a local server on 127.0.0.1 (tests/docs_world.py
  lists what it serves); nothing else but 127.0.0.1 can be reached.
- The page runs in a fresh temporary folder holding a copy of the project's
  `cassettes/`, so relative paths such as `cassettes/users.yaml` work.
- A zero-argument `test_*` function a block defines is called (and awaited)
  right after the block, so example tests run too.
- `<!-- docs: module NAME.py -->` before a block makes it a module of the
  page (the code under test the examples call): it is written to NAME.py in
  the page's folder, and other blocks import from it as a reader would
  (`from users import count_users`).
- `<!-- docs: pytest -->` before a block makes it a test module: the page's
  test modules run under pytest, with httpdeck's plugin loaded, in a
  generated project (pytest-asyncio strict mode) holding the page's modules.
  The project's conftest.py only installs the example hosts' server. It runs
  twice: once recording cassettes (`--httpdeck-record-mode=once`), once
  replaying them with the network blocked; every test must pass both times.
- `<!-- check: assert ... -->` right after a block runs after it, hidden too:
  it asserts what the example's comments claim.
- `<!-- docs: skip-run: why -->` before a block leaves it out. Keep it for
  what cannot run here (another library's API shown for comparison), and
  say why.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import re
import shutil
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import httpdeck
import httpdeck.testing
from docs_world import DocsWorld
from httpdeck.client._retry_support import TESTING

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent
PAGES = [*sorted((ROOT / "docs").rglob("*.md")), ROOT / "README.md"]

FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
COMMENT = re.compile(r"<!--\s*(?P<body>.*?)\s*-->", re.DOTALL)


@dataclass
class Block:
    """A fenced ```python block of a page, with the directives just before it."""

    page: Path
    line: int
    code: str
    checks: list[str] = field(default_factory=list)
    kind: str = "run"  # "run", "pytest", "module" or "skip"
    module: str = ""  # the file name of a "module" block
    reason: str = ""

    @property
    def where(self) -> str:
        page = self.page.relative_to(ROOT) if self.page.is_relative_to(ROOT) else self.page.name
        return f"{page}:{self.line}"


@dataclass
class Page:
    path: Path
    blocks: list[Block]

    @property
    def runnable(self) -> list[Block]:
        return [block for block in self.blocks if block.kind == "run"]

    @property
    def modules(self) -> list[Block]:
        return [block for block in self.blocks if block.kind == "module"]

    @property
    def test_modules(self) -> list[Block]:
        return [block for block in self.blocks if block.kind == "pytest"]

    @property
    def skipped(self) -> list[Block]:
        return [block for block in self.blocks if block.kind == "skip"]


def parse(path: Path) -> Page:
    """The page's python blocks, each with the HTML-comment directives before it."""
    lines = path.read_text().splitlines()
    blocks: list[Block] = []
    index = 0
    text_since_block: list[str] = []
    while index < len(lines):
        match = FENCE.match(lines[index])
        if match is None:
            text_since_block.append(lines[index])
            index += 1
            continue
        indent, fence, info = match["indent"], match["fence"], match["info"].strip()
        start = index
        index += 1
        body: list[str] = []
        while index < len(lines) and not lines[index].strip().startswith(fence):
            body.append(
                lines[index][len(indent) :] if lines[index].startswith(indent) else lines[index]
            )
            index += 1
        index += 1
        pending = [m["body"] for m in COMMENT.finditer("\n".join(text_since_block))]
        text_since_block = []
        checks = [d for d in pending if d.startswith("check:")]
        pending = [d for d in pending if not d.startswith("check:")]
        if checks:
            assert blocks, f"{path.name}:{start + 1}: a check before the first python block"
            blocks[-1].checks += [
                textwrap.dedent(d.removeprefix("check:")).strip("\n") for d in checks
            ]
        if info.split(" ")[0] not in ("python", "py"):
            if pending:
                msg = f"{path.name}:{start + 1}: a docs directive before a non-python block"
                raise AssertionError(msg)
            continue
        block = Block(path, start + 1, "\n".join(body))
        for directive in pending:
            if directive.startswith(("setup:", "conftest:", "helpers:")):
                msg = (
                    f"{block.where}: hidden code ({directive.split(':')[0]}:) would inject "
                    "names a reader does not see; put it in the block, or in a visible "
                    "`<!-- docs: module NAME.py -->` block"
                )
                raise AssertionError(msg)
            elif directive == "docs: pytest":
                block.kind = "pytest"
            elif directive.startswith("docs: module "):
                block.kind = "module"
                block.module = directive.removeprefix("docs: module ").strip()
                assert re.fullmatch(r"[a-z_]+\.py", block.module), block.where
            elif directive.startswith("docs: skip-run:"):
                block.kind = "skip"
                block.reason = directive.removeprefix("docs: skip-run:").strip()
                assert block.reason, f"{block.where}: say why the block is skipped"
            else:
                msg = f"{block.where}: unknown docs directive {directive[:40]!r}"
                raise AssertionError(msg)
        blocks.append(block)
    for directive in COMMENT.finditer("\n".join(text_since_block)):
        body = directive["body"]
        assert blocks, f"{path.name}: a docs directive but no python block"
        assert body.startswith("check:"), f"{path.name}: a stray docs directive at the end"
        blocks[-1].checks.append(textwrap.dedent(body.removeprefix("check:")).strip("\n"))
    return Page(path, blocks)


PARSED = {page: parse(page) for page in PAGES}


def _ids(pages: list[Path]) -> list[str]:
    return [str(page.relative_to(ROOT)) for page in pages]


RUNNABLE = [page for page, parsed in PARSED.items() if parsed.runnable]
WITH_TESTS = [page for page, parsed in PARSED.items() if parsed.test_modules]


def _namespace() -> dict[str, Any]:
    """What a pasted snippet starts with: nothing but its module name."""
    return {"__name__": "docs_example"}


CLIENTS = (httpdeck.HTTPClient, httpdeck.BaseURLHTTPClient)


class _CheckDiscardedResults(ast.NodeTransformer):
    """`await client.post(...)` as a statement must not quietly return an `Err`.

    An example that discards the result of a call would pass with a broken
    request; each awaited expression statement outside functions is wrapped
    in `__docs_check__`, which raises the error of an `Err`.
    """

    def visit_Expr(self, node: ast.Expr) -> ast.AST:
        if not isinstance(node.value, ast.Await):
            return node
        call = ast.Call(ast.Name("__docs_check__", ast.Load()), [node.value], [])
        return ast.copy_location(ast.Expr(call), node)

    def _leave(self, node: ast.AST) -> ast.AST:  # examples' own functions are theirs
        return node

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = visit_Lambda = _leave


def _docs_check(value: Any) -> Any:
    if isinstance(value, httpdeck.Err):
        msg = f"an example discarded an Err result: {value.error!r}"
        raise AssertionError(msg) from value.error
    return value


async def _run(
    source: str, namespace: dict[str, Any], where: str, clients: list[Any] | None = None
) -> None:
    tree = ast.fix_missing_locations(_CheckDiscardedResults().visit(ast.parse(source)))
    code = compile(tree, where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    namespace.setdefault("__docs_check__", _docs_check)
    before = set(namespace)
    try:
        if code.co_flags & inspect.CO_COROUTINE:  # top-level await: run in the page's loop
            await eval(code, namespace)
        else:  # in a thread, where `asyncio.run(main())` works as in a script
            await asyncio.to_thread(eval, code, namespace)
    finally:
        # Keep every client an example bound to a name, to close it at the end of
        # the page: a later block may rebind `client` to a new one.
        if clients is not None:
            clients += [value for value in namespace.values() if isinstance(value, CLIENTS)]
    for name in sorted(set(namespace) - before):
        value = namespace[name]
        if name.startswith("test_") and callable(value):
            if inspect.signature(value).parameters:
                continue
            outcome = value()
            if inspect.isawaitable(outcome):
                await outcome


def _fresh_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(ROOT / "cassettes", tmp_path / "cassettes")
    monkeypatch.chdir(tmp_path)
    # An example may switch retry testing mode on "for the rest of the run".
    monkeypatch.setattr(TESTING, "enabled", TESTING.enabled)
    monkeypatch.setattr(TESTING, "max_attempts", TESTING.max_attempts)


def _write_modules(page: Page, folder: Path) -> None:
    for block in page.modules:
        (folder / block.module).write_text(block.code + "\n")


BLOCKS = [block for page in RUNNABLE for block in PARSED[page].runnable]


@pytest.mark.asyncio
@pytest.mark.parametrize("block", BLOCKS, ids=[block.where for block in BLOCKS])
async def test_every_example_runs_on_its_own(
    block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fresh_folder(tmp_path, monkeypatch)
    _write_modules(PARSED[block.page], tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    for module in PARSED[block.page].modules:  # a fresh import for each example
        monkeypatch.delitem(sys.modules, module.module.removesuffix(".py"), raising=False)
    world = DocsWorld()
    async with world.running():
        namespace = _namespace()
        clients: list[Any] = []
        try:
            await _run(block.code, namespace, block.where, clients)
            for check in block.checks:
                await _run(check, namespace, f"{block.where} (check)", clients)
        except BaseException as exc:
            code = textwrap.indent(block.code, "    ")
            exc.add_note(f"in the example at {block.where}:\n{code}")
            raise
        finally:
            # An example may leave a client open (`client = HTTPClient(...)`, as a
            # reader's module would): close it after the example.
            for client in {id(client): client for client in clients}.values():
                await client.stop()


CONFTEST_HEADER = f"""\
# Generated by tests/test_docs_examples.py.
import sys

sys.path.insert(0, {str(TESTS)!r})

from docs_world import WorldPlugin


def pytest_configure(config):
    config.pluginmanager.register(WorldPlugin(), "docs-world")
"""


@pytest.mark.parametrize("page", WITH_TESTS, ids=_ids(WITH_TESTS))
def test_the_test_modules_of_a_page_pass_recording_then_replaying(
    page: Path, pytester: pytest.Pytester
) -> None:
    parsed = PARSED[page]
    _write_modules(parsed, pytester.path)
    pytester.makeconftest(CONFTEST_HEADER)
    pytester.makeini(
        "[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n"
        "filterwarnings = error\naddopts = --strict-markers\n"
    )
    modules = {}
    for number, block in enumerate(parsed.test_modules):
        modules[f"test_{page.stem.replace('-', '_')}_{number}"] = block.code
    pytester.makepyfile(**modules)
    quiet = [
        "-p",
        "no:cacheprovider",
        "-p",
        "no:httpbin",
        "-p",
        "no:recording",
        "-p",
        "no:pytest_httpx",
        "-p",
        "no:respx",
        "-p",
        "no:faker",
    ]
    recording = pytester.runpytest_subprocess(*quiet, "--httpdeck-record-mode=once")
    outcomes = recording.parseoutcomes()
    assert outcomes.get("passed", 0) >= len(modules), recording.stdout.str()
    assert set(outcomes) <= {"passed"}, recording.stdout.str()
    replaying = pytester.runpytest_subprocess(
        *quiet, "--httpdeck-block-network", "--httpdeck-allow-hosts=127.0.0.1"
    )
    assert replaying.parseoutcomes() == outcomes, replaying.stdout.str()


def test_skipped_examples_are_rare_and_say_why() -> None:
    skipped = [block for parsed in PARSED.values() for block in parsed.skipped]
    for block in skipped:
        assert block.reason, block.where
    total = sum(len(parsed.blocks) for parsed in PARSED.values())
    assert len(skipped) <= total // 10, [block.where for block in skipped]


# -- the harness itself ---------------------------------------------------------

SAMPLE = """\
# A page

<!-- docs: module shapes.py -->
```python
SIDES = 4
```

```python
from shapes import SIDES

y = SIDES + 1
```

<!-- check:
assert y == 5
-->

<!-- docs: skip-run: shown only -->
```python
import not_installed
```

```shell
echo not python
```
"""


def test_directives_attach_to_their_blocks(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(SAMPLE)
    module, first, second = parse(page).blocks
    assert (module.kind, module.module) == ("module", "shapes.py")
    assert (first.code, first.checks) == (
        "from shapes import SIDES\n\ny = SIDES + 1",
        ["assert y == 5"],
    )
    assert (second.kind, second.reason) == ("skip", "shown only")


@pytest.mark.parametrize("hidden", ["setup", "helpers", "conftest"])
def test_hidden_code_before_a_block_is_refused(tmp_path: Path, hidden: str) -> None:
    page = tmp_path / "page.md"
    page.write_text(f"<!-- {hidden}:\nx = 1\n-->\n\n```python\nprint(x)\n```\n")
    with pytest.raises(AssertionError, match="would inject names a reader does not see"):
        parse(page)


def test_a_directive_before_a_non_python_block_is_an_error(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("<!-- docs: pytest -->\n\n```shell\necho\n```\n")
    with pytest.raises(AssertionError, match="a docs directive before a non-python block"):
        parse(page)


@pytest.mark.asyncio
async def test_an_example_starts_with_no_names() -> None:
    with pytest.raises(NameError, match="HTTPClient"):
        await _run("HTTPClient", _namespace(), "page.md:1")
    await _run("from httpdeck import HTTPClient\nHTTPClient", _namespace(), "page.md:5")


@pytest.mark.asyncio
async def test_an_example_that_discards_an_err_fails() -> None:
    namespace: dict[str, Any] = {"Err": httpdeck.Err, "boom": ValueError("boom")}
    source = "async def call():\n    return Err(boom)\n\nawait call()\n"
    with pytest.raises(AssertionError, match="an example discarded an Err result"):
        await _run(source, namespace, "page.md:1")
    await _run("result = await call()", namespace, "page.md:9")  # kept, not discarded: fine
