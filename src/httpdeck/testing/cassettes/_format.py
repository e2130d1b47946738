"""Reading and writing cassette files in vcrpy's format, fast and safely.

- Parsing uses vcrpy's own safe libyaml loader (without YAML aliases, see
  `cassettes._yaml`) and its JSON serializer, so any cassette vcrpy plays, this
  reads; writing uses vcrpy's dumper and JSON layout, so what this writes is
  what vcrpy would. Every interaction is checked (`cassettes._checks`) before
  replay trusts it, and any problem is a `MalformedCassetteError` naming the
  file, the line and the interaction.
- YAML parsing is slow (about 2 s for 5,000 interactions), so the parsed form
  is cached under a cache directory, keyed by the SHA-256 of the file's bytes:
  an unchanged cassette loads from the cache in milliseconds; a changed one
  misses and is parsed again. Saving a cassette fills the cache too. The file
  in the repository stays plain vcrpy YAML.
- Writes go to a temporary file in the same directory, are fsynced, and are
  renamed over the cassette (`os.replace`), so a crash leaves the old
  cassette whole. Writers take an exclusive `flock` on the cassette's
  directory, so parallel processes (pytest-xdist workers) are serialized.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import marshal
import os
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from vcr.serializers import jsonserializer  # type: ignore[import-untyped]

from httpdeck.testing.cassettes._checks import problem as interaction_problem
from httpdeck.testing.cassettes._errors import MalformedCassetteError
from httpdeck.testing.cassettes._model import Format, KeyParts, Raw, key_parts
from httpdeck.testing.cassettes._yaml import OLD_TAGS, AliasError, dump_yaml, load_yaml

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no cross-process lock
    fcntl = None  # type: ignore[assignment]

_LONG_NUMBER = re.compile(r"\d{4301,}")  # past Python's int conversion limit
CASSETTE_FORMAT_VERSION = 1  # vcrpy's `version: 1`
_CACHE_VERSION = 4  # 4: entries parsed before the checks of _cassette_checks are not trusted
_CACHE_MAX_ENTRIES = 256
CacheDir = str | os.PathLike[str] | Literal[False] | None


def format_for(path: Path) -> Format:
    """`json` for `*.json` cassettes, else vcrpy's default, `yaml`."""
    return "json" if path.suffix.lower() == ".json" else "yaml"


def default_cache_dir() -> Path:
    """`$HTTPDECK_CACHE_DIR`, else `$XDG_CACHE_HOME/httpdeck/cassettes`, else `~/.cache/...`."""
    if env := os.environ.get("HTTPDECK_CACHE_DIR"):
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "httpdeck" / "cassettes"


def resolve_cache_dir(cache_dir: CacheDir) -> Path | None:
    if cache_dir is False:
        return None
    return default_cache_dir() if cache_dir is None else Path(cache_dir)


@dataclass(slots=True)
class CassetteFile:
    """A cassette file as read: its interactions and identity.

    `records` holds each interaction as a vcrpy dict, or, when it came from the
    cache, as that dict's marshal bytes, decoded only when used: 5,000 bytes
    objects load (and are garbage-collected) far faster than 150,000 dicts,
    lists and strings."""

    records: list[Raw | bytes] = field(default_factory=list)
    metadata: dict[str, Any] | None = None
    digest: str | None = None  # SHA-256 of the bytes; None when there is no file
    from_cache: bool = False
    keys: list[KeyParts] | None = None  # each interaction's index key parts

    @property
    def interactions(self) -> list[Raw]:
        return [marshal.loads(r) if isinstance(r, bytes) else r for r in self.records]

    @property
    def exists(self) -> bool:
        return self.digest is not None


# -- parsing ---------------------------------------------------------------------


