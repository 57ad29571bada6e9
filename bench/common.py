"""What several benchmarks share: the measured-process wrapper and the table they print."""

from __future__ import annotations

# A fresh process per measured run: RUSAGE_CHILDREN then holds only that command's peak.
# Run as ``python -c WRAPPER COMMAND...``; prints one JSON object: seconds, peak_kib, rc
# and the end of the command's stderr.
WRAPPER = """\
import json, resource, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)
seconds = time.perf_counter() - start
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_kib": peak_kib, "rc": proc.returncode,
                  "stderr": proc.stderr[-3000:]}))
"""


def table(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """A plain-text table: the first column left-aligned, the figures right-aligned."""
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join(
        (line(headers), "  ".join("-" * w for w in widths), *(line(row) for row in rows))
    )
