"""Crashes found by the fuzzer, written down so they can be replayed and fixed.

Each crash becomes one JSON file in the corpus directory: where it happened, the exception
and traceback, and the input(s) (topic, payload in base64, QoS, retain, receive time). A
crash in ``handle`` is replayed alone on a fresh ``Ingest``; when it crashes there too, its
payload is shrunk (halves, then smaller chunks, within a budget) to a smaller one that
still does, kept next to the original. Crashes are grouped by where they were raised, and
only the first few of each group are written.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.contract.codes import ErrorCode
from tests.fuzz.generate import Case
from tests.fuzz.seeds import new_ingest

_FRAME = re.compile(r'\s*File "(.+)", line (\d+), in (\S+)')
PER_SIGNATURE = 3
SHRINK_BUDGET = 400
"""Replays spent shrinking one payload."""


@dataclass(frozen=True, slots=True)
class Crash:
    backend: str
    where: str
    """``handle`` or ``commit``."""
    cases: list[Case]
    """The input, or the batch whose commit crashed."""
    error: str
    traceback: str

    @property
    def signature(self) -> str:
        """The innermost hub frame and the exception type: one group per bug, roughly."""
        lines = self.traceback.strip().splitlines()
        frames = [m.groups() for line in lines if (m := _FRAME.match(line))]
        ours = [f for f in frames if "/hub/" in f[0]] or frames or [("?", "?", "?")]
        path, line, func = ours[-1]
        kind = lines[-1].split(":")[0] if lines else self.error
        return f"{self.where} {kind} at {'/'.join(Path(path).parts[-2:])}:{line} in {func}"


def _case_json(case: Case) -> dict[str, Any]:
    return {
        "topic": case.topic,
        "payload_b64": base64.b64encode(case.payload).decode(),
        "payload_head": case.payload[:200].decode("utf-8", "replace"),
        "qos": case.qos,
        "retain": case.retain,
        "received_at": case.received_at,
        "how": case.how,
    }


def crashes_alone(case: Case) -> bool:
    """True when ``case`` makes a fresh ``Ingest`` fail (``internal_error`` or a raise)."""
    ingest = new_ingest(lambda: case.received_at)
    logging.disable(logging.ERROR)  # the replays would log the same traceback again
    try:
        ingest.handle(case)
    except Exception:
        return True
    finally:
        logging.disable(logging.NOTSET)
    return any(d.code == ErrorCode.INTERNAL_ERROR for d in ingest.pending.dead_letters)


def shrink(case: Case, budget: int = SHRINK_BUDGET) -> Case | None:
    """A smaller payload that still crashes alone, or None when the case does not."""
    if not crashes_alone(case):
        return None
    payload = case.payload
    chunk = max(1, len(payload) // 2)
    while chunk >= 1 and budget > 0:
        i, shrunk = 0, False
        while i < len(payload) and budget > 0:
            candidate = payload[:i] + payload[i + chunk :]
            budget -= 1
            if crashes_alone(Case(case.topic, candidate, case.qos, case.retain,
                                  case.received_at, case.how)):  # fmt: skip
                payload, shrunk = candidate, True
            else:
                i += chunk
        if not shrunk:
            chunk //= 2
    return Case(case.topic, payload, case.qos, case.retain, case.received_at, case.how)


class Corpus:
    """Writes crashes to ``directory`` (or only counts them when it is None)."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self.signatures: Counter[str] = Counter()
        self.written: list[Path] = []

    def add(self, crash: Crash) -> None:
        sig = crash.signature
        self.signatures[sig] += 1
        n = self.signatures[sig]
        if self.directory is None or n > PER_SIGNATURE:
            return
        record: dict[str, Any] = {
            "backend": crash.backend, "where": crash.where, "signature": sig,
            "error": crash.error, "traceback": crash.traceback,
            "inputs": [_case_json(c) for c in crash.cases],
        }  # fmt: skip
        if crash.where == "handle" and len(crash.cases) == 1:
            small = shrink(crash.cases[0])
            record["replays_alone"] = small is not None
            if small is not None:
                record["minimised"] = _case_json(small)
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"crash-{crash.backend}-{len(self.written):04d}.json"
        path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        self.written.append(path)


def load(path: Path) -> list[Case]:
    """The inputs of a corpus file: the minimised one when there is one, else all."""
    record = json.loads(path.read_text(encoding="utf-8"))
    found = [record["minimised"]] if "minimised" in record else record["inputs"]
    return [
        Case(c["topic"], base64.b64decode(c["payload_b64"]), c["qos"], c["retain"],
             c["received_at"], c["how"])
        for c in found
    ]  # fmt: skip
