"""Benchmark: reading the registry with gitml against GTO, on synthetic repositories.

Run from the repository root with the project's virtualenv:

    .venv/bin/python bench/registry.py [--repeats N] [--quick]

For 100, 1,000 and 10,000 versions of one model it builds a repository with a single
``git fast-import`` stream, then packs its refs as a clone has them (one commit per
version, as GTO allows one version per commit; a registration tag per version, a
promotion to ``staging`` every 2nd version and to ``production`` every 10th, and the two
stage branches), in a temporary directory that is removed afterwards. On each it times
three read commands against their GTO counterparts and against a plain-Python floor:

* ``gitml registry --local``              vs ``gto show``
* ``gitml show credit@production --local`` vs ``gto show credit#production``
* ``gitml history credit --local``         vs ``gto history credit``

The floor is ``python -c``: one ``git for-each-ref`` over ``refs/tags`` and ``refs/heads``
with the tag messages, parsed in plain Python into the latest version and each stage's
holder (and, per command, the one version or the event list), interpreter start-up
included. It is the least a Python tool that reads tags has to spend.

Every command is a subprocess, timed by wall clock; a figure is the median of
``--repeats`` runs after one warm-up that also checks the command's output, with the
commands taking turns within each round. gitml is timed three ways: warm (its registry
memo holds the answer, and the printed answer, for this state of the refs, as for any
repeated question), cold (the memo emptied before each run, as after a new tag or a
moved branch: every tag is indexed again, their objects coming from the tag cache) and
first (the tag cache and the kept digest of packed-refs emptied too, as in a fresh
clone: every tag object is read from git).
gitml's modules are byte-compiled first, as a pip install leaves them. GTO is slow at
1,000 versions (3 runs at most there) and takes minutes at 10,000, where each GTO
command runs once, killed after 10 minutes. The script also counts the git processes
each gitml command starts (memo empty, then filled), through a ``git`` shim first on
``PATH``, and says PASS or FAIL against the goals. It exits 0 either way: a benchmark
reports, it does not gate.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import os
import pstats
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.conftest import isolated_environment  # noqa: E402
from tests.helpers import BIN_DIR  # noqa: E402

import gitml  # noqa: E402
from gitml.usercache import cache_dir  # noqa: E402

SIZES = (100, 1000, 10000)
QUICK_SIZES = (100, 1000)
REPEATS = 5
QUICK_REPEATS = 3
GTO_SLOW_REPEATS = 3  # at most this many timed GTO runs where one run takes seconds
GTO_SLOW_S = 5.0  # a GTO warm-up run longer than this counts as slow
GTO_TIMEOUT_S = 600.0
GOAL_SPEEDUP = 100.0
GOAL_SPEEDUP_AT = 1000
GOAL_MARGIN_S = 0.050
GROWTH_TOLERANCE = 1.25  # a time ratio up to this between the sizes counts as not growing

PYTHON = str(BIN_DIR / "python")
GITML = str(BIN_DIR / "gitml")
GTO = str(BIN_DIR / "gto")

MODEL = "credit"
ARTIFACT = "models/credit.skops"
STAGING_EVERY = 2
PRODUCTION_EVERY = 10
EPOCH = 1_700_000_000  # the first commit's time; every tag is one second after the last
AUTHOR = "Ada Tester <ada@example.com>"
WRITER = "gitml 0.1.0"

GITML_YAML = """\
models:
  credit:
    artifact: models/credit.skops
    metrics: [metrics/credit.json]
stages: [staging, production]
stage_branch: "{stage}"
"""

PARAMS_YAML = "train:\n  learning_rate: 0.06\n  max_depth: 6\n"

DVC_LOCK = """\
schema: '2.0'
stages:
  train:
    cmd: credit-example train
    params:
      params.yaml:
        train.learning_rate: 0.06
    outs:
    - path: models/credit.skops
      hash: md5
      md5: {md5}
      size: 1000
"""

# The floor. One `git for-each-ref` (tag messages included), parsed with str methods:
# registrations give versions and their commits, `#stage#n` tags the assignments, the
# latest assignment per stage (tagger time, then n) its holder. Modes print what the
# compared command prints: the overview, one stage's version, or every event in order.
FLOOR_SCRIPT = r"""
import subprocess, sys

mode, model = sys.argv[1], sys.argv[2]
fmt = "%(refname)%00%(*objectname)%00%(objectname)%00%(taggerdate:unix)%00%(contents)%00%1f"
out = subprocess.run(["git", "for-each-ref", "--format=" + fmt, "refs/tags", "refs/heads"],
                     capture_output=True, check=True).stdout.decode()
