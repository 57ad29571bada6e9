"""Benchmark: reading the registry with gitml against GTO, on synthetic repositories.

    .venv/bin/python bench/registry.py [--repeats N] [--quick] [--gto-max N] [--before SRC]

At 100, 1,000 and 10,000 versions it times ``gitml registry``, ``gitml show
credit@production`` and ``gitml history credit`` against ``gto show``, ``gto show
credit#production`` and ``gto history credit`` and against a plain-Python floor, gitml
cold (its tag cache filled) and first (that cache emptied, as in a fresh clone);
``--before SRC`` adds an older checkout's gitml. It counts gitml's git processes and
says PASS or FAIL against the goals. bench/README.md describes it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.conftest import isolated_environment  # noqa: E402
from tests.helpers import BIN_DIR  # noqa: E402

import gitml  # noqa: E402
from gitml.registry.record import Kind, Record, record_message  # noqa: E402
from gitml.usercache import NO_CACHE_VARIABLE, cache_dir  # noqa: E402

SIZES = (100, 1000, 10000)
QUICK_SIZES = (100, 1000)
REPEATS = 5
QUICK_REPEATS = 3
GTO_SLOW_REPEATS = 3  # at most this many timed GTO runs at 1,000 versions (seconds each)
GTO_TIMEOUT_S = 600.0
GOAL_SPEEDUP = 100.0
GOAL_SPEEDUP_AT = 1000
GOAL_MARGIN_S = {100: 0.050, 1000: 0.050, 10000: 0.100}  # above the floor, by versions
MODES = ("cold", "first")  # gitml's tag cache filled; emptied before the run

PYTHON = str(BIN_DIR / "python")
GITML = str(BIN_DIR / "gitml")
GTO = str(BIN_DIR / "gto")
# What the `gitml` console script runs; with --before, the older code comes from PYTHONPATH.
BEFORE_SCRIPT = "import sys; from gitml.cli.main import main; sys.exit(main())"

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

Env = tuple[tuple[str, str], ...]  # variables set on top of the benchmark's environment


@dataclass(frozen=True)
class Command:
    """A subprocess; a checked run's stdout holds every ``expect`` string, no ``reject``."""

    label: str
    argv: tuple[str, ...]
    expect: tuple[str, ...] = ()
    reject: tuple[str, ...] = ()
    env: Env = ()


Pairs = dict[str, dict[str, Command]]  # registry/show/history -> gitml/gto/floor/before


@dataclass(frozen=True)
class Synthetic:
    """What a synthetic repository holds, to check the commands' answers against."""

    tags: int
    latest: str
    holders: dict[str, str]  # stage -> version
    md5s: dict[str, str]  # version -> artefact md5


@dataclass(frozen=True)
class SizeResult:
    tags: int
    seconds: dict[str, dict[str, float]]  # pair -> cold/first/floor/before/gto: median
    gto_runs: int
    git_calls: dict[str, dict[str, list[str]]]  # cold/first -> pair -> git command lines


def run(
    argv: tuple[str, ...], cwd: Path, *, capture: bool = True, timeout: float = 0, env: Env = ()
) -> tuple[float, str]:
    """Run ``argv`` in its own process group (a timeout kills its children too); return
    (wall seconds, stdout), math.inf seconds on a timeout. A failure stops the benchmark."""
    start = time.perf_counter()
    process = subprocess.Popen(
        argv,
        cwd=cwd,
        stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, **dict(env)} if env else None,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout or None)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return math.inf, ""
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        message = stderr.decode("utf-8", errors="replace").strip()[-3000:]
        raise SystemExit(f"{shlex.join(argv)} exited {process.returncode} in {cwd}:\n{message}")
    return seconds, (stdout or b"").decode("utf-8", errors="replace")


def checked_run(command: Command, cwd: Path, timeout: float = 0) -> float:
    """One run whose answer is checked (unless it timed out); its wall seconds."""
    seconds, output = run(command.argv, cwd, timeout=timeout, env=command.env)
    missing = [text for text in command.expect if text not in output]
    found = [text for text in command.reject if text in output]
    if seconds != math.inf and (missing or found):
        raise SystemExit(f"{command.label}: no {missing!r} or {found!r} in:\n{output[:2000]}")
    return seconds


# --- The synthetic repository ----------------------------------------------------------


def data(text: str) -> str:
    """A fast-import ``data`` command (the length is in bytes) holding ``text``."""
    return f"data {len(text.encode())}\n{text}\n"


