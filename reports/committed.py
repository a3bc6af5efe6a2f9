"""Committed evidence: compute it chunk by chunk, check it, recompute chunks to confirm them.

    python -m reports.committed status  [--only EXPERIMENT]
    python -m reports.committed compute [--only EXPERIMENT] [--jobs J] [--deadline SECONDS] [--limit N]
    python -m reports.committed verify  [--only EXPERIMENT] [--n N] [--seed S] [--chunk NAME ...]

`compute` writes missing chunks under reports/evidence/ (J processes, one torch thread each; a chunk is stored
atomically as it finishes, so an interrupted run resumes); commit them as they come. `verify` recomputes N
randomly chosen committed chunks from scratch and compares them with what is committed: bit for bit on a machine
of the kind that computed them, within a stated tolerance on another kind (it says which). A chunk that fails its
checksum is reported and never trusted.
"""
from __future__ import annotations

import math
import random
import subprocess
import sys
import time
from concurrent.futures import as_completed
from pathlib import Path

from reports.cluster_chunks import compute_on, config_of, run_remote
from reports.common import EVIDENCE, UsageError, committed_folder, fail
from reports.harness import kernels
from reports.harness.checkpoint import _plain
from reports.ledger import append_ledger, clean_commit, ledger_entry, read_ledger  # noqa: F401  (read_ledger: the report's)
from reports.harness.config import canonical_json
from reports.harness.evidence import Chunks, EvidenceError, machine, same_kind
from reports.harness.idle import BusyMachine, busy_note, idle_info, wait_until_idle
from reports.harness.pool import local_pool
from reports.harness.provenance import git_state
from reports.registry import Experiment, experiments
from sim.cli import Parser, add_tls_arguments, path_arg, tls_files, tls_without_scheduler
from sim import cli

PROFILE = "quick"
MAX_JOBS, MAX_VERIFY = 16, 1000
DEFAULT_CAP = 240.0   # seconds: verify draws only chunks that took at most this long (CI's time per chunk)
# On a CPU of another kind (or another torch, or thread count) the rounding differs and SGD trajectories drift
# apart: there a recomputed chunk is compared by its times to target, which must agree within this relative
# amount in median over the chunk's runs (the bits are compared wherever the kind is the same).
OTHER_KIND_MEDIAN_RELATIVE = 0.10


def committed_experiments(only: list[str] | None = None) -> dict[str, Experiment]:
    """The experiments with committed evidence at the quick profile, and the power re-runs of every experiment that
    has them (`<experiment>-power`)."""
    from reports.power import committed_power
    every = {n: e for n, e in experiments().items() if PROFILE in e.committed}
    every |= {f"{n}-power": committed_power(e) for n, e in experiments().items() if e.power_seeds}
    out = {n: e for n, e in every.items() if only is None or n in only}
    if only and set(only) - set(out):
        raise UsageError(f"no committed evidence for {sorted(set(only) - set(out))[0]!r}; experiments with committed "
                         f"evidence: {', '.join(every) or 'none'}")
    return out


def chunks_of(exp: Experiment, config, root: Path = EVIDENCE, **kw) -> Chunks:
    return Chunks(committed_folder(exp, config, root), **kw)


def status(exp: Experiment, config, root: Path = EVIDENCE) -> tuple[int, int, list[str]]:
    """(stored, planned, damaged chunk names)."""
    store, names = chunks_of(exp, config, root, read_only=True), exp.chunked.plan(config)
    stored, damaged = 0, []
    present = set(store.names())
    for name in names:
        if name in present:
            try:
                store.record(name)
                stored += 1
            except EvidenceError:
                damaged.append(name)
    return stored, len(names), damaged


def load_all(store: Chunks, names) -> dict:
    return {n: store.get(n) for n in names}


def _worker(name: str, config, experiment: str, path: str, exp: Experiment | None = None) -> tuple[str, float]:
    exp = exp or committed_experiments([experiment])[experiment]
    store = Chunks(Path(path))
    chunks = {n: store.get(n) for n in exp.chunked.first(config) if n != name}
    busy = wait_until_idle() if timed(exp) else None
    start = time.time()
    payload = exp.chunked.compute(config, name, chunks)
    wall = time.time() - start
    store.put(name, payload, {"chunk": name, "wall_seconds": round(wall, 3)} | idle_info(busy))
    return name, wall