versions, by_commit, assignments, branches = {}, {}, [], {}
for record in out.split("\0\x1f\n"):
    if not record:
        continue
    ref, peeled, target, when, message = record.split("\0")
    if ref.startswith("refs/heads/"):
        branches[ref[11:]] = target
        continue
    name = ref[10:]
    if name.startswith(model + "@v"):
        version = name[len(model) + 1:]
        fields = dict(l.split(": ", 1) for l in message.splitlines()[1:] if ": " in l)
        versions[version] = (peeled, int(when), fields)
        by_commit[peeled] = version
    elif name.startswith(model + "#") and name.count("#") == 2 and "!" not in name:
        _, stage, n = name.split("#")
        assignments.append((int(when), int(n), stage, peeled, name))
assignments.sort()
holders = {}
for when, n, stage, commit, name in assignments:
    holders[stage] = by_commit.get(commit, commit)
latest = max(versions, key=lambda v: tuple(int(p) for p in v[1:].split(".")))
if mode == "registry":
    cells = []
    for stage, version in holders.items():
        tip = by_commit.get(branches.get(stage, ""))
        cells.append(f"{stage}={version}" + ("" if tip in (None, version) else " (pending)"))
    print(model, latest, len(versions), *cells)
elif mode == "show":
    version = holders[sys.argv[3]]
    commit, when, fields = versions[version]
    print(model, version, commit, when, *(f"{k}={v}" for k, v in fields.items()))
else:
    events = [(when, 0, "registration", v, "-", c) for v, (c, when, _) in versions.items()]
    events += [(w, n, "promotion", by_commit.get(c, c), s, c) for w, n, s, c, _ in assignments]
    for when, n, kind, version, stage, commit in sorted(events):
        print(when, kind, version, stage, commit[:12])
"""

# A `git` first on PATH that logs its arguments, then runs the real git.
GIT_SHIM = """\
#!/bin/sh
printf '%s\\n' "$*" >> "$GITML_BENCH_GIT_LOG"
exec {git} "$@"
"""

# The gitml console script's work in one interpreter, timed from before the first gitml
# import; with a file name as first argument, under cProfile, its stats written there.
IMPORTS_MARK = "gitml-bench: imports from here"  # -X importtime lines after it are gitml's
RUN_SCRIPT = f"""\
import contextlib, io, sys, time
sys.stderr.write({IMPORTS_MARK!r} + "\\n")
start = time.perf_counter()
profile = None
if sys.argv[1] != "-":
    import cProfile
    profile = cProfile.Profile()
    profile.enable()
from gitml.cli.main import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main(sys.argv[2:])
if profile is not None:
    profile.disable()
    profile.dump_stats(sys.argv[1])
print("TOTAL", time.perf_counter() - start, code)
"""


@dataclass(frozen=True)
class Command:
    """One timed subprocess; its checked run's stdout must hold every ``expect`` string."""

    label: str
    argv: tuple[str, ...]
    expect: tuple[str, ...] = ()
    reject: tuple[str, ...] = ()


@dataclass(frozen=True)
class Pair:
    """A gitml command, the GTO command it replaces and the floor for the same question."""

    key: str
    title: str
    gitml: Command
    gto: Command
    floor: Command


@dataclass(frozen=True)
class Synthetic:
    """What a synthetic repository holds, to check the commands' answers against."""

    versions: int
    tags: int
    latest: str
    holders: dict[str, str]  # stage -> version
    md5s: dict[str, str]  # version -> artefact md5


@dataclass
class SizeResult:
    """Medians per pair and tool (math.inf: timed out; missing: not run)."""

    synthetic: Synthetic
    seconds: dict[str, dict[str, float]]
    gto_runs: dict[str, int]
    git_calls: dict[str, list[str]]  # every cache empty
    git_calls_warm: dict[str, list[str]]  # memo filled


# ---------------------------------------------------------------------------------------
# Running and timing
# ---------------------------------------------------------------------------------------


