"""What the pytest plugin did in a run, for the terminal summary.

Each xdist worker keeps its own `RunStats` and sends it to the controller as
a plain dict (`to_wire()` / `merge_wire()`), which prints one summary.
Cassettes are counted per file: a cassette several tests replay counts once,
and an interaction is unused only if no test played it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class CassetteUse:
    """One cassette file over the run: interactions loaded, which were played,
    how many were replayed and recorded."""

    loaded: int = 0
    played: set[int] = field(default_factory=set)
    replays: int = 0
    recorded: int = 0
    written: bool = False

    @property
    def unused(self) -> int:
        return self.loaded - len(self.played) if self.loaded else 0


@dataclass(slots=True)
class RunStats:
    used: bool = False
    cassettes: dict[str, CassetteUse] = field(default_factory=dict)
    faults: Counter[str] = field(default_factory=Counter)
    # "nodeid -> host:port" for every connection the network guard refused
    blocked: list[str] = field(default_factory=list)

    def add_cassette(
        self,
        path: str,
        *,
        loaded: int,
        played: Iterable[int],
        replays: int,
        recorded: int,
        written: bool,
    ) -> None:
        use = self.cassettes.setdefault(path, CassetteUse())
        use.loaded = max(use.loaded, loaded)
        use.played.update(played)
        use.replays += replays
        use.recorded += recorded
        use.written = use.written or written

    def to_wire(self) -> dict[str, Any]:
        return {
            "used": self.used,
            "cassettes": {
                path: [use.loaded, sorted(use.played), use.replays, use.recorded, use.written]
                for path, use in self.cassettes.items()
            },
            "faults": dict(self.faults),
            "blocked": list(self.blocked),
        }

    def merge_wire(self, data: dict[str, Any]) -> None:
        self.used = self.used or bool(data.get("used"))
        for path, (loaded, played, replays, recorded, written) in data.get("cassettes", {}).items():
            self.add_cassette(
                path,
                loaded=int(loaded),
                played=(int(i) for i in played),
                replays=int(replays),
                recorded=int(recorded),
                written=bool(written),
            )
        self.faults.update({str(k): int(v) for k, v in dict(data.get("faults", {})).items()})
        self.blocked.extend(str(b) for b in data.get("blocked", []))

    def lines(self, seed: int) -> list[str]:
        """The summary, or [] when httpdeck was not used in this run."""
        if not (self.used or self.blocked):
            return []
        uses = self.cassettes.values()
        played = [u for u in uses if u.replays]
        written = [u for u in uses if u.written]
        out = [
            f"seed: {seed} (repeat with --httpdeck-seed={seed})",
            f"cassettes: {len(played)} played ({sum(u.replays for u in played)} interactions), "
            f"{len(written)} recorded ({sum(u.recorded for u in written)} interactions)",
        ]
        unused = {path: use.unused for path, use in sorted(self.cassettes.items()) if use.unused}
        out.append(f"unused interactions: {sum(unused.values())}")
        out.extend(f"  {path}: {count} never played" for path, count in unused.items())
        if self.faults:
            kinds = ", ".join(f"{kind} x{n}" for kind, n in sorted(self.faults.items()))
            out.append(f"faults injected: {sum(self.faults.values())} ({kinds})")
        else:
            out.append("faults injected: 0")
        if self.blocked:
            out.append(f"blocked connections: {len(self.blocked)}")
            out.extend(f"  {entry}" for entry in self.blocked)
        return out