def timed(exp: Experiment) -> bool:
    """Whether the experiment's chunks are timed runs of real processes (never bit-identical; computed one at a
    time, here, on an idle machine)."""
    return exp.chunked.agree is not None


def compute(exp: Experiment, config, jobs: int = 1, deadline: float | None = None, limit: int | None = None,
            root: Path = EVIDENCE, say=print, pool: bool = True) -> int:
    """Compute the missing chunks (the prerequisites first) in `jobs` processes (`pool=False`: in this one);
    returns how many are still missing."""
    store = chunks_of(exp, config, root)
    names, needs = exp.chunked.plan(config), set(exp.chunked.first(config))
    if timed(exp):   # a timed chunk beside another would measure the other's load
        jobs, pool = 1, False
    done = 0
    for stage in ([n for n in names if n in needs], [n for n in names if n not in needs]):
        todo = [n for n in stage if store.record(n) is None]
        if limit is not None:
            todo = todo[:max(0, limit - done)]
        if not todo:
            continue
        say(f"{exp.name}: {len(todo)} chunks to compute in {store.path} ({jobs if pool else 1} processes)")
        left = (_in_pool if pool else _in_process)(exp, config, store, todo, jobs, deadline, say)
        done += len(todo) - left
        if left:
            say(f"{exp.name}: stopped at the deadline; {left} chunks of this stage left")
            break
    stored, total, _ = status(exp, config, root)
    return total - stored


def _in_process(exp, config, store, todo, jobs, deadline, say) -> int:
    for i, name in enumerate(todo):
        if deadline is not None and time.time() >= deadline:
            return len(todo) - i
        _, wall = _worker(name, config, exp.name, str(store.path), exp)
        say(f"  {name}: {wall:.0f} s ({time.strftime('%H:%M:%S')})")
    return 0


def _in_pool(exp, config, store, todo, jobs, deadline, say) -> int:
    with local_pool(max(1, jobs)) as pool:
        pending, futures = list(todo), {}
        while pending or futures:
            while pending and len(futures) < jobs and (deadline is None or time.time() < deadline):
                name = pending.pop(0)
                futures[pool.submit(_worker, name, config, exp.name, str(store.path))] = name
            if not futures:
                break
            future = next(as_completed(futures))
            del futures[future]
            name, wall = future.result()
            say(f"  {name}: {wall:.0f} s ({time.strftime('%H:%M:%S')})")
    return len(pending)


