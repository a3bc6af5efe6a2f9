#!/usr/bin/env bash
# The make variables a user passes, checked before any recipe uses them (they arrive as environment data).
# `check_make_vars.sh claim` also requires ID. One line on stderr and exit 2 when a value is not acceptable.
set -u
bad() { echo "error: make variable $1 ($2); $3" >&2; exit 2; }
case "${PROFILE:-}" in quick|full) ;; *) bad PROFILE "${PROFILE:0:60}" "use PROFILE=quick or PROFILE=full" ;; esac
[ -n "${RESULTS:-}" ] || bad RESULTS "empty" "pass a folder, e.g. RESULTS=results"
[ "${#RESULTS}" -le 1024 ] || bad RESULTS "longer than 1024 characters" "pass a shorter path"
case "$RESULTS" in *[!A-Za-z0-9_./+:@%=,-]*) bad RESULTS "${RESULTS:0:60}" "use letters, digits and . _ / + : @ % = , - only" ;; esac
case "${N:-}" in ''|*[!0-9]*) bad N "${N:0:20}" "pass a number of chunks, e.g. N=1" ;; esac
[ "${#N}" -le 4 ] || bad N "$N" "at most 1000 chunks"
case "${PYTHON:-}" in ''|*[!A-Za-z0-9_./+-]*) bad PYTHON "${PYTHON:0:60}" "pass an interpreter path, e.g. PYTHON=python3.11" ;; esac
case "${SCHEDULER:-}" in '') ;; tcp://*|tls://*) ;; *) bad SCHEDULER "${SCHEDULER:0:60}" "use tcp://HOST:PORT or tls://HOST:PORT" ;; esac
case "${SCHEDULER:-}" in *[!A-Za-z0-9_./:@%\[\]-]*) bad SCHEDULER "${SCHEDULER:0:60}" "an address has letters, digits and . _ / : @ % [ ] - only" ;; esac
[ "${#SCHEDULER}" -le 300 ] || bad SCHEDULER "too long" "an address of at most 300 characters"
case "${DASK_WORKERS:-}" in '') ;; *[!0-9]*) bad DASK_WORKERS "${DASK_WORKERS:0:20}" "pass a number of local worker processes, e.g. DASK_WORKERS=2" ;; esac
[ -z "${SCHEDULER:-}" ] || [ -z "${DASK_WORKERS:-}" ] || bad SCHEDULER "$SCHEDULER" "pass either SCHEDULER or DASK_WORKERS"
if [ "${1:-}" = claim ]; then
  [ -n "${ID:-}" ] || bad ID "missing" "usage: make claim ID=<claim id> [PROFILE=quick|full]"
  case "$ID" in *[!a-z0-9-]*) bad ID "${ID:0:60}" "a claim id has lower-case letters, digits and '-' only" ;; esac
  [ "${#ID}" -le 100 ] || bad ID "too long" "a claim id is at most 100 characters"
fi
exit 0