def tag_message(index: int, commit: str, md5: str, stage: str | None) -> str:
    """The message gitml itself writes on a registration (no stage) or a promotion."""
    version = f"v0.{index}.0"
    if stage is None:
        record = Record(
            Kind.REGISTRATION,
            MODEL,
            version,
            md5=md5,
            artifact=ARTIFACT,
            commit=commit,
            writer=WRITER,
        )
        return record_message(f"Register {MODEL} {version}", record)
    record = Record(Kind.PROMOTION, MODEL, version, stage=stage, md5=md5, writer=WRITER)
    return record_message(f"Promote {MODEL} {version} to {stage}", record)


def build_repo(repo: Path, versions: int) -> Synthetic:
    """One commit per version on ``main``, GTO-style tags, stage branches at the holders.

    Two fast-import streams: the commits, then the tags, whose messages name their commit.
    """
    repo.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    clock, counter, commits = EPOCH, 0, []
    tags: list[tuple[str, int, int, str | None]] = []  # name, version index, tagger time, stage
    holders: dict[str, int] = {}
    md5s: dict[str, str] = {}
    for index in range(1, versions + 1):
        version = f"v0.{index}.0"
        md5 = md5s[version] = hashlib.md5(f"{MODEL}-{index}".encode()).hexdigest()
        metrics = json.dumps({"roc_auc": 0.8 + (index % 1000) / 10000, "run": index}) + "\n"
        files = {"dvc.lock": DVC_LOCK.format(md5=md5), "metrics/credit.json": metrics}
        if index == 1:
            files = {"gitml.yaml": GITML_YAML, "params.yaml": PARAMS_YAML, **files}
        subject = f"Train {MODEL} ({index})\n"
        commits.append(
            f"commit refs/heads/main\nmark :{index}\nauthor {AUTHOR} {clock} +0000\n"
            f"committer {AUTHOR} {clock} +0000\n{data(subject)}"
            + "".join(f"M 100644 inline {path}\n{data(text)}" for path, text in files.items())
        )
        tags.append((f"{MODEL}@{version}", index, clock, None))
        staging, production = index % STAGING_EVERY == 0, index % PRODUCTION_EVERY == 0
        for stage in ["staging"] * staging + ["production"] * production:
            clock, counter, holders[stage] = clock + 1, counter + 1, index
            tags.append((f"{MODEL}#{stage}#{counter}", index, clock, stage))
        clock += 1
    marks = repo / ".git" / "bench-marks"

    def fast_import(option: str, stream: list[str]) -> None:
        command = ["git", "fast-import", "--quiet", f"{option}={marks}"]
        subprocess.run(command, cwd=repo, input="".join(stream).encode(), check=True)

    fast_import("--export-marks", commits)
    commit_of = dict(line.split() for line in marks.read_text().splitlines())  # ":1" -> sha
    stream = [
        f"tag {name}\nfrom :{index}\ntagger {AUTHOR} {when} +0000\n"
        + data(tag_message(index, commit_of[f":{index}"], md5s[f"v0.{index}.0"], stage))
        for name, index, when, stage in tags
    ]
    stream += [f"reset refs/heads/{stage}\nfrom :{index}\n\n" for stage, index in holders.items()]
    fast_import("--import-marks", stream)
    subprocess.run(["git", "reset", "-q", "--hard"], cwd=repo, check=True)
    # Refs packed, as `git clone` and `git gc` leave them; fast-import leaves one loose file
    # per tag, which makes every `for-each-ref` (gitml's, GTO's and the floor's) read them all.
    subprocess.run(["git", "pack-refs", "--all"], cwd=repo, check=True)
    holder_names = {stage: f"v0.{index}.0" for stage, index in holders.items()}
    return Synthetic(len(tags), f"v0.{versions}.0", holder_names, md5s)


def verify_repo(repo: Path, synthetic: Synthetic) -> None:
    """The repository has every tag and its stage branches point at the holders."""
    _, listing = run(("git", "for-each-ref", "--format=%(refname)", "refs/tags"), repo)
    if len(listing.splitlines()) != synthetic.tags:
        raise SystemExit(f"{repo}: {len(listing.splitlines())} tags, not {synthetic.tags}")
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
    entry = json.loads(gto_out)[MODEL]  # {"version": ..., "stage": {stage: version}, ...}
    gto_view = {"latest": entry["version"]} | entry["stage"]
    expected = {"latest": synthetic.latest, **synthetic.holders}
    pending = [s["stage"] for s in row["stages"] if s["pending"]]
    agree = gitml_view == gto_view == expected and not pending
    print(f"check: gitml {gitml_view}, gto {gto_view}, expected {expected}")
    print(f"  pending stages in gitml: {pending or 'none'}; all agree: {'yes' if agree else 'NO'}")