def run(
    argv: tuple[str, ...],
    cwd: Path,
    *,
    capture: bool = True,
    timeout: float | None = None,
    env: dict[str, str] | None = None,
) -> tuple[float, str]:
    """Run ``argv``; return (wall seconds, stdout). math.inf seconds when it timed out.

    The command gets its own process group, so a timeout ends it and its children.
    A failure stops the benchmark with the command's stderr.
    """
    start = time.perf_counter()
    process = subprocess.Popen(
        argv,
        cwd=cwd,
        stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return math.inf, ""
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        message = stderr.decode("utf-8", errors="replace").strip()[-3000:]
        raise SystemExit(f"{shlex.join(argv)} exited {process.returncode} in {cwd}:\n{message}")
    return seconds, (stdout or b"").decode("utf-8", errors="replace")


def check_output(command: Command, output: str) -> None:
    """Stop the benchmark when a command's answer is not the expected one."""
    missing = [text for text in command.expect if text not in output]
    found = [text for text in command.reject if text in output]
    if missing or found:
        raise SystemExit(
            f"{command.label}: expected {missing!r} in its output and not {found!r}; got:\n"
            f"{output[:2000]}"
        )


def checked_run(command: Command, cwd: Path, timeout: float | None = None) -> float:
    """One run whose output is checked (unless it timed out); its wall seconds."""
    seconds, output = run(command.argv, cwd, timeout=timeout)
    if seconds != math.inf:
        check_output(command, output)
    return seconds


def format_table(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """Plain-text table: first column left-aligned, the others right-aligned."""
    widths = [max(len(row[i]) for row in (headers, *rows)) for i in range(len(headers))]

    def line(cells: tuple[str, ...]) -> str:
        first = cells[0].ljust(widths[0])
        rest = (cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True))
        return "  ".join((first, *rest)).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join((line(headers), rule, *(line(row) for row in rows)))


def seconds_cell(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds == math.inf:
        return f"> {GTO_TIMEOUT_S:.0f} s"
    return f"{seconds:.3f}"


# ---------------------------------------------------------------------------------------
# The synthetic repository
# ---------------------------------------------------------------------------------------


def version_name(index: int) -> str:
    return f"v0.{index}.0"


def artefact_md5(index: int) -> str:
    return hashlib.md5(f"{MODEL}-{index}".encode(), usedforsecurity=False).hexdigest()


def promotions(index: int) -> list[str]:
    """The stages version ``index`` is promoted to, in the order the tags are made."""
    stages = []
    if index % STAGING_EVERY == 0:
        stages.append("staging")
    if index % PRODUCTION_EVERY == 0:
        stages.append("production")
    return stages


class FastImport:
    """A ``git fast-import`` process fed one stream; ``mark_sha`` asks it for a commit's sha."""

    def __init__(self, repo: Path):
        self.process = subprocess.Popen(
            ["git", "fast-import", "--quiet", "--done"],
            cwd=repo,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.stdin = self.process.stdin
        self.stdout = self.process.stdout

    def line(self, text: str) -> None:
        self.stdin.write(text.encode("utf-8") + b"\n")

    def data(self, text: str) -> None:
        payload = text.encode("utf-8")
        self.stdin.write(b"data %d\n" % len(payload) + payload + b"\n")

    def file(self, path: str, text: str) -> None:
        self.line(f"M 100644 inline {path}")
        self.data(text)

    def mark_sha(self, mark: int) -> str:
        self.line(f"get-mark :{mark}")
        self.stdin.flush()
        return self.stdout.readline().decode("ascii").strip()

    def finish(self) -> None:
        self.line("done")
        self.stdin.close()
        if self.process.wait() != 0:
            raise SystemExit("git fast-import failed")


def build_repo(repo: Path, versions: int) -> Synthetic:
    """One commit per version on ``main``, GTO-style tags, stage branches at the holders."""
    repo.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    stream = FastImport(repo)
    clock = EPOCH
    counter = 0
    holders: dict[str, int] = {}
    md5s: dict[str, str] = {}
    for index in range(1, versions + 1):
        version, md5 = version_name(index), artefact_md5(index)
        md5s[version] = md5
        stream.line("commit refs/heads/main")
        stream.line(f"mark :{index}")
        stream.line(f"author {AUTHOR} {clock} +0000")
        stream.line(f"committer {AUTHOR} {clock} +0000")
        stream.data(f"Train {MODEL} ({index})\n")
        if index == 1:
            stream.file("gitml.yaml", GITML_YAML)
            stream.file("params.yaml", PARAMS_YAML)
        stream.file("dvc.lock", DVC_LOCK.format(md5=md5))
        roc_auc = 0.8 + (index % 1000) / 10000
        stream.file("metrics/credit.json", json.dumps({"roc_auc": roc_auc, "run": index}) + "\n")
        sha = stream.mark_sha(index)
        stream.line(f"tag {MODEL}@{version}")
        stream.line(f"from :{index}")
        stream.line(f"tagger {AUTHOR} {clock} +0000")
        stream.data(
            f"Register {MODEL} {version}\n\nartifact: {ARTIFACT}\nmd5: {md5}\n"
            f"commit: {sha}\nregistered-by: {WRITER}\n"
        )
        for stage in promotions(index):
            clock += 1
            counter += 1
            holders[stage] = index
            stream.line(f"tag {MODEL}#{stage}#{counter}")
            stream.line(f"from :{index}")
            stream.line(f"tagger {AUTHOR} {clock} +0000")
            stream.data(
                f"Promote {MODEL} {version} to {stage}\n\nversion: {version}\nmd5: {md5}\n"
                f"stage: {stage}\npromoted-by: {WRITER}\n"
            )
        clock += 1
    for stage, index in holders.items():
        stream.line(f"reset refs/heads/{stage}")
        stream.line(f"from :{index}")
        stream.line("")
    stream.finish()
    subprocess.run(["git", "reset", "-q", "--hard"], cwd=repo, check=True)
    # Refs packed, as `git clone` and `git gc` leave them; fast-import leaves one loose file
    # per tag, which makes every `for-each-ref` (gitml's, GTO's and the floor's) read them all.
    subprocess.run(["git", "pack-refs", "--all"], cwd=repo, check=True)
    return Synthetic(
        versions=versions,
        tags=versions + counter,
        latest=version_name(versions),
        holders={stage: version_name(index) for stage, index in holders.items()},
        md5s=md5s,
    )


def verify_repo(repo: Path, synthetic: Synthetic) -> None:
    """The repository has every tag and its stage branches point at the holders."""
    _, listing = run(("git", "for-each-ref", "--format=%(refname)", "refs/tags"), repo)
    count = len(listing.splitlines())
    if count != synthetic.tags:
        raise SystemExit(f"{repo}: {count} tags, expected {synthetic.tags}")
    for stage, version in synthetic.holders.items():
        _, tip = run(("git", "rev-parse", stage), repo)
        _, tagged = run(("git", "rev-parse", f"{MODEL}@{version}^{{commit}}"), repo)
        if tip.strip() != tagged.strip():
            raise SystemExit(f"{repo}: branch {stage} is not at {MODEL}@{version}")


def agreement_check(repo: Path, synthetic: Synthetic) -> None:
    """``gitml registry --json`` and ``gto show --json`` agree on latest and the stages."""
    _, gitml_out = run((GITML, "registry", "--local", "--json"), repo)
    _, gto_out = run((GTO, "show", "--json"), repo)
    row = next(r for r in json.loads(gitml_out) if r["model"] == MODEL)
    gitml_view = {"latest": row["latest"]} | {s["stage"]: s["version"] for s in row["stages"]}
    gto_view = gto_summary(json.loads(gto_out))
    expected = {"latest": synthetic.latest, **synthetic.holders}
    pending = [s["stage"] for s in row["stages"] if s["pending"]]
    agree = gitml_view == gto_view == expected and not pending
    print(f"check ({synthetic.versions:,} versions): gitml {gitml_view}")
    print(f"{'':>{len(f'check ({synthetic.versions:,} versions):')}} gto   {gto_view}")
    print(f"  expected {expected}; pending stages in gitml: {pending or 'none'}")
    print(f"  gitml and gto agree: {'yes' if agree else 'NO'}")


def gto_summary(data: object) -> dict[str, str | None]:
    """Latest version and stage holders of the model from ``gto show --json``.

    GTO prints ``{"credit": {"version": ..., "stage": {"staging": ...}}}`` or a list of
    rows with ``name``, ``latest`` and one column per stage, depending on the version.
    """
    if isinstance(data, dict) and MODEL in data:
        entry = data[MODEL]
        stages = entry.get("stage") or {}
        return {"latest": entry.get("version")} | {
            stage: (value if isinstance(value, str) else None) for stage, value in stages.items()
        }
    if isinstance(data, list):
        for row in data:
            if row.get("name") == MODEL:
                values = {k.lstrip("#"): v for k, v in row.items() if k not in ("name", "latest")}
                return {"latest": row.get("latest")} | values
    raise SystemExit(f"cannot read gto show --json: {json.dumps(data)[:500]}")


# ---------------------------------------------------------------------------------------
# The commands
# ---------------------------------------------------------------------------------------


def pairs_for(synthetic: Synthetic) -> list[Pair]:
    latest = synthetic.latest
    production = synthetic.holders["production"]
    staging = synthetic.holders["staging"]
    return [
        Pair(
            "registry",
            "registry overview: gitml registry vs gto show",
            Command(
                "gitml registry --local",
                (GITML, "registry", "--local"),
                (latest, staging, production),
                ("pending",),
            ),
            # gto show's table cuts every version to 7 characters, as if it were a sha.
            Command("gto show", (GTO, "show"), (latest[:7], staging[:7], production[:7])),
            Command(
                "floor registry",
                (PYTHON, "-c", FLOOR_SCRIPT, "registry", MODEL),
                (latest, f"staging={staging}", f"production={production}"),
                ("pending",),
            ),
        ),
        Pair(
            "show",
            "stage lookup: gitml show credit@production vs gto show credit#production",
            Command(
                "gitml show credit@production --local",
                (GITML, "show", f"{MODEL}@production", "--local"),
                (production, synthetic.md5s[production]),
            ),
            Command(
                "gto show credit#production", (GTO, "show", f"{MODEL}#production"), (production,)
            ),
            Command(
                "floor show",
                (PYTHON, "-c", FLOOR_SCRIPT, "show", MODEL, "production"),
                (production, synthetic.md5s[production]),
            ),
        ),
        Pair(
            "history",
            "history: gitml history credit vs gto history credit",
            Command(
                "gitml history credit --local",
                (GITML, "history", MODEL, "--local"),
                (latest, "promotion"),
            ),
            Command("gto history credit", (GTO, "history", MODEL), (latest,)),
            Command(
                "floor history",
                (PYTHON, "-c", FLOOR_SCRIPT, "history", MODEL),
                (latest, "promotion"),
            ),
        ),
    ]


def count_git_calls(command: Command, repo: Path, shim_dir: Path) -> list[str]:
    """The git command lines ``command`` ran, through the logging shim first on ``PATH``."""
    log = shim_dir / "calls.log"
    log.unlink(missing_ok=True)
    env = dict(os.environ)
    env["PATH"] = f"{shim_dir}{os.pathsep}{env['PATH']}"
    env["GITML_BENCH_GIT_LOG"] = str(log)
    run(command.argv, repo, env=env)
    return log.read_text().splitlines() if log.exists() else []


def write_shim(shim_dir: Path) -> None:
    real_git = shutil.which("git")
    if real_git is None:
        raise SystemExit("git not found on PATH")
    shim_dir.mkdir(parents=True)
    shim = shim_dir / "git"
    shim.write_text(GIT_SHIM.format(git=shlex.quote(real_git)))
    shim.chmod(0o755)


def gto_plan(size: int, quick: bool) -> str:
    """``repeat`` (warm-up, then timed runs), ``once`` (one checked run) or ``skip``."""
    if size <= 100:
        return "repeat"
    if size <= 1000:
        return "once" if quick else "repeat"
    return "skip" if quick else "once"


def measure_size(
    repo: Path, synthetic: Synthetic, repeats: int, plan: str, shim_dir: Path
) -> SizeResult:
    """Time every pair at one size; count gitml's git processes."""
    pairs = pairs_for(synthetic)
    git_calls: dict[str, list[str]] = {}
    git_calls_warm: dict[str, list[str]] = {}
    for pair in pairs:
        forget_answers(tag_objects=True)  # as in a fresh clone
        git_calls[pair.key] = count_git_calls(pair.gitml, repo, shim_dir)
        git_calls_warm[pair.key] = count_git_calls(pair.gitml, repo, shim_dir)
    gto_runs: dict[str, int] = {}
    for pair in pairs:
        checked_run(pair.gitml, repo)
        checked_run(pair.floor, repo)
        if plan == "repeat":
            warm = checked_run(pair.gto, repo, GTO_TIMEOUT_S)
            gto_runs[pair.key] = min(repeats, GTO_SLOW_REPEATS) if warm > GTO_SLOW_S else repeats
    samples: dict[str, dict[str, list[float]]] = {
        pair.key: {"gitml": [], "cold": [], "first": [], "gto": [], "floor": []} for pair in pairs
    }
    for round_index in range(repeats):
        for pair in pairs:
            # The cold run leaves the memo filled for the warm one; the floor runs between
            # them because straight after a cold run (which writes megabytes of cache at
            # 10,000 tags) any process here runs up to 30 ms slower.
            tools = [
                ("first", pair.gitml),
                ("cold", pair.gitml),
                ("floor", pair.floor),
                ("gitml", pair.gitml),
            ]
            if round_index < gto_runs.get(pair.key, 0):
                tools.append(("gto", pair.gto))
            for tool, command in tools:
                if tool in ("cold", "first"):
                    forget_answers(tag_objects=tool == "first")
                seconds, _ = run(command.argv, repo, capture=False, timeout=GTO_TIMEOUT_S)
                samples[pair.key][tool].append(seconds)
    seconds = {
        key: {tool: statistics.median(values) for tool, values in tools.items() if values}
        for key, tools in samples.items()
    }
    if plan == "once":
        for pair in pairs:
            print(f"  running {pair.gto.label} once at {synthetic.versions:,} versions ...")
            sys.stdout.flush()
            seconds[pair.key]["gto"] = checked_run(pair.gto, repo, GTO_TIMEOUT_S)
            gto_runs[pair.key] = 1
            took = seconds[pair.key]["gto"]
            print(f"    {seconds_cell(took)}{'' if took == math.inf else ' s'}")
    return SizeResult(synthetic, seconds, gto_runs, git_calls, git_calls_warm)


def forget_answers(*, tag_objects: bool = False) -> None:
    """Empty gitml's registry memo, and with ``tag_objects`` its tag cache and the digest
    it keeps of ``packed-refs`` (a fresh clone writes a new one).

    Its YAML and validation caches stay: a new tag or a fresh clone of a known project
    leaves them valid.
    """
    shutil.rmtree(cache_dir("registry"), ignore_errors=True)
    if tag_objects:
        shutil.rmtree(cache_dir("tags"), ignore_errors=True)
        shutil.rmtree(cache_dir("refs"), ignore_errors=True)


# ---------------------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------------------


def print_tables(results: dict[int, SizeResult], repeats: int) -> None:
    for pair in pairs_for(next(iter(results.values())).synthetic):
        print(f"\n-- {pair.title} --")
        rows = []
        for size, result in results.items():
            times = result.seconds[pair.key]
            gitml_s, floor_s, gto_s = times["gitml"], times["floor"], times.get("gto")
            cold_s, first_s = times["cold"], times["first"]
            ratio = "-" if gto_s is None else f"{gto_s / gitml_s:,.0f}x"
            if gto_s == math.inf:
                ratio = f"> {GTO_TIMEOUT_S / gitml_s:,.0f}x"
            runs = result.gto_runs.get(pair.key, 0)
            rows.append(
                (
                    f"{size:,}",
                    f"{result.synthetic.tags:,}",
                    f"{gitml_s:.3f}",
                    f"{cold_s:.3f}",
                    f"{first_s:.3f}",
                    seconds_cell(gto_s),
                    str(runs) if runs else "-",
                    f"{floor_s:.3f}",
                    ratio,
                    f"{(gitml_s - floor_s) * 1000:+.0f}",
                    f"{(cold_s - floor_s) * 1000:+.0f}",
                    f"{(first_s - floor_s) * 1000:+.0f}",
                )
            )
        print(
            format_table(
                (
                    "versions",
                    "tags",
                    "gitml s",
                    "cold s",
                    "first s",
                    "gto s",
                    "gto runs",
                    "floor s",
                    "gto/gitml",
                    "gitml-floor ms",
                    "cold-floor ms",
                    "first-floor ms",
                ),
                rows,
            )
        )
        print(
            f"(gitml: {pair.gitml.label}, warm; cold: its registry memo emptied first; first: "
            f"its tag cache and packed-refs digest too; gto: {pair.gto.label}; "
            f"medians of {repeats} runs)"
        )


def summarize_calls(calls: list[str]) -> str:
    names = [call.split()[0] if call.split() else "?" for call in calls]
    counts = {name: names.count(name) for name in dict.fromkeys(names)}
    return ", ".join(f"{name} x{count}" if count > 1 else name for name, count in counts.items())


def print_git_calls(results: dict[int, SizeResult]) -> None:
    print("\n-- git processes started by gitml (git shim first on PATH) --")
    keys = [pair.key for pair in pairs_for(next(iter(results.values())).synthetic)]
    for label, attribute in (("cold", "git_calls"), ("warm", "git_calls_warm")):
        rows = []
        for size, result in results.items():
            calls = getattr(result, attribute)
            cells = [f"{len(calls[key])} ({summarize_calls(calls[key])})" for key in keys]
            rows.append((f"{size:,}", *cells))
        print(format_table(("versions", *(f"gitml {key}, {label}" for key in keys)), rows))
    for key in keys:
        counts = {
            label: {len(getattr(result, attribute)[key]) for result in results.values()}
            for label, attribute in (("cold", "git_calls"), ("warm", "git_calls_warm"))
        }
        verdict = "PASS" if all(len(found) == 1 for found in counts.values()) else "FAIL"
        listed = "; ".join(
            f"{label} {', '.join(map(str, sorted(found)))}" for label, found in counts.items()
        )
        print(f"goal: gitml {key} starts a constant number of git processes -> {listed}: {verdict}")


def print_goals(results: dict[int, SizeResult]) -> None:
    print("\n-- goals --")
    sizes = list(results)
    pairs = pairs_for(results[sizes[0]].synthetic)
    for pair in pairs:
        if GOAL_SPEEDUP_AT not in results:
            print(f"goal: {GOAL_SPEEDUP:.0f}x faster than GTO: needs the {GOAL_SPEEDUP_AT:,} size")
            break
        times = results[GOAL_SPEEDUP_AT].seconds[pair.key]
        gto_s = times.get("gto")
        if gto_s is None:
            print(f"goal: {pair.gitml.label} vs {pair.gto.label}: GTO was not run")
            continue
        speedup = gto_s / times["gitml"]
        verdict = "PASS" if speedup >= GOAL_SPEEDUP else "FAIL"
        print(
            f"goal: {pair.gitml.label} at least {GOAL_SPEEDUP:.0f}x faster than "
            f"{pair.gto.label} at {GOAL_SPEEDUP_AT:,} versions -> {speedup:,.0f}x: {verdict}"
        )
    for pair in pairs:
        for tool in ("gitml", "cold", "first"):
            margins = {
                size: result.seconds[pair.key][tool] - result.seconds[pair.key]["floor"]
                for size, result in results.items()
            }
            verdict = "PASS" if all(m <= GOAL_MARGIN_S for m in margins.values()) else "FAIL"
            listed = ", ".join(f"{m * 1000:+.0f} ms at {s:,}" for s, m in margins.items())
            print(
                f"goal: {pair.gitml.label} ({'warm' if tool == 'gitml' else tool}) within "
                f"the floor + {GOAL_MARGIN_S * 1000:.0f} ms at every size -> {listed}: {verdict}"
            )
    low, high = sizes[0], sizes[-1]
    gitml_low, gitml_high = (results[s].seconds["show"]["gitml"] for s in (low, high))
    floor_low, floor_high = (results[s].seconds["show"]["floor"] for s in (low, high))
    ratio = gitml_high / gitml_low
    grows = ratio > GROWTH_TOLERANCE
    print(
        f"goal: stage lookup time does not grow with the number of versions -> "
        f"gitml show credit@production {gitml_low:.3f} s at {low:,}, {gitml_high:.3f} s at "
        f"{high:,}: x{ratio:.2f} ({(gitml_high - gitml_low) * 1000:+.0f} ms), "
        f"{'grows' if grows else 'does not grow'} (tolerance x{GROWTH_TOLERANCE}): "
        f"{'FAIL' if grows else 'PASS'}"
    )
    emptied = (("cold", "memo emptied"), ("first", "memo, tag and packed-refs caches emptied"))
    for tool, what in emptied:
        tool_low, tool_high = (results[s].seconds["show"][tool] for s in (low, high))
        print(
            f"  {tool} ({what}), the same lookup goes {tool_low:.3f} -> "
            f"{tool_high:.3f} s (x{tool_high / tool_low:.2f})"
        )
    print(
        f"  for reference the floor, which reads every tag, goes {floor_low:.3f} -> "
        f"{floor_high:.3f} s (x{floor_high / floor_low:.2f}) over the same sizes"
    )


def in_process(argv: tuple[str, ...], repo: Path) -> tuple[float, str] | None:
    """Run ``RUN_SCRIPT`` with ``argv``; its in-process seconds and its stderr.

    None, with the reason printed, when the run failed: the profile is a diagnostic, so
    it does not stop the benchmark after the timings have been printed.
    """
    result = subprocess.run(argv, cwd=repo, capture_output=True, text=True, check=False)
    totals = [line.split() for line in result.stdout.splitlines() if line.startswith("TOTAL")]
    if result.returncode != 0 or not totals or totals[0][2] != "0":
        reason = (result.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"  profile run failed (exit {result.returncode}): {reason}")
        return None
    return float(totals[0][1]), result.stderr


def top_level_imports(importtime: str) -> list[tuple[int, str]]:
    """(cumulative µs, module) of each top-level import in ``-X importtime`` output, after
    ``RUN_SCRIPT``'s mark (the interpreter's own start-up imports come before it)."""
    found = []
    lines = importtime.splitlines()
    if IMPORTS_MARK in lines:
        lines = lines[lines.index(IMPORTS_MARK) + 1 :]
    for line in lines:
        parts = line.split("|")
        if not line.startswith("import time:") or len(parts) != 3:
            continue
        cumulative, name = parts[1].strip(), parts[2]
        if cumulative.isdigit() and not name.startswith("  "):
            found.append((int(cumulative), name.strip()))
    return sorted(found, reverse=True)


STATES = ("warm", "cold")  # profiled: a repeated question, and one after a new tag


def prepare_state(state: str, pair: Pair, repo: Path) -> None:
    """Leave gitml's caches as ``state`` has them for ``pair``'s command."""
    if state == "warm":
        run(pair.gitml.argv, repo, capture=False)  # files the answer, if it was not
    else:
        forget_answers()


def profile_gitml(result: SizeResult, repo: Path, work: Path) -> None:
    """Where ``gitml``'s time goes: start-up, imports, then the work by function."""
    startup = statistics.median(run((PYTHON, "-c", "pass"), repo)[0] for _ in range(5))
    print(f"interpreter start-up (python -c pass): {startup * 1000:.0f} ms")
    for pair, state in ((pair, state) for pair in pairs_for(result.synthetic) for state in STATES):
        args = pair.gitml.argv[1:]
        prepare_state(state, pair, repo)
        timed = in_process((PYTHON, "-X", "importtime", "-c", RUN_SCRIPT, "-", *args), repo)
        if timed is None:
            continue
        total, importtime = timed
        imports = top_level_imports(importtime)
        import_s = sum(micros for micros, _ in imports) / 1e6
        median = result.seconds[pair.key]["gitml" if state == "warm" else state]
        print(
            f"\n{pair.gitml.label}, {state}: {median * 1000:.0f} ms wall (median above); "
            f"in-process {total * 1000:.0f} ms, of which imports {import_s * 1000:.0f} ms "
            "(-X importtime, which inflates them)"
        )
        slowest = ", ".join(f"{name} {micros / 1000:.0f}" for micros, name in imports[:6])
        print(f"  slowest top-level imports (cumulative ms): {slowest or 'none'}")
        stats_file = work / f"{pair.key}-{state}.prof"
        prepare_state(state, pair, repo)
        if in_process((PYTHON, "-c", RUN_SCRIPT, str(stats_file), *args), repo) is None:
            continue
        stream = io.StringIO()
        stats = pstats.Stats(str(stats_file), stream=stream)
        stats.sort_stats("cumulative").print_stats(r"gitml[/\\](?!cli[/\\]main)", 12)
        print("  gitml functions by cumulative time (cProfile on, which slows them):")
        listing = stream.getvalue().splitlines()
        header = next((i for i, line in enumerate(listing) if "ncalls" in line), len(listing))
        for line in listing[header:]:
            if line.strip():
                print(f"    {line.rstrip().replace(str(ROOT) + os.sep, '')[:140]}")


# ---------------------------------------------------------------------------------------


def write_gitconfig(home: Path) -> None:
    """A git identity and ``main`` as the default branch, in the isolated home."""
    home.mkdir(parents=True, exist_ok=True)
    (home / ".gitconfig").write_text(
        "[init]\n\tdefaultBranch = main\n[user]\n\tname = Ada Tester\n\temail = ada@example.com\n"
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--repeats", type=int, help=f"timed runs per command (default {REPEATS}; quick: 3)"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="3 repeats, 100 and 1,000 versions only, GTO once at 1,000 (smoke run)",
    )
    parser.add_argument(
        "--no-profile", action="store_true", help="skip the profile of gitml at the largest size"
    )
    parser.add_argument(
        "--gto-max",
        type=int,
        metavar="VERSIONS",
        help="run GTO only up to this many versions (its 10,000 runs take 30 minutes)",
    )
    args = parser.parse_args(argv)
    if args.repeats is not None and args.repeats < 1:
        parser.error("--repeats must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    repeats = args.repeats or (QUICK_REPEATS if args.quick else REPEATS)
    sizes = QUICK_SIZES if args.quick else SIZES
    for tool in (GITML, GTO):
        if not Path(tool).exists():
            raise SystemExit(f"{tool} not found: run with the project's venv python")
    started = time.perf_counter()
    saved = dict(os.environ)
    try:
        with tempfile.TemporaryDirectory(prefix="gitml-bench-registry-") as tmp:
            base_dir = Path(tmp)
            home = base_dir / "_home"
            write_gitconfig(home)
            os.environ.update(isolated_environment(home))
            shim_dir = base_dir / "_shim"
            write_shim(shim_dir)
            # Bytecode, as an installed package has it (PYTHONDONTWRITEBYTECODE may be set).
            package = Path(gitml.__file__).parent
            subprocess.run((PYTHON, "-m", "compileall", "-q", str(package)), check=True)
            print(
                f"gitml registry benchmark: {repeats} timed runs after one warm-up, medians; "
                f"sizes {', '.join(f'{s:,}' for s in sizes)} versions"
            )
            results: dict[int, SizeResult] = {}
            for size in sizes:
                print(f"\n== {size:,} versions ==")
                setup = time.perf_counter()
                repo = base_dir / f"versions-{size}"
                synthetic = build_repo(repo, size)
                verify_repo(repo, synthetic)
                print(
                    f"(built with one git fast-import stream in "
                    f"{time.perf_counter() - setup:.1f} s: {size:,} commits, "
                    f"{synthetic.tags:,} tags, latest {synthetic.latest}, "
                    f"staging {synthetic.holders['staging']}, "
                    f"production {synthetic.holders['production']})"
                )
                if size == sizes[0]:
                    agreement_check(repo, synthetic)
                plan = gto_plan(size, args.quick)
                if args.gto_max is not None and size > args.gto_max:
                    plan = "skip"
                timing = time.perf_counter()
                results[size] = measure_size(repo, synthetic, repeats, plan, shim_dir)
                print(f"(timed in {time.perf_counter() - timing:.1f} s; GTO: {plan})")
            print("\n== results ==")
            print_tables(results, repeats)
            print_git_calls(results)
            print_goals(results)
            if not args.no_profile:
                largest = sizes[-1]
                print(f"\n== where gitml's time goes at {largest:,} versions ==")
                profile_gitml(results[largest], base_dir / f"versions-{largest}", base_dir)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    print(f"\ntotal wall time: {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
