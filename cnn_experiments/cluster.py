"""Dask clusters for the suite: a local one bound to 127.0.0.1 and secured with temporary TLS credentials (so
another local process cannot submit code to it), or a user's scheduler reached with a bounded handshake.

What a local cluster listens on: the scheduler's and the workers' TLS ports, and the scheduler's HTTP server, all
on 127.0.0.1; the HTTP server serves no routes (no dashboard, no /health). A user's own scheduler: `tcp://HOST:PORT`,
or `tls://HOST:PORT` with the CA file, client certificate and key its administrator issued (Dask's Security).
"""
from __future__ import annotations

import os
import threading

SCHEMES = ("tcp", "tls")
MAX_ADDRESS = 300


class ClusterError(ConnectionError):
    """No cluster could be reached or started; the message says what to do."""


def check_address(address: str, tls_files: dict | None = None) -> str:
    """The address as Dask takes it (tcp:// when no scheme is given); one-line errors for what cannot work."""
    if not address or not address.strip() or len(address) > MAX_ADDRESS or any(c.isspace() for c in address):
        raise ClusterError(f"scheduler address {address[:60]!r} is not of the form tcp://HOST:PORT or tls://HOST:PORT")
    scheme, sep, rest = address.partition("://")
    if not sep:
        scheme, rest = "tcp", address
    if scheme not in SCHEMES:
        raise ClusterError(f"scheduler address scheme {scheme!r} is not supported here; use tcp:// or tls:// "
                           "(with --tls-ca-file, --tls-cert and --tls-key)")
    host, _, port = rest.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ClusterError(f"scheduler address {address[:60]!r} needs a host and a port (tcp://HOST:PORT)")
    if scheme == "tls" and not (tls_files and all(tls_files.values())):
        raise ClusterError("a tls:// scheduler needs --tls-ca-file, --tls-cert and --tls-key (the certificates its "
                           "administrator issued)")
    for name, path in (tls_files or {}).items():
        if path and not os.path.isfile(path):
            raise ClusterError(f"{name} {path[:200]} is not a file")
    return f"{scheme}://{rest}"


def _security(tls_files: dict | None):
    if not tls_files or not all(tls_files.values()):
        return None
    from distributed.security import Security
    return Security(tls_ca_file=tls_files["--tls-ca-file"], tls_client_cert=tls_files["--tls-cert"],
                    tls_client_key=tls_files["--tls-key"], require_encryption=True)


def _configure() -> None:
    import dask
    dask.config.set({"distributed.scheduler.allowed-failures": 0,  # a killed worker's task errors: counted lost
                     "distributed.worker.daemon": False, "distributed.logging.distributed": "error",
                     "distributed.scheduler.http.routes": [], "distributed.worker.http.routes": []})


def connect(address: str, timeout: float = 10.0, tls_files: dict | None = None):
    """A Client on a user's scheduler; the whole handshake (not only the TCP connect) is bounded by `timeout`."""
    from distributed import Client
    address = check_address(address, tls_files)
    _configure()
    box: dict = {}

    def attempt():
        try:
            box["client"] = Client(address, timeout=f"{timeout}s", security=_security(tls_files))
        except Exception as exc:  # noqa: BLE001  (reported as one line below)
            box["error"] = exc
    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(timeout + 2)
    if "client" in box:
        return box["client"]
    why = type(box["error"]).__name__ if "error" in box else "no answer to the handshake"
    raise ClusterError(f"no Dask scheduler answered at {address} within {timeout:g} s ({why}); start one with "
                       "`dask scheduler` or omit --scheduler for a local cluster")


def local_client(n_workers: int, address: str | None = None, timeout: float = 10.0, tls_files: dict | None = None):
    """(Client, cluster or None): on `address`, or on a new LocalCluster of n_workers single-threaded processes on
    127.0.0.1 with temporary TLS credentials."""
    if address is not None:
        return connect(address, timeout, tls_files), None
    from distributed import Client, LocalCluster
    _configure()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=None, silence_logs=50, security=True)
    return Client(cluster), cluster
