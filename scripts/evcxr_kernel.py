#!/usr/bin/env python3
"""Kernel launcher for the flowmatch notebooks (written into kernel.json by `course`).

Jupyter starts this script instead of `evcxr_jupyter` directly. It prepares the
committed evcxr set-up and then *replaces itself* (exec) with evcxr_jupyter, so
Jupyter's interrupts and shutdowns reach the kernel unchanged.

What it sets up, in order:

* ``EVCXR_CONFIG_DIR=<repo>/notebooks``: evcxr reads ``notebooks/evcxr.toml``
  (cell opt-level, offline builds, panic handling) from the repo, never
  ``~/.config/evcxr``.
* **A build folder for this kernel**, ``<build>/kernel-<N>`` (``<build>`` is
  ``$FLOWMATCH_EVCXR_BUILD_DIR`` or ``<repo>/target/evcxr``): evcxr's scratch
  crate, with the cargo ``target/`` folder that holds the compiled dependencies.
  ``N`` is the first slot whose lock no running kernel holds, so two open
  notebooks never share one. ``$FLOWMATCH_KERNEL_DIR=NAME`` asks for the folder
  ``<build>/NAME`` instead (``course`` builds the shared dependency set in
  ``<build>/warm`` that way).
* **The repository's Cargo.lock**, copied into that folder: the kernel builds
  flowmatch, dfdx, gemm, plotters ... at exactly the versions ``cargo test``
  uses, never at whatever is newest on crates.io.
* **The crates on disk.** Kernels build offline, so every crate in Cargo.lock
  must be downloaded (for every target: ``cargo metadata`` reads them all).
  ``cargo fetch --locked --offline`` checks that in a moment; when something is
  missing the launcher runs ``cargo fetch --locked`` (needs the network once).
* **A warm dependency set.** When ``<build>/warm`` holds dependencies compiled
  from the current sources (its stamp equals the fingerprint below) and this
  kernel's folder does not, the warm ``target/`` is copied in. A new notebook's
  first cell then compiles only its own few lines (seconds), not dfdx & co.
  (minutes, with no output in the notebook: evcxr sends cargo's progress to the
  terminal that runs Jupyter).
* ``<build>/.cargo/config.toml``: a copy of ``notebooks/evcxr-cargo-config.toml``
  (every dependency at opt-level 3; cargo reads config from parent folders).
* the working folder ``<repo>/notebooks``, whichever folder below it holds the
  notebook, so the first cell ``:dep flowmatch = { path = ".." }`` is the same
  in every notebook.

If ``$FLOWMATCH_KERNEL_REPORT`` names a file, a JSON line describing the kernel
(build folder, seeded or not, seconds spent) is appended to it (``course
execute`` reads it to check the pinned versions).

Usage:
    python evcxr_kernel.py --evcxr /path/to/evcxr_jupyter --control_file {connection_file}
    python evcxr_kernel.py --fingerprint      # print the dependency fingerprint and exit
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

MAX_SLOTS = 32
STAMP = "flowmatch-deps.stamp"
WARM = "warm"
REPO = Path(__file__).resolve().parent.parent


def log(msg):
    sys.stderr.write(f"flowmatch kernel: {msg}\n")
    sys.stderr.flush()


def fail(msg):
    log(msg)
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


def build_root():
    return Path(os.environ.get("FLOWMATCH_EVCXR_BUILD_DIR") or (REPO / "target" / "evcxr"))


def cargo():
    return os.environ.get("CARGO") or shutil.which("cargo") or "cargo"


def fingerprint():
    """What the compiled dependency set depends on: the pinned versions, the
    library's sources and manifest, the cargo profile of the kernels, and the
    compiler. Equal fingerprints mean a build folder can be reused as it is."""
    h = hashlib.sha256()

    def add(label, data):
        h.update(label.encode() + b"\0" + data + b"\0")

    for rel in ("Cargo.lock", "Cargo.toml", "notebooks/evcxr.toml", "notebooks/evcxr-cargo-config.toml"):
        p = REPO / rel
        add(rel, p.read_bytes() if p.exists() else b"")
    src = REPO / "src"
    for p in sorted(src.rglob("*")):
        rel = p.relative_to(REPO).as_posix()
        if p.is_file() and not rel.startswith("src/bin/"):
            add(rel, p.read_bytes())
    try:
        rustc = subprocess.run(["rustc", "-vV"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        rustc = "unknown"
    add("rustc", rustc.encode())
    # Where the crates come from: a build made against another CARGO_HOME refers to its sources.
    add("cargo_home", str(Path(os.environ.get("CARGO_HOME") or Path.home() / ".cargo").resolve()).encode())
    return h.hexdigest()


def read_stamp(folder):
    try:
        return (folder / STAMP).read_text().strip()
    except OSError:
        return None


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


def lock(path, exclusive, wait):
    """An flock on `path`; returns the fd, or None when it is held elsewhere (wait=False)."""
    try:
        import fcntl
    except ImportError:  # not a Unix: no locking
        return -1
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    flags = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | (0 if wait else fcntl.LOCK_NB)
    try:
        fcntl.flock(fd, flags)
    except OSError:
        os.close(fd)
        return None
    return fd


def acquire_folder(root):
    """Returns (folder, lock fd). The lock is held for the kernel's lifetime: the fd
    is inherited by evcxr_jupyter across exec and released when it exits."""
    named = os.environ.get("FLOWMATCH_KERNEL_DIR")
    if named:
        fd = lock(root / f"{named}.lock", exclusive=True, wait=False)
        if fd is None:
            fail(f"the build folder {root / named} is in use by another kernel")
        return root / named, fd
    for n in range(MAX_SLOTS):
        fd = lock(root / f"kernel-{n}.lock", exclusive=True, wait=False)
        if fd is not None:
            return root / f"kernel-{n}", fd
    return root / f"pid{os.getpid()}", None


def ensure_crates():
    """Makes sure every crate of Cargo.lock is downloaded; returns a short note."""
    manifest = str(REPO / "Cargo.toml")
    quiet = dict(capture_output=True, text=True)
    try:
        r = subprocess.run([cargo(), "fetch", "--locked", "--offline", "--manifest-path", manifest], timeout=120, **quiet)
    except (OSError, subprocess.SubprocessError) as e:
        return f"could not run cargo ({e})"
    if r.returncode == 0:
        return "crates: all on disk"
    log("some crates in Cargo.lock are not downloaded yet; running `cargo fetch --locked` (needs the network) ...")
    r = subprocess.run([cargo(), "fetch", "--locked", "--manifest-path", manifest], timeout=1800, **quiet)
    if r.returncode == 0:
        return "crates: downloaded now"
    last = [l for l in r.stderr.strip().splitlines() if l.strip()][-1:] or ["(no message)"]
    log(f"`cargo fetch --locked` failed: {last[0].strip()}. The first cell will fail; run "
        "`cargo run --release --bin course -- setup` with network access, then restart the kernel.")
    return "crates: MISSING"


def seed_from_warm(root, folder, current):
    """Copies the warm dependency set into `folder` when that helps. Returns a note."""
    warm = root / WARM
    if folder == warm:
        return "this is the warm folder"
    if read_stamp(folder) == current:
        return "dependencies already current"
    if read_stamp(warm) != current:
        return "no current warm set: this kernel compiles its dependencies"
    fd = lock(root / f"{WARM}.lock", exclusive=False, wait=False)
    if fd is None:
        return "warm set busy (being rebuilt): this kernel compiles its dependencies"
    try:
        t0 = time.monotonic()
        tmp = folder / "target.seeding"
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(warm / "target", tmp, symlinks=True)
        shutil.rmtree(folder / "target", ignore_errors=True)
        os.replace(tmp, folder / "target")
        (folder / STAMP).write_text(current + "\n")
        return f"dependencies copied from the warm set in {time.monotonic() - t0:.1f}s"
    except OSError as e:
        return f"could not copy the warm set ({e}): this kernel compiles its dependencies"
    finally:
        if fd not in (None, -1):
            os.close(fd)


def main():
    if sys.argv[1:] == ["--fingerprint"]:
        print(fingerprint())
        return
    t0 = time.monotonic()
    evcxr, control = parse_args(sys.argv[1:])
    notebooks = REPO / "notebooks"
    root = build_root()
    (root / ".cargo").mkdir(parents=True, exist_ok=True)

    cargo_cfg = notebooks / "evcxr-cargo-config.toml"
    if cargo_cfg.exists():
        copy_if_changed(cargo_cfg, root / ".cargo" / "config.toml")

    folder, _lock_fd = acquire_folder(root)
    folder.mkdir(exist_ok=True)
    copy_if_changed(REPO / "Cargo.lock", folder / "Cargo.lock")
    crates = ensure_crates()
    seeded = seed_from_warm(root, folder, fingerprint())
    log(f"build folder {folder}; {crates}; {seeded}")

    report = os.environ.get("FLOWMATCH_KERNEL_REPORT")
    if report:
        with open(report, "a", encoding="utf-8") as f:
            f.write(json.dumps({"folder": str(folder), "crates": crates, "seeded": seeded,
                                "launcher_seconds": time.monotonic() - t0}) + "\n")

    env = dict(os.environ)
    env["EVCXR_CONFIG_DIR"] = str(notebooks)
    env["EVCXR_TMPDIR"] = str(folder)
    os.chdir(notebooks)
    os.execve(evcxr, [evcxr, "--control_file", control], env)


if __name__ == "__main__":
    main()