# --- The commands and their timing -----------------------------------------------------


def pairs_for(synthetic: Synthetic, before_env: Env | None) -> Pairs:
    """Per question, its commands, each with what it must print for ``synthetic``."""
    latest, md5s = synthetic.latest, synthetic.md5s
    staging, production = synthetic.holders["staging"], synthetic.holders["production"]
    questions = {  # gitml's and GTO's arguments, what gitml (and the floor) print
        "registry": (("registry",), ("show",), (latest, staging, production)),
        "show": (("show", f"{MODEL}@production"), ("show", f"{MODEL}#production"), (production,)),
        "history": (
            ("history", MODEL),
            ("history", MODEL),
            (latest, "promot"),
        ),  # "promoted to" now, "promotion" before
    }
    pairs: Pairs = {}
    for key, (gitml_args, gto_args, expect) in questions.items():
        args, label = (*gitml_args, "--local"), " ".join(("gitml", *gitml_args, "--local"))
        # gto show's table cuts every version to 7 characters, as if it were a sha.
        expect_gto = tuple(v[:7] for v in expect) if key == "registry" else expect[:1]
        expect += (md5s[production],) if key == "show" else ()
        reject = ("pending",) if key == "registry" else ()
        floor = (PYTHON, "-c", FLOOR_SCRIPT, key, MODEL, *(["production"] if key == "show" else []))
        pairs[key] = {
            "gitml": Command(label, (GITML, *args), expect, reject),
            "gto": Command(" ".join(("gto", *gto_args)), (GTO, *gto_args), expect_gto),
            "floor": Command(f"floor {key}", floor, expect, reject),
        }
        if before_env is not None:
            before = (PYTHON, "-c", BEFORE_SCRIPT, *args)
            pairs[key]["before"] = Command(f"before: {label}", before, expect, reject, before_env)
    return pairs


def measure(repo: Path, tags: int, pairs: Pairs, repeats: int, gto_runs: int) -> SizeResult:
    """Time every pair at one size, the commands taking turns; count gitml's git processes."""
    shim, log = repo.parent / "_shim", repo.parent / "_shim" / "calls.log"
    path = f"{shim}{os.pathsep}{os.environ['PATH']}"
    logged = (("PATH", path), ("GITML_BENCH_GIT_LOG", str(log)))
    git_calls: dict[str, dict[str, list[str]]] = {"first": {}, "cold": {}}
    for key, commands in pairs.items():
        shutil.rmtree(cache_dir("tags"), ignore_errors=True)
        for mode in ("first", "cold"):  # the first run fills the tag cache for the second
            log.unlink(missing_ok=True)
            run(commands["gitml"].argv, repo, env=logged)
            git_calls[mode][key] = log.read_text().splitlines() if log.exists() else []
        for tool in ("gitml", "floor", "before"):  # warm-up runs, answers checked
            if command := commands.get(tool):
                checked_run(command, repo)
    samples: dict[str, dict[str, list[float]]] = {key: defaultdict(list) for key in pairs}
    for round_index in range(repeats):
        for key, commands in pairs.items():
            for column, tool in (("cold", "gitml"), ("floor", "floor"), ("before", "before")):
                if command := commands.get(tool):
                    seconds, _ = run(command.argv, repo, capture=False, env=command.env)
                    samples[key][column].append(seconds)
            shutil.rmtree(cache_dir("tags"), ignore_errors=True)  # as in a fresh clone
            samples[key]["first"].append(run(commands["gitml"].argv, repo, capture=False)[0])
            os.sync()  # the tag cache it wrote goes to disk now, not while the next one runs
            if round_index < gto_runs:  # every GTO run is checked: it is slow anyway
                samples[key]["gto"].append(checked_run(commands["gto"], repo, GTO_TIMEOUT_S))
    seconds = {k: {c: statistics.median(v) for c, v in by.items()} for k, by in samples.items()}
    return SizeResult(tags, seconds, min(gto_runs, repeats), git_calls)


