"""Committed evidence computed on a Dask cluster: every missing chunk is a task, the worker returns the chunk's
payload and provenance, and this client checks it and writes it exactly as a local chunk (checksummed, atomic), so
the workers share nothing with the client but the scheduler.

Used by `python -m reports.committed compute|verify --scheduler ADDRESS | --dask-workers N`. The chunks every other
chunk needs are computed first (their payloads travel with the later tasks); a task that fails is retried once (on
another worker where there is one) and then reported while the rest go on; with `--gpu` each task asks for the worker
resource GPU=1 (workers started with `dask worker ... --resources GPU=1`), so that a GPU runs one chunk at a time.
Chunks of timed experiments (real processes: they start their own cluster) are computed here, on the client.
"""
from __future__ import annotations

import platform
import time

from reports.harness.checkpoint import _plain
from reports.harness.evidence import EvidenceError, machine, shape_problem
from reports.harness.idle import idle_info, wait_until_idle
from reports.harness.provenance import git_state, versions


def config_of(exp, profile: str):
    """The config a profile names: the committed one (`quick`) or the tiny one of the tests (`smoke`)."""
    return exp.smoke if profile == "smoke" else exp.profiles[profile]


def chunk_task(experiment: str, profile: str, name: str, context: dict) -> dict:
    """On a worker: one chunk, computed from the worker's own copy of the suite; its payload and provenance."""
    from reports.committed import committed_experiments
    from reports.harness import kernels
    kernels.pin()   # effective where this worker has not imported torch yet (a local cluster inherits the pin)
    exp = committed_experiments([experiment])[experiment]
    start = time.time()
    payload = exp.chunked.compute(config_of(exp, profile), name, context)
    sha, dirty = git_state()
    return {"payload": _plain(payload),
            "info": {"chunk": name, "wall_seconds": round(time.time() - start, 3), "machine": machine(),
                     "versions": versions(), "git_sha": sha, "dirty": dirty,
                     "computed_on": f"dask worker on {platform.node()}"}}


def accepted(out, name: str) -> str | None:
    """Why a worker's answer cannot be written as a committed chunk (None: it can)."""
    if not isinstance(out, dict) or not isinstance(out.get("payload"), dict) or not isinstance(out.get("info"), dict):
        return "the worker's answer is not a chunk (payload and provenance objects)"
    return shape_problem({"payload": out["payload"], "provenance": out["info"]})


def run_remote(client, exp, profile: str, name: str, context: dict, gpu: bool = False) -> dict:
    """One chunk on the cluster, waited for (verify's recomputation)."""
    future = client.submit(chunk_task, exp.name, profile, name, context, pure=False, retries=1,
                           resources={"GPU": 1} if gpu else None, key=f"chunk-{exp.name}-{name}-{time.time_ns()}")
    out = future.result()
    if (why := accepted(out, name)) is not None:
        raise EvidenceError(f"chunk {name} from the cluster refused: {why}")
    return out["payload"]


def compute_on(client, exp, profile: str, store, say=print, gpu: bool = False, timed: bool = False,
               limit: int | None = None, deadline: float | None = None) -> int:
    """Every missing chunk of `exp` (the prerequisites first; at most `limit`) as cluster tasks, written by `store` (a
    Chunks) as they come back; returns how many failed or were refused. Timed experiments are computed here (`timed`).
    The deadline is checked as chunks come back: past it, the chunks not yet back are cancelled (a rerun computes
    them)."""
    from distributed import as_completed
    config = config_of(exp, profile)
    names, needs = exp.chunked.plan(config), set(exp.chunked.first(config))
    bad = stored = 0
    for stage in ([n for n in names if n in needs], [n for n in names if n not in needs]):
        todo = [n for n in stage if store.record(n) is None]
        if limit is not None:
            todo = todo[:max(0, limit - stored)]
        if not todo or (deadline is not None and time.time() >= deadline):
            continue
        context = {n: store.get(n) for n in exp.chunked.first(config) if store.record(n) is not None}
        if timed:
            say(f"{exp.name}: {len(todo)} chunks of real processes, computed on this client (they start their own "
                "cluster)")
        futures = {} if timed else {
            client.submit(chunk_task, exp.name, profile, n, {k: v for k, v in context.items() if k != n},
                          pure=False, retries=1, resources={"GPU": 1} if gpu else None,
                          key=f"chunk-{exp.name}-{n}-{time.time_ns()}"): n for n in todo}
        say(f"{exp.name}: {len(todo)} chunks to compute in {store.path} "
            f"({'here' if timed else f'{len(futures)} tasks on {client.scheduler.address}'})")
        start, done = time.time(), 0
        results = _local(exp, profile, todo, context) if timed else _results(as_completed(futures), futures)
        for n, out, error in results:
            done += 1
            why = error or accepted(out, n)
            if why is None:
                store.put(n, out["payload"], out["info"])
                stored += 1
            bad += why is not None
            eta = (time.time() - start) / done * (len(todo) - done)
            say(f"  {n}: {'REFUSED or FAILED: ' + why if why else 'stored'} ({done} done, {len(todo) - done} "
                f"queued or running, about {eta:.0f} s to go)")
            if deadline is not None and time.time() >= deadline and done < len(todo):
                client.cancel(list(futures))
                say(f"{exp.name}: stopped at the deadline; {len(todo) - done} chunks of this stage left")
                return bad
        if bad and stage and stage[0] in needs:
            say(f"{exp.name}: a chunk the others need failed; the rest of this experiment waits for a rerun")
            break
    return bad


def _results(completed, futures):
    for future in completed:
        name = futures[future]
        try:
            yield name, future.result(), None
        except Exception as exc:  # noqa: BLE001  (reported on its line; the other chunks go on)
            yield name, None, f"{type(exc).__name__}: {str(exc)[:200]} (after one retry)"


def _local(exp, profile, todo, context):
    for n in todo:
        try:
            busy = wait_until_idle()   # a timed chunk measures wall-clock time: on an idle machine only
            out = chunk_task(exp.name, profile, n, {k: v for k, v in context.items() if k != n})
            yield n, out | {"info": out["info"] | idle_info(busy)}, None
        except Exception as exc:  # noqa: BLE001
            yield n, None, f"{type(exc).__name__}: {str(exc)[:200]}"