def _yaml_line(text: str, index: int | None) -> int | None:
    """The 1-based line of interaction `index` (or of the top) in a YAML/JSON text."""
    try:
        root = yaml.compose(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        return None
    node: Any = root
    if index is not None and isinstance(root, yaml.MappingNode):
        for key, value in root.value:
            if getattr(key, "value", None) == "interactions" and isinstance(
                value, yaml.SequenceNode
            ):
                node = value.value[index] if index < len(value.value) else value
    return None if node is None else int(node.start_mark.line) + 1


def _malformed(path: Path, problem: str, line: int | None) -> MalformedCassetteError:
    where = f"{path}, line {line}" if line else str(path)
    msg = (
        f"Cannot load the cassette {where}: {problem}. Fix the file, or delete it and "
        "record it again (record_mode='rewrite', or --httpdeck-record-mode=rewrite)."
    )
    return MalformedCassetteError(msg, path=path, line=line)


def _old_cassette(path: Path, line: int | None) -> MalformedCassetteError:
    old = (
        "it is a cassette of vcrpy before 1.0 (a list of request/response pairs, with no "
        f"`version` and no `interactions`); convert it with `python -m vcr.migration {path}` "
        "(vcrpy's migration script)"
    )
    return _malformed(path, old, line)


def _deserialize(text: str, fmt: Format, path: Path) -> Any:
    """The document in `text`, or a `MalformedCassetteError` naming the line."""
    try:
        if fmt == "json":
            return jsonserializer.deserialize(text)
        return load_yaml(text)
    except json.JSONDecodeError as exc:
        raise _malformed(path, f"invalid JSON: {exc.msg}", exc.lineno) from exc
    except AliasError as exc:
        msg = (
            "it uses a YAML alias (*name) to repeat the node anchored (&name) here; cassettes "
            "never hold anchors or aliases (vcrpy does not write them), and an alias can expand "
            "a small file into gigabytes"
        )
        raise _malformed(path, msg, exc.line) from None
    except yaml.constructor.ConstructorError as exc:
        if any(tag in str(exc.problem) for tag in OLD_TAGS):
            raise _old_cassette(path, 1) from exc
        mark = exc.problem_mark
        raise _malformed(
            path, f"invalid YAML: {exc.problem}", mark.line + 1 if mark else None
        ) from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        yaml_line = mark.line + 1 if mark is not None else None
        raise _malformed(path, f"invalid YAML: {exc.problem or exc.context}", yaml_line) from exc
    except yaml.YAMLError as exc:
        raise _malformed(path, f"invalid YAML: {exc}", None) from exc
    except RecursionError:
        msg = "it is nested too deeply to read (hundreds of levels of lists or mappings)"
        raise _malformed(path, msg, None) from None
    except ValueError as exc:  # an integer past Python's 4,300-digit conversion limit
        match = _LONG_NUMBER.search(text)
        line = text.count("\n", 0, match.start()) + 1 if match else None
        raise _malformed(path, f"it holds a number too long to read ({exc})", line) from exc


def parse(data: bytes, fmt: Format, path: Path) -> tuple[list[Raw], dict[str, Any] | None]:
    """Parse cassette bytes into vcrpy interaction dicts, naming the line of any problem."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _malformed(path, f"it is not UTF-8 text ({exc.reason})", line) from exc
    document = _deserialize(text, fmt, path)
    if isinstance(document, list) and document and isinstance(document[0], dict):
        raise _old_cassette(path, 1)
    if not isinstance(document, dict) or not isinstance(document.get("interactions"), list):
        shape = "a cassette is a mapping with `version: 1` and an `interactions` list"
        raise _malformed(path, shape, _yaml_line(text, None))
    interactions: list[Raw] = document["interactions"]
    for index, item in enumerate(interactions):
        if (wrong := interaction_problem(item)) is not None:
            where = _yaml_line(text, index)
            raise _malformed(path, f"interaction #{index + 1}: {wrong}", where)
    metadata = document.get("metadata")
    return interactions, metadata if isinstance(metadata, dict) else None


# vcrpy's key order (its `serialize` and `Request._to_dict`, and the response
# dict of its stubs). YAML sorts keys anyway; JSON keeps them as given.
_TOP = ("version", "interactions", "metadata")
_REQUEST = ("method", "uri", "body", "headers")
_RESPONSE = ("status", "headers", "body")


def _ordered(raw: dict[str, Any], order: tuple[str, ...]) -> dict[str, Any]:
    return {
        **{key: raw[key] for key in order if key in raw},
        **{key: value for key, value in raw.items() if key not in order},
    }


def _vcrpy_order(interaction: Raw) -> Raw:
    out = dict(interaction)
    if isinstance(out.get("request"), dict):
        out["request"] = _ordered(out["request"], _REQUEST)
    if isinstance(out.get("response"), dict):
        out["response"] = _ordered(out["response"], _RESPONSE)
    return _ordered(out, ("request", "response"))


def dump(interactions: list[Raw], fmt: Format, metadata: dict[str, Any] | None = None) -> bytes:
    """The bytes vcrpy writes for these interactions: its JSON layout (key
    order, `indent=4`), its YAML dumper (keys sorted), byte for byte."""
    document: dict[str, Any] = {"version": CASSETTE_FORMAT_VERSION, "interactions": interactions}
    if metadata:
        document["metadata"] = metadata
    if fmt == "json":
        document["interactions"] = [_vcrpy_order(i) for i in interactions]
        text: str = jsonserializer.serialize(document)
    else:
        text = dump_yaml(document)
    return text.encode("utf-8")


# -- the parsed-form cache -----------------------------------------------------


def _cache_path(cache_dir: Path, digest: str, fmt: Format) -> Path:
    return cache_dir / f"{digest}.{fmt}.v{_CACHE_VERSION}.marshal"


def _cache_get(cache_dir: Path, digest: str, fmt: Format) -> dict[str, Any] | None:
    try:
        blob = _cache_path(cache_dir, digest, fmt).read_bytes()
    except OSError:
        return None
    check, payload = blob[:32], blob[32:]
    if hashlib.blake2b(payload, digest_size=32).digest() != check:
        return None
    try:
        value = marshal.loads(payload)
    except (EOFError, ValueError, TypeError):
        return None
    return value if isinstance(value, dict) else None


def _cache_put(cache_dir: Path, digest: str, fmt: Format, entry: Callable[[], Any]) -> None:
    try:
        payload = marshal.dumps(entry())
    except ValueError:  # an old cassette holding BytesIO/iterators: not cacheable
        return
    blob = hashlib.blake2b(payload, digest_size=32).digest() + payload
    with contextlib.suppress(OSError):  # the cache is an optimisation, never a failure
        cache_dir.mkdir(parents=True, exist_ok=True)
        target = _cache_path(cache_dir, digest, fmt)
        write_atomic(target, blob, fsync=False)
        others = [p for p in cache_dir.glob("*.marshal") if p != target]
        if len(others) >= _CACHE_MAX_ENTRIES:
            others.sort(key=lambda p: p.stat().st_mtime)
            for old in others[: len(others) + 1 - _CACHE_MAX_ENTRIES]:
                old.unlink(missing_ok=True)


# -- files -----------------------------------------------------------------------


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Building a parsed cassette allocates ~30 containers per interaction, none
    of them garbage; the cyclic collector would scan the heap again and again
    meanwhile (tenfold the load time of a 5,000-interaction cassette)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_cassette(path: Path, fmt: Format, *, cache_dir: Path | None) -> CassetteFile:
    """Read a cassette; a missing or empty file is an empty `CassetteFile` (as in vcrpy)."""
    with gc_paused():
        return _read(path, fmt, cache_dir)


def _read(path: Path, fmt: Format, cache_dir: Path | None) -> CassetteFile:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return CassetteFile()
    except IsADirectoryError as exc:
        raise _malformed(path, "it is a directory, not a file", None) from exc
    if not data.strip():
        return CassetteFile()
    digest = hashlib.sha256(data).hexdigest()
    if cache_dir is not None:
        cached = _cache_get(cache_dir, digest, fmt)
        if cached is not None:
            keys = cached["keys"]
            return CassetteFile(cached["blobs"], cached["metadata"], digest, True, keys)
    interactions, metadata = parse(data, fmt, path)
    keys = _keys(interactions)
    if cache_dir is not None:
        _cache_put(cache_dir, digest, fmt, lambda: _entry(interactions, metadata, keys))
    return CassetteFile(list(interactions), metadata, digest, keys=keys)


def _keys(interactions: list[Raw]) -> list[KeyParts]:
    return [key_parts(str(i["request"]["method"]), str(i["request"]["uri"])) for i in interactions]


def _entry(
    interactions: list[Raw], metadata: dict[str, Any] | None, keys: list[KeyParts]
) -> dict[str, Any]:
    blobs = [marshal.dumps(raw) for raw in interactions]
    return {"blobs": blobs, "metadata": metadata, "keys": keys}


def write_cassette(
    path: Path,
    interactions: list[Raw],
    fmt: Format,
    *,
    metadata: dict[str, Any] | None = None,
    cache_dir: Path | None,
) -> str:
    """Write atomically; fill the cache; return the new digest."""
    data = dump(interactions, fmt, metadata)
    write_atomic(path, data)
    digest = hashlib.sha256(data).hexdigest()
    if cache_dir is not None:
        _cache_put(
            cache_dir, digest, fmt, lambda: _entry(interactions, metadata, _keys(interactions))
        )
    return digest


def write_atomic(path: Path, data: bytes, *, fsync: bool = True) -> None:
    """Write `data` to a temporary file beside `path`, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    # 0o666 lets the umask decide the mode, as `open(path, "w")` would.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            if fsync:
                os.fsync(file.fileno())
        with contextlib.suppress(FileNotFoundError):
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock for writing `path` (an `flock` on its directory, so
    no lock file is left beside the cassettes). No-op where `fcntl` is missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if fcntl is None:  # pragma: no cover
        yield
        return
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