def compare(exp: Experiment, config, context: dict, committed: dict, again: dict) -> tuple[bool, str]:
    """(agrees, how): bit for bit where the machines are of one kind, else the chunk's times to target."""
    if canonical_json(committed["payload"]) == canonical_json(again):
        return True, "bit-identical"
    judged = None if exp.chunked.agree is None else exp.chunked.agree(config, committed["name"],
                                                                     committed["payload"], again)
    if judged is not None:  # a chunk that cannot be bit-identical anywhere (timed runs of real processes)
        return judged
    if same_kind(committed["provenance"].get("machine", {}), machine()):
        return False, "differs from the committed chunk on a machine of the same kind (CPU, torch, threads)"
    a = exp.chunked.numbers(config, context, committed["payload"])
    b = exp.chunked.numbers(config, context, again)
    finite = [abs(x - y) / x for x, y in zip(a, b) if math.isfinite(x) and math.isfinite(y) and x > 0]
    median = sorted(finite)[len(finite) // 2] if finite else 0.0
    ok = median <= OTHER_KIND_MEDIAN_RELATIVE and len(a) == len(b)
    return ok, (f"not bit-identical (another kind of machine: {machine().get('cpu')} vs "
                f"{committed['provenance'].get('machine', {}).get('cpu')}); times to target agree within "
                f"{median:.1%} in median (tolerance {OTHER_KIND_MEDIAN_RELATIVE:.0%})")


def present_chunks(exp: Experiment, config, root: Path = EVIDENCE) -> tuple[list[str], list[str], list[str]]:
    """(committed and intact, damaged, missing) chunk names of the plan."""
    store = chunks_of(exp, config, root, read_only=True)
    _, _, damaged = status(exp, config, root)
    names = set(store.names())
    plan = exp.chunked.plan(config)
    return ([c for c in plan if c in names and c not in damaged], damaged, [c for c in plan if c not in names])


def wall_seconds(exp: Experiment, config, name: str, root: Path = EVIDENCE) -> float:
    prov = chunks_of(exp, config, root, read_only=True).record(name)["provenance"]
    value = prov.get("wall_seconds") if isinstance(prov, dict) else None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.inf


def draw(exps: dict, n: int, seed: int | None, cap: float, root: Path = EVIDENCE, say=print,
         profile: str = PROFILE) -> list[tuple[str, str]]:
    """n chunks in all, across the experiments (a random order of experiments, then a random chunk of each, around
    again while n is not reached), among the chunks whose recorded time is at most `cap` seconds."""
    rng = random.Random(seed)
    pools = {}
    for name, exp in exps.items():
        present, _, _ = present_chunks(exp, config_of(exp, profile), root)
        fast = [c for c in present if wall_seconds(exp, config_of(exp, profile), c, root) <= cap]
        if len(fast) < len(present):
            say(f"{name}: {len(present) - len(fast)} of {len(present)} chunks took more than {cap:g} s when computed: "
                "not drawn (verify them with --chunk NAME or a larger --max-seconds)")
        if fast:
            pools[name] = fast
    picks, order = [], sorted(pools)
    while len(picks) < n and any(pools.values()):
        rng.shuffle(order)
        for name in order:
            if pools[name] and len(picks) < n:
                picks.append((name, pools[name].pop(rng.randrange(len(pools[name])))))
    return picks


def lost_chunks(folder: Path, missing: list[str]) -> list[str]:
    """The missing chunks that the repository holds at HEAD (deleted from the working tree): all of them where git
    cannot say (no repository, a folder outside it), since then a deleted chunk cannot be told from one never made."""
    if not missing:
        return []
    base = Path(folder).resolve()
    while not base.is_dir():          # a folder with no chunk yet: ask from its nearest existing parent
        base = base.parent
    try:
        proc = subprocess.run(["git", "ls-tree", "-r", "--name-only", "HEAD", "--", str(Path(folder).resolve())],
                              cwd=base, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return list(missing)
    if proc.returncode != 0:
        return list(missing)
    tracked = {Path(line).name for line in proc.stdout.splitlines()}
    return [m for m in missing if f"{m}.json.gz" in tracked]


def verify(exp: Experiment, config, names: list[str], root: Path = EVIDENCE, say=print, runner=None,
           ledger: Path | None = None) -> int:
    """Recompute the chunks `names` and compare them with the committed ones; returns how many disagree, are damaged
    or are lost (a chunk the repository holds but the working tree lacks fails the check; a chunk never committed — an
    experiment whose evidence is still being computed — is said, and its claims show not run). With `ledger`, each
    bit-identical recomputation is appended to it (ledger_entry): the record that a chunk computed from a tree with
    uncommitted changes is what committed code computes."""
    store = chunks_of(exp, config, root, read_only=True)
    present, damaged, missing = present_chunks(exp, config, root)
    for name in damaged:
        say(f"  {name}: DAMAGED (fails its checksum or its shape): refused")
    lost = lost_chunks(store.path, missing)
    if lost:
        say(f"  {exp.name}: MISSING {len(lost)} of {len(exp.chunked.plan(config))} chunks ({', '.join(lost[:4])}"
            f"{' ...' if len(lost) > 4 else ''}): restore them with `git checkout -- {store.path}` or recompute them "
            "with `make evidence`")
    if len(missing) > len(lost):
        say(f"  {exp.name}: {len(missing) - len(lost)} of {len(exp.chunked.plan(config))} chunks never committed (its "
            "evidence is still being computed; its claims show not run): `make evidence` computes them")
    unknown = sorted(set(names) - set(present))
    if unknown:
        raise UsageError(f"no committed chunk {unknown[0]!r} of {exp.name}; committed: {', '.join(present[:8])} ...")
    say(f"{exp.name}: {len(present)} of {len(exp.chunked.plan(config))} chunks committed; recomputing "
        f"{', '.join(names) or 'none'}")
    bad = len(damaged) + bool(lost)
    context = load_all(store, [c for c in exp.chunked.first(config) if c in present])
    for name in names:
        record = store.record(name)
        start = time.time()
        inputs = {k: v for k, v in context.items() if k != name}
        try:
            busy = wait_until_idle(say=say) if timed(exp) else None
        except BusyMachine as exc:   # its time on a loaded machine says nothing of the code: said, not decided
            say(f"  {name}: NOT DECIDED: {exc}")
            continue
        again = runner(exp, name, inputs) if runner is not None else exp.chunked.compute(config, name, inputs)
        ok, how = compare(exp, config, context, record, _plain(again))
        how += busy_note(busy, record["provenance"]) if timed(exp) else ""
        bad += not ok
        if ledger is not None and ok and how == "bit-identical":
            append_ledger(ledger, ledger_entry(exp.name, record))
        say(f"  {name}: {'OK' if ok else 'MISMATCH'}: {how} ({time.time() - start:.0f} s; committed on "
            f"{record['provenance'].get('machine', {}).get('cpu')}, {record['provenance'].get('finished')})")
    return bad


def _parser() -> Parser:
    parser = Parser(prog="python -m reports.committed", description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=("status", "compute", "verify"))
    parser.add_argument("--only", action="append", metavar="EXPERIMENT")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--deadline", type=float, metavar="SECONDS")
    parser.add_argument("--limit", type=int, metavar="N", help="compute at most N chunks")
    parser.add_argument("--n", type=int, default=1, help="verify: how many random chunks to recompute, in all, drawn "
                        "across the committed experiments")
    parser.add_argument("--max-seconds", type=float, default=DEFAULT_CAP, help="verify: draw only chunks that took at "
                        f"most this long when computed (default {DEFAULT_CAP:g})")
    parser.add_argument("--seed", type=int, help="verify: the seed of the random choice (default: fresh)")
    parser.add_argument("--chunk", action="append", metavar="NAME", help="verify: these chunks (with --only)")
    parser.add_argument("--record", action="store_true", help="verify: append each bit-identical recomputation to "
                        "the evidence folder's verified.jsonl (from a clean working tree only): the record that a chunk "
                        "computed from uncommitted changes is what committed code computes")
    parser.add_argument("--profile", default=PROFILE, choices=(PROFILE, "smoke"),
                        help="smoke: the experiments' tiny configs (for tests, with --evidence)")
    parser.add_argument("--evidence", type=path_arg, default=None, metavar="DIR",
                        help="the evidence folder (default reports/evidence/)")
    parser.add_argument("--scheduler", metavar="ADDRESS", help="compute or verify the chunks as tasks on this Dask "
                        "scheduler (tls://HOST:PORT with the --tls-* files; the workers need the suite, not a shared "
                        "folder)")
    add_tls_arguments(parser)
    parser.add_argument("--dask-workers", type=int, metavar="N", help="... or on a local cluster of N processes")
    parser.add_argument("--gpu", action="store_true", help="each task asks for the worker resource GPU=1")
    return parser


def _check(args) -> None:
    if args.record and args.action != "verify":
        raise UsageError("--record is for verify (it records recomputations that match bit for bit)")
    if args.record:
        clean_commit()
    if args.action == "compute" and args.evidence is None and git_state()[1]:
        raise UsageError("the working tree has uncommitted changes: committed evidence is computed from committed "
                         "code only (commit or stash them first)")
    for bad, text in ((not 1 <= args.jobs <= MAX_JOBS, f"--jobs must be in 1..{MAX_JOBS}"),
                      (not 1 <= args.n <= MAX_VERIFY, f"--n must be in 1..{MAX_VERIFY} (chunks to recompute, in all)"),
                      (not 0 < args.max_seconds <= 7 * 24 * 3600, "--max-seconds must be in (0, 604800]"),
                      (args.deadline is not None and not 0 < args.deadline <= 7 * 24 * 3600,
                       "--deadline must be in (0, 604800] seconds"),
                      (args.limit is not None and args.limit < 0, "--limit must be >= 0"),
                      (args.seed is not None and args.seed < 0, "--seed must be >= 0"),
                      (bool(args.chunk) and not args.only, "--chunk NAME needs --only EXPERIMENT (chunk names repeat "
                                                           "across experiments)"),
                      (args.scheduler is not None and args.dask_workers is not None,
                       "pass either --scheduler ADDRESS or --dask-workers N, not both"),
                      (args.dask_workers is not None and not 1 <= args.dask_workers <= 64,
                       "--dask-workers must be in 1..64"),
                      (tls_without_scheduler(args), "--tls-* files are for a tls:// --scheduler (omit them, or pass "
                                                    "--scheduler)"),
                      ((args.scheduler or args.dask_workers) and args.action == "status",
                       "status reads the committed chunks only: drop --scheduler / --dask-workers")):
        if bad:
            raise UsageError(text)


def status_line(name: str, exp: Experiment, config, root: Path = EVIDENCE) -> tuple[str, int]:
    """`name: k of n chunks committed` and the damaged ones (a complete set that cannot be assembled included)."""
    stored, total, damaged = status(exp, config, root)
    if stored == total and not damaged and exp.method != "power":
        from reports.common import load_committed
        result, why = load_committed(exp, config, root)
        if result is None:
            damaged = [f"(the whole) {why}"]
    return (f"{name}: {stored} of {total} chunks committed"
            + (f"; damaged (refused): {', '.join(damaged)}" if damaged else "")), len(damaged)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    pinned = kernels.pin()   # before torch is imported here, in the spawned workers or the local cluster
    client = cluster = None
    try:
        _check(args)
        exps = committed_experiments(args.only)
        root = args.evidence or EVIDENCE
        if args.action != "status":
            print(f"CPU kernels: {pinned}", flush=True)
        if args.scheduler is not None or args.dask_workers is not None:
            from cnn_experiments.cluster import local_client
            client, cluster = local_client(args.dask_workers or 1, args.scheduler, tls_files=tls_files(args))
        bad = _act(args, exps, root, client)
    except BrokenPipeError:
        raise                 # the reader left (cli.run ends quietly)
    except (UsageError, EvidenceError, ValueError, ConnectionError) as exc:
        fail(str(exc))
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    if args.action == "verify":
        print("verify-evidence: " + ("PASS" if not bad else f"FAIL ({bad} chunks)"))
    return 1 if bad else 0


def _act(args, exps: dict, root: Path, client) -> int:
    deadline = time.time() + args.deadline if args.deadline else None
    bad, picks = 0, []
    if args.action == "verify":
        picks = ([(n, c) for n in exps for c in args.chunk] if args.chunk else
                 draw(exps, args.n, args.seed, args.max_seconds, root, profile=args.profile))
        print(f"verify: recomputing {len(picks)} chunks: {', '.join(f'{n}/{c}' for n, c in picks) or 'none'}"
              f"{'' if args.seed is None else f' (seed {args.seed})'}", flush=True)
    runner = None if client is None else (
        lambda exp, name, inputs: run_remote(client, exp, args.profile, name, inputs, args.gpu))
    for name, exp in exps.items():
        config = config_of(exp, args.profile)
        if args.action == "status":
            line, damaged = status_line(name, exp, config, root)
            print(line)
            bad += damaged
        elif args.action == "compute" and client is not None:
            bad += compute_on(client, exp, args.profile, chunks_of(exp, config, root), gpu=args.gpu,
                              timed=timed(exp), limit=args.limit, deadline=deadline)
            print(f"{name}: {status(exp, config, root)[1] - status(exp, config, root)[0]} chunks still to compute")
        elif args.action == "compute":
            print(f"{name}: {compute(exp, config, args.jobs, deadline, args.limit, root)} chunks still to compute")
        else:
            bad += verify(exp, config, [c for n, c in picks if n == name], root, runner=None if timed(exp) else runner,
                          ledger=root / "verified.jsonl" if args.record else None)
    return bad


if __name__ == "__main__":
    sys.exit(kernels.main_pinned(lambda: cli.run(main)))
