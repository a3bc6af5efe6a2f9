"""The suite's command-line parser: a usage error is one line on stderr and exit status 2, never a usage dump."""
from __future__ import annotations

import argparse
import sys


class Parser(argparse.ArgumentParser):
    def error(self, message: str):
        print(f"error: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)


MAX_PATH = 4096


def path_arg(text: str):
    """A path from the command line: not empty, at most MAX_PATH characters (argparse `type=`)."""
    from pathlib import Path
    if not text or not text.strip():
        raise argparse.ArgumentTypeError("an empty path; pass a folder or file")
    if len(text) > MAX_PATH or "\x00" in text:
        raise argparse.ArgumentTypeError(f"a path longer than {MAX_PATH} characters or with a NUL byte")
    return Path(text)


TLS_OPTIONS = ("--tls-ca-file", "--tls-cert", "--tls-key")


def add_tls_arguments(parser) -> None:
    """The certificate files of a user's tls:// Dask scheduler (Dask's Security: CA, client certificate, key)."""
    for option in TLS_OPTIONS:
        parser.add_argument(option, type=path_arg, default=None, metavar="FILE",
                            help="for a tls:// --scheduler: " + {"--tls-ca-file": "the CA certificate",
                                                                "--tls-cert": "this client's certificate",
                                                                "--tls-key": "this client's private key"}[option])


def tls_files(args) -> dict:
    return {option: (str(getattr(args, option[2:].replace("-", "_"))) if getattr(args, option[2:].replace("-", "_"))
                     else None) for option in TLS_OPTIONS}


def tls_without_scheduler(args) -> bool:
    """--tls-* files given where no --scheduler is: they would be ignored silently."""
    return getattr(args, "scheduler", None) is None and any(tls_files(args).values())


def run(main) -> int:
    """An entry point's main(), ended quietly: Ctrl-C is one line and status 130, a closed pipe (`| head`) ends the
    output without a traceback, and output that cannot be written (a full disk) is one line and status 2."""
    import errno
    import os
    try:
        status = main()
        sys.stdout.flush()
        return status
    except KeyboardInterrupt:
        print("interrupted (nothing half-written is left: results and reports are written atomically)",
              file=sys.stderr)
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())   # the reader left: nothing more to say
        return 141
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EIO, errno.EDQUOT):
            raise
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print(f"error: cannot write the output ({exc.strerror}); free space or redirect it elsewhere", file=sys.stderr)
        return 2
