"""What the pytest plugin did in a run, for the terminal summary.

Each xdist worker keeps its own `RunStats` and sends it to the controller as
a plain dict (`to_wire()` / `merge_wire()`), which prints one summary.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class RunStats:
    used: bool = False
    cassettes_played: int = 0
    cassettes_recorded: int = 0
    interactions_played: int = 0
    interactions_recorded: int = 0
    # cassette path -> number of interactions that were never played back
    unused: dict[str, int] = field(default_factory=dict)
    faults: Counter[str] = field(default_factory=Counter)
    # "nodeid -> host:port" for every connection the network guard refused
    blocked: list[str] = field(default_factory=list)

    def to_wire(self) -> dict[str, Any]:
        return {
            "used": self.used,
            "cassettes_played": self.cassettes_played,
            "cassettes_recorded": self.cassettes_recorded,
            "interactions_played": self.interactions_played,
            "interactions_recorded": self.interactions_recorded,
            "unused": dict(self.unused),
            "faults": dict(self.faults),
            "blocked": list(self.blocked),
        }

    def merge_wire(self, data: dict[str, Any]) -> None:
        self.used = self.used or bool(data.get("used"))
        self.cassettes_played += int(data.get("cassettes_played", 0))
        self.cassettes_recorded += int(data.get("cassettes_recorded", 0))
        self.interactions_played += int(data.get("interactions_played", 0))
        self.interactions_recorded += int(data.get("interactions_recorded", 0))
        for path, count in dict(data.get("unused", {})).items():
            self.unused[path] = self.unused.get(path, 0) + int(count)
        self.faults.update({str(k): int(v) for k, v in dict(data.get("faults", {})).items()})
        self.blocked.extend(str(b) for b in data.get("blocked", []))

    def lines(self, seed: int) -> list[str]:
        """The summary, or [] when httpdeck was not used in this run."""
        if not (self.used or self.blocked):
            return []
        out = [f"seed: {seed} (repeat with --httpdeck-seed={seed})"]
        out.append(
            f"cassettes: {self.cassettes_played} played ({self.interactions_played} "
            f"interactions), {self.cassettes_recorded} recorded ({self.interactions_recorded} "
            "interactions)"
        )
        if self.unused:
            total = sum(self.unused.values())
            out.append(f"unused interactions: {total} in {len(self.unused)} cassette(s)")
            out.extend(
                f"  {path}: {count} never played" for path, count in sorted(self.unused.items())
            )
        else:
            out.append("unused interactions: 0")
        if self.faults:
            kinds = ", ".join(f"{kind} x{n}" for kind, n in sorted(self.faults.items()))
            out.append(f"faults injected: {sum(self.faults.values())} ({kinds})")
        else:
            out.append("faults injected: 0")
        if self.blocked:
            out.append(f"blocked connections: {len(self.blocked)}")
            out.extend(f"  {entry}" for entry in self.blocked)
        return out
