#!/usr/bin/env python3
"""Kernel launcher for the flowmatch notebooks (written into kernel.json by `course`).

Jupyter starts this script instead of `evcxr_jupyter` directly. It prepares the
committed evcxr set-up and then *replaces itself* (exec) with evcxr_jupyter, so
Jupyter's interrupts and shutdowns reach the kernel unchanged.

What it sets up:

* ``EVCXR_CONFIG_DIR=<repo>/notebooks``: evcxr reads ``notebooks/evcxr.toml``
  (cell opt-level, panic handling) from the repo, never ``~/.config/evcxr``
  (so a user's own ``init.evcxr`` or ``prelude.rs`` cannot leak in).
* ``EVCXR_TMPDIR=<repo>/target/evcxr/kernel-<N>``: evcxr's scratch crate, and
  with it the cargo ``target/`` folder holding the compiled dependencies
  (flowmatch, dfdx, ...), lives at a *persistent* path. A fresh kernel reuses
  what an earlier kernel compiled (the dependency cache); cargo's own
  fingerprints keep it correct when the library's source changes.
  ``N`` is the first slot whose lock file no running kernel holds, so two
  notebooks open at once never share (and clobber) a build folder.
* ``<repo>/target/evcxr/.cargo/config.toml``: a copy of
  ``notebooks/evcxr-cargo-config.toml``. cargo reads config files from the
  parent folders of the crate it builds, so this gives every *dependency*
  (flowmatch, dfdx, ...) opt-level 3 while the cells themselves keep the quick
  opt-level from ``evcxr.toml``.
* the working folder ``<repo>/notebooks``, whichever folder below it holds the
  notebook (Jupyter starts a kernel in the notebook's own folder). So the first
  cell, ``:dep flowmatch = { path = ".." }``, is the same in every notebook: the
  student copies, the instructor copies in ``notebooks/solutions/`` and the
  sources in ``notebooks/source/``. Relative paths in cells are relative to
  ``notebooks/`` too.

Usage (as written into kernel.json):
    python evcxr_kernel.py --evcxr /path/to/evcxr_jupyter --control_file {connection_file}
"""

import os
import shutil
import sys
from pathlib import Path

MAX_SLOTS = 32


def fail(msg):
    sys.stderr.write(f"flowmatch kernel launcher: {msg}\n")
    sys.exit(1)


def parse_args(argv):
    evcxr = None
    control = None
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--evcxr" and i + 1 < len(argv):
            evcxr = argv[i + 1]
            i += 2
        elif arg in ("--control_file", "--control-file") and i + 1 < len(argv):
            control = argv[i + 1]
            i += 2
        else:
            fail(f"unexpected argument {arg!r}; usage: --evcxr PATH --control_file FILE")
    if control is None:
        fail("missing --control_file FILE")
    if evcxr is None:
        evcxr = os.environ.get("FLOWMATCH_EVCXR_JUPYTER") or shutil.which("evcxr_jupyter")
        if evcxr is None:
            fail("evcxr_jupyter not found; run `cargo run --release --bin course -- setup`")
    return evcxr, control


def copy_if_changed(src, dst):
    """Copies src to dst unless dst already has the same bytes."""
    data = src.read_bytes()
    try:
        if dst.read_bytes() == data:
            return
    except OSError:
        pass
    tmp = dst.with_name(dst.name + f".{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, dst)


def acquire_slot(build_root):
    """Returns (slot number, lock fd). The lock is held for the kernel's lifetime:
    the fd is inherited by evcxr_jupyter across exec and released when it exits."""
    try:
        import fcntl
    except ImportError:  # not a Unix: one private folder per process, no sharing
        return f"pid{os.getpid()}", None
    for n in range(MAX_SLOTS):
        fd = os.open(build_root / f"kernel-{n}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        os.set_inheritable(fd, True)
        return n, fd
    return f"pid{os.getpid()}", None


def main():
    evcxr, control = parse_args(sys.argv[1:])
    repo = Path(__file__).resolve().parent.parent
    notebooks = repo / "notebooks"
    build_root = Path(os.environ.get("FLOWMATCH_EVCXR_BUILD_DIR") or (repo / "target" / "evcxr"))
    (build_root / ".cargo").mkdir(parents=True, exist_ok=True)

    cargo_cfg = notebooks / "evcxr-cargo-config.toml"
    if cargo_cfg.exists():
        copy_if_changed(cargo_cfg, build_root / ".cargo" / "config.toml")

    slot, _lock_fd = acquire_slot(build_root)
    crate_dir = build_root / f"kernel-{slot}"
    crate_dir.mkdir(exist_ok=True)

    env = dict(os.environ)
    env["EVCXR_CONFIG_DIR"] = str(notebooks)
    env["EVCXR_TMPDIR"] = str(crate_dir)
    sys.stderr.write(f"flowmatch kernel: evcxr build folder {crate_dir}\n")
    sys.stderr.flush()
    os.chdir(notebooks)
    os.execve(evcxr, [evcxr, "--control_file", control], env)


if __name__ == "__main__":
    main()
