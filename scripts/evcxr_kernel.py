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
* **Exactly the crates of the repository's Cargo.lock.** ``<build>/vendor``
  holds the sources of every package in Cargo.lock (``cargo vendor --locked``,
  all targets, since evcxr's ``cargo metadata`` reads them all), and
  ``<build>/.cargo/config.toml`` replaces crates.io with that folder. So the
  kernel builds flowmatch, dfdx, gemm, plotters ... at exactly the versions
  ``cargo test`` uses, offline, whatever else the user's cargo cache holds.
  (Copying Cargo.lock into the kernel's folder is not enough: evcxr builds an
  empty crate when it starts, and cargo then prunes that lock file.) When the
  vendored set is missing or older than Cargo.lock, the launcher makes it,
  from the local cargo cache or, failing that, from crates.io.
  ``FLOWMATCH_KERNEL_CRATES_IO=1`` turns the replacement off (to ``:dep`` other
  crates; versions are then not pinned).
* **A warm dependency set.** When ``<build>/warm`` holds dependencies compiled
  from the current sources (its stamp equals the fingerprint below) and this
  kernel's folder does not, the warm ``target/`` is copied in. A new notebook's
  first cell then compiles only its own few lines (seconds), not dfdx & co.
  (minutes, with no output in the notebook: evcxr sends cargo's progress to the
  terminal that runs Jupyter).
* ``<build>/.cargo/config.toml``: ``notebooks/evcxr-cargo-config.toml`` (every
  dependency at opt-level 3; cargo reads config from parent folders) plus the
  source replacement above.
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
VENDOR = "vendor"
VENDOR_LOCK = ".flowmatch-Cargo.lock"
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
    # Where the crates come from: the vendored set, or (opted out) the cargo home.
    if crates_io():
        add("cargo_home", str(Path(os.environ.get("CARGO_HOME") or Path.home() / ".cargo").resolve()).encode())
    else:
        add("vendor", str((build_root() / VENDOR).resolve()).encode())
    return h.hexdigest()


def crates_io():
    return os.environ.get("FLOWMATCH_KERNEL_CRATES_IO") == "1"


def read_stamp(folder):
    try:
        return (folder / STAMP).read_text().strip()
    except OSError:
        return None


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
    # Kept open across exec, so that the lock lives as long as the kernel.
    os.set_inheritable(fd, True)
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


def vendored_is_current(vendor):
    try:
        return (vendor / VENDOR_LOCK).read_bytes() == (REPO / "Cargo.lock").read_bytes()
    except OSError:
        return False


def vendor_crates(root, offline, verbose=False):
    """Copies the sources of every package in Cargo.lock into <root>/vendor. Returns
    (ok, last line of cargo's messages). `verbose` lets cargo's progress through."""
    vendor = root / VENDOR
    tmp = root / f"{VENDOR}.{os.getpid()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    cmd = [cargo(), "vendor", "--locked", "--versioned-dirs", "--manifest-path", str(REPO / "Cargo.toml"), str(tmp)]
    if offline:
        cmd.insert(1, "--offline")
    try:
        r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=None if verbose else subprocess.PIPE,
                           text=True, timeout=1800)
    except (OSError, subprocess.SubprocessError) as e:
        return False, f"could not run cargo ({e})"
    if r.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        last = [l.strip() for l in (r.stderr or "").splitlines() if l.strip()][-1:] or ["see cargo's messages above"]
        return False, last[0]
    (tmp / VENDOR_LOCK).write_bytes((REPO / "Cargo.lock").read_bytes())
    old = root / f"{VENDOR}.{os.getpid()}.old"
    if vendor.exists():
        os.replace(vendor, old)
    os.replace(tmp, vendor)
    shutil.rmtree(old, ignore_errors=True)
    return True, ""


def ensure_crates(root, verbose=False):
    """Makes sure <root>/vendor holds exactly the crates of Cargo.lock; returns a short note."""
    if crates_io():
        return "crates: from the cargo cache (FLOWMATCH_KERNEL_CRATES_IO=1, versions not pinned)"
    vendor = root / VENDOR
    if vendored_is_current(vendor):
        return "crates: the vendored set of Cargo.lock"
    fd = lock(root / f"{VENDOR}.lock", exclusive=True, wait=True)
    try:
        if vendored_is_current(vendor):  # another kernel made it while this one waited
            return "crates: the vendored set of Cargo.lock"
        ok, _ = vendor_crates(root, offline=True)  # quiet: failing here only means "download"
        if ok:
            return "crates: vendored now from the cargo cache"
        log("some crates in Cargo.lock are not downloaded yet; downloading them (needs the network) ...")
        ok, why = vendor_crates(root, offline=False, verbose=verbose)
        if ok:
            return "crates: downloaded and vendored now"
        log(f"could not get every crate of Cargo.lock: {why}. The first cell will fail; run "
            "`cargo run --release --bin course -- setup` with network access, then restart the kernel.")
        return "crates: MISSING"
    finally:
        if fd not in (None, -1):
            os.close(fd)


# The folder named in the kernels' source replacement when the vendored set could not be made.
# It does not exist, so the first cell fails with cargo's "failed to read root of directory
# source: <this path>": the notebook's error then says what is wrong and what to do.
MISSING = "CRATES-MISSING (run: cargo run --release --bin course -- setup, with network access)"


def write_cargo_config(root, missing=False):
    """<root>/.cargo/config.toml: the kernels' profile, and crates.io replaced by the vendored set."""
    text = (REPO / "notebooks" / "evcxr-cargo-config.toml").read_text()
    if not crates_io():
        vendor = root.resolve() / (MISSING if missing else VENDOR)
        text += (
            "\n# Written by scripts/evcxr_kernel.py: every crate comes from the vendored copy of\n"
            "# Cargo.lock's packages, so the kernels build exactly the versions `cargo test` uses.\n"
            "[source.crates-io]\nreplace-with = \"flowmatch-vendored\"\n\n"
            f"[source.flowmatch-vendored]\ndirectory = {json.dumps(str(vendor))}\n"
        )
    path = root / ".cargo" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        if path.read_text() == text:
            return
    except OSError:
        pass
    tmp = path.with_name(f"config.toml.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


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
    if sys.argv[1:] == ["--vendor"]:
        # `course setup`: make the vendored set now, with cargo's progress on the terminal.
        root = build_root()
        root.mkdir(parents=True, exist_ok=True)
        note = ensure_crates(root, verbose=True)
        write_cargo_config(root, missing="MISSING" in note)
        print(note)
        sys.exit(0 if "MISSING" not in note else 1)
    t0 = time.monotonic()
    evcxr, control = parse_args(sys.argv[1:])
    notebooks = REPO / "notebooks"
    root = build_root()
    (root / ".cargo").mkdir(parents=True, exist_ok=True)
    crates = ensure_crates(root)
    write_cargo_config(root, missing="MISSING" in crates)

    folder, _lock_fd = acquire_folder(root)
    folder.mkdir(exist_ok=True)
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