# --- Reporting -------------------------------------------------------------------------


def format_table(headers: list[str], rows: list[list[str]]) -> str:
    """Plain-text table: first column left-aligned, the others right-aligned."""
    widths = [max(len(row[i]) for row in (headers, *rows)) for i in range(len(headers))]

    def line(cells: list[str]) -> str:
        rest = (cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True))
        return "  ".join((cells[0].ljust(widths[0]), *rest)).rstrip()

    return "\n".join((line(headers), "  ".join("-" * w for w in widths), *map(line, rows)))


def seconds_cell(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"> {GTO_TIMEOUT_S:.0f} s" if seconds == math.inf else f"{seconds:.3f}"


def ratio_cell(numerator: float | None, denominator: float) -> str:
    """``numerator / denominator``; ``-`` when not timed, a bound when GTO timed out."""
    if numerator is None or numerator == math.inf:
        return "-" if numerator is None else f"> {GTO_TIMEOUT_S / denominator:,.0f}x"
    ratio = numerator / denominator
    return f"{ratio:,.0f}x" if ratio >= 10 else f"{ratio:.2f}x"


NOTE = (
    "cold: gitml, its tag cache filled; first: the same, that cache emptied before each run;"
    "\nfloor: python -c, one git for-each-ref, parsed"
)
BEFORE_NOTE = (
    ";\nbefore: the same command from --before's code, its own caches as its repeated runs "
    "leave them: for code that keeps answers, its warm best case"
)


def print_tables(results: dict[int, SizeResult], pairs: Pairs, repeats: int) -> None:
    headers = ["versions", "tags", "cold s", "first s", "before s", "gto s", "gto runs"]
    headers += ["floor s", "gto/cold", "before/cold", "cold-floor ms", "first-floor ms"]
    shown = [i for i, h in enumerate(headers) if "before" in pairs["show"] or "before" not in h]
    for key, commands in pairs.items():
        rows = []
        for size, result in results.items():
            times = result.seconds[key]
            cold, first, floor = times["cold"], times["first"], times["floor"]
            gto, before = times.get("gto"), times.get("before")
            row = [f"{size:,}", f"{result.tags:,}", f"{cold:.3f}", f"{first:.3f}"]
            row += [seconds_cell(before), seconds_cell(gto), str(result.gto_runs if gto else "-")]
            row += [f"{floor:.3f}", ratio_cell(gto, cold), ratio_cell(before, cold)]
            row += [f"{(cold - floor) * 1000:+.0f}", f"{(first - floor) * 1000:+.0f}"]
            rows.append([row[i] for i in shown])
        print(f"\n-- {commands['gitml'].label} vs {commands['gto'].label} --")
        print(format_table([headers[i] for i in shown], rows))
        print(f"(medians of {repeats} runs; {NOTE}{BEFORE_NOTE if 'before' in commands else ''})")


def describe_calls(calls: list[str]) -> str:
    names = [call.split()[0] for call in calls]
    counts = {name: names.count(name) for name in dict.fromkeys(names)}
    listed = ", ".join(f"{name} x{n}" if n > 1 else name for name, n in counts.items())
    return f"{len(calls)} ({listed})"


def goal(text: str, met: bool) -> None:
    print(f"goal: {text}: {'PASS' if met else 'FAIL'}")


def print_goals(results: dict[int, SizeResult], pairs: Pairs) -> None:
    print("\n-- git processes started by gitml (git shim first on PATH) --")
    for mode in ("first", "cold"):
        rows = [
            [f"{s:,}", *map(describe_calls, r.git_calls[mode].values())] for s, r in results.items()
        ]
        print(format_table(["versions", *(f"gitml {key}, {mode}" for key in pairs)], rows))
    print("\n-- goals --")
    for key, commands in pairs.items():
        label, gto = commands["gitml"].label, commands["gto"].label
        counts = {m: sorted({len(r.git_calls[m][key]) for r in results.values()}) for m in MODES}
        listed = "; ".join(f"{m} {', '.join(map(str, n))}" for m, n in counts.items())
        met = all(len(n) == 1 for n in counts.values())
        goal(f"{label} starts as many git processes at every size -> {listed}", met)
        text = f"{label} (cold) {GOAL_SPEEDUP:.0f}x faster than {gto} at {GOAL_SPEEDUP_AT:,}"
        times = results[GOAL_SPEEDUP_AT].seconds[key] if GOAL_SPEEDUP_AT in results else {}
        if "gto" in times:
            speedup = times["gto"] / times["cold"]
            goal(f"{text} versions -> {speedup:,.0f}x", speedup >= GOAL_SPEEDUP)
        else:
            print(f"goal: {text} versions: GTO not timed there")
        for mode in MODES:
            margins = {
                s: r.seconds[key][mode] - r.seconds[key]["floor"] for s, r in results.items()
            }
            listed = ", ".join(f"{m * 1000:+.0f} ms at {s:,}" for s, m in margins.items())
            met = all(margin <= GOAL_MARGIN_S[size] for size, margin in margins.items())
            goal(f"{label} ({mode}) within the floor + 50 ms, + 100 ms at 10,000 -> {listed}", met)


# ---------------------------------------------------------------------------------------


def prepare(base_dir: Path, before: Path | None) -> Env | None:
    """Isolate the environment, write the git shim, byte-compile; check ``--before``, whose
    code gets a cache directory of its own (emptying the tag cache for "first" spares it)."""
    (base_dir / "_home").mkdir()
    os.environ.update(isolated_environment(base_dir / "_home"))
    os.environ.pop(NO_CACHE_VARIABLE, None)  # the tag cache on, as users have it
    shim = base_dir / "_shim" / "git"
    shim.parent.mkdir()
    shim.write_text(GIT_SHIM.format(git=shlex.quote(shutil.which("git") or "git")))
    shim.chmod(0o755)
    # Bytecode, as an installed package has it (PYTHONDONTWRITEBYTECODE may be set).
    for package in (Path(gitml.__file__).parent, *([before / "gitml"] if before else [])):
        subprocess.run((PYTHON, "-m", "compileall", "-q", str(package)), check=True)
    if before is None:
        return None
    env = (("PYTHONPATH", str(before)), ("XDG_CACHE_HOME", str(base_dir / "_before-cache")))
    _, found = run((PYTHON, "-c", "import gitml; print(gitml.__file__)"), base_dir, env=env)
    module = Path(found.strip()).resolve()
    if not module.is_relative_to(before):
        raise SystemExit(f"--before {before}: python imports gitml from {module}, not from it")
    same = module.parent == Path(gitml.__file__).resolve().parent
    print(f"before: gitml from {module.parent}{' (the installed code itself)' if same else ''}")
    return env


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--repeats", type=int, help=f"timed runs per command (default {REPEATS}; quick: 3)")
    add("--quick", action="store_true", help="100 and 1,000 versions, 3 runs, GTO once at 1,000")
    add("--gto-max", type=int, metavar="N", help="GTO only up to N versions (10,000: 30 min)")
    add("--before", type=Path, metavar="SRC", help="an older checkout's src: time it too")
    args = parser.parse_args(argv)
    if args.repeats is not None and args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.before and not (args.before / "gitml" / "cli" / "main.py").is_file():
        parser.error(f"--before {args.before}: no gitml/cli/main.py in it")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    repeats = args.repeats or (QUICK_REPEATS if args.quick else REPEATS)
    sizes = QUICK_SIZES if args.quick else SIZES
    started, saved = time.perf_counter(), dict(os.environ)
    print(f"gitml registry benchmark: medians of {repeats} timed run(s) after one warm-up")
    try:
        with tempfile.TemporaryDirectory(prefix="gitml-bench-registry-") as tmp:
            base_dir = Path(tmp)
            before_env = prepare(base_dir, args.before and args.before.resolve())
            results: dict[int, SizeResult] = {}
            for size in sizes:
                synthetic = build_repo(repo := base_dir / f"versions-{size}", size)
                verify_repo(repo, synthetic)
                gto_runs = repeats if size <= 100 else min(repeats, GTO_SLOW_REPEATS)
                if size > 1000 or (args.quick and size > 100):  # minutes each, or a smoke run
                    gto_runs = 1
                if args.gto_max is not None and size > args.gto_max:
                    gto_runs = 0
                print(f"\n== {size:,} versions, {synthetic.tags:,} tags; GTO runs: {gto_runs} ==")
                if size == sizes[0]:
                    agreement_check(repo, synthetic)
                pairs = pairs_for(synthetic, before_env)
                results[size] = measure(repo, synthetic.tags, pairs, repeats, gto_runs)
            print("\n== results ==")
            print_tables(results, pairs, repeats)
            print_goals(results, pairs)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    print(f"\ntotal wall time: {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
