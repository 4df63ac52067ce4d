"""Crash-test helper for test_register.py: append batches to a register until killed.

Usage: python _register_writer.py DB_PATH [BATCH]

Each batch is one ``append_many`` (one transaction). After every commit the writer
prints the last committed seq and flushes, so the parent knows exactly what was
committed when it sends SIGKILL. It resumes after whatever the file already holds.
"""

from __future__ import annotations

import sys
import time

from errorrules._register.store import AppendItem, Register

BATCH = 50
# Stop on our own if nobody kills us (e.g. the test process died first).
MAX_SECONDS = 60.0


def payload_for(seq: int) -> dict[str, object]:
    """The payload written for ``seq``; the test recomputes it to check content."""
    return {
        "seq": seq,
        "amount": f"{seq}.50",
        "note": f"incident {seq} 报表录入错误",
        "tags": [seq % 3, "batch"],
        "flags": {"late": seq % 2 == 0, "owner": None},
    }


def item_for(seq: int) -> AppendItem:
    """The whole entry written for ``seq``."""
    return AppendItem(
        payload=payload_for(seq),
        kind="event",
        persons=(f"p{seq % 7}",),
        unit=f"u{seq % 3}",
        occurred_at=f"2024-01-{1 + seq % 28:02d}T09:00:00+08:00",
    )


def main(argv: list[str]) -> int:
    path = argv[1]
    batch = int(argv[2]) if len(argv) > 2 else BATCH
    deadline = time.monotonic() + MAX_SECONDS
    with Register(path) as register:
        last = len(register)
        while time.monotonic() < deadline:
            written = register.append_many(item_for(s) for s in range(last + 1, last + batch + 1))
            last = written[-1].seq
            print(last, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
