#!/usr/bin/env python3
"""Executes ONE notebook in a fresh kernel with nbclient (run by `course execute`).

    python run_notebook.py --in NB.ipynb --out OUT.ipynb --timings OUT.json
                           [--kernel rust] [--cwd DIR] [--timeout S]
                           [--startup-timeout S] [--keep-going] [--label TEXT]
                           [--figure-log FILE] [--kernel-report FILE]

* The executed copy (outputs and figures included) is written to --out even
  when a cell fails, so the failure can be looked at.
* Per-cell timing: nbclient's record_timing metadata (the kernel's
  ``iopub.execute_input`` -> ``shell.execute_reply``), with the wall-clock time
  seen here as a fallback. Written to --timings as JSON for `course` to report.
* Cell output is echoed live (indented), and a heartbeat line is printed while
  a cell runs silently (e.g. the first cell compiling the dependencies).
* evcxr reports a panicking cell as status "ok", so after each cell its outputs
  are scanned for "panicked at"; execution stops there unless --keep-going.
  (`course` re-checks every output itself; this only saves time.)
* ``--figure-log FILE`` is handed to the kernel as ``FLOWMATCH_FIGURE_LOG``: the
  library appends a line to it for every figure it hands to Jupyter. The
  number of new lines after each cell is recorded with the cell, so `course`
  can check that every figure a cell drew is shown (evcxr keeps only the last
  figure of a cell).
* ``--kernel-report FILE`` is handed to the kernel as ``FLOWMATCH_KERNEL_REPORT``:
  the kernel launcher writes which build folder it used.
* The executed copy is signed with the Jupyter notary of ``$JUPYTER_DATA_DIR``
  (the one `course lab` uses), so JupyterLab trusts it and shows its figures.

Exit status: 0 every cell ran without error, 1 a cell failed (error or panic),
2 bad arguments, 3 the kernel could not start, died or timed out.
"""

import argparse
import datetime
import json
import os
import sys
import threading
import time

PANIC_MARKER = "panicked at"
HEARTBEAT_S = 30.0
PREFIX = ""


def say(msg):
    sys.stdout.write(PREFIX + msg + "\n")
    sys.stdout.flush()


def fmt_secs(s):
    if s < 60:
        return f"{s:.1f}s"
    m, s = divmod(int(round(s)), 60)
    return f"{m}m{s:02d}s"


def cell_text(value):
    return "".join(value) if isinstance(value, list) else (value or "")


def output_texts(output):
    """Every piece of text in one output: stream text, error name/value/traceback,
    text/plain of display data and execute results."""
    kind = output.get("output_type")
    if kind == "stream":
        yield cell_text(output.get("text"))
    elif kind == "error":
        yield output.get("ename", "")
        yield output.get("evalue", "")
        for line in output.get("traceback", []) or []:
            yield line
    elif kind in ("display_data", "execute_result"):
        yield cell_text(output.get("data", {}).get("text/plain"))


def has_panic(cell):
    return any(PANIC_MARKER in t for o in cell.get("outputs", []) for t in output_texts(o))


def parse_ts(value):
    if not value:
        return None
    try:
        return datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError:
        try:
            return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=None)
        except ValueError:
            return None


def sign(nb):
    """Signs the notebook with the notary of $JUPYTER_DATA_DIR (what `course lab` uses),
    so JupyterLab trusts it and shows its figures. Returns whether the check passes."""
    try:
        from nbformat.sign import NotebookNotary
        data_dir = os.environ.get("JUPYTER_DATA_DIR")
        notary = NotebookNotary(data_dir=data_dir) if data_dir else NotebookNotary()
        notary.sign(nb)
        return bool(notary.check_signature(nb))
    except Exception as e:  # noqa: BLE001 - an unsigned copy is still useful
        say(f"  (could not sign the executed copy: {e})")
        return False


class PanicStop(Exception):
    pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--in", dest="inp", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--timings", required=True)
    ap.add_argument("--kernel", default="rust")
    ap.add_argument("--cwd", default=None)
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per cell (<= 0: none)")
    ap.add_argument("--startup-timeout", type=float, default=120.0)
    ap.add_argument("--keep-going", action="store_true")
    ap.add_argument("--quiet", action="store_true", help="do not echo cell output")
    ap.add_argument("--label", default=None, help="prefix of the progress lines")
    ap.add_argument("--figure-log", default=None)
    ap.add_argument("--kernel-report", default=None)
    args = ap.parse_args()
    global PREFIX
    PREFIX = f"[{args.label}] " if args.label else ""

    try:
        import nbformat
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
    except ImportError as e:  # pragma: no cover - set-up problem
        say(f"error: {e}; run `cargo run --release --bin course -- setup --headless`")
        return 2

    if args.figure_log:
        open(args.figure_log, "w").close()
        os.environ["FLOWMATCH_FIGURE_LOG"] = os.path.abspath(args.figure_log)
    if args.kernel_report:
        open(args.kernel_report, "w").close()
        os.environ["FLOWMATCH_KERNEL_REPORT"] = os.path.abspath(args.kernel_report)

    def figures_logged():
        if not args.figure_log:
            return None
        try:
            with open(args.figure_log, encoding="utf-8") as f:
                return sum(1 for line in f if line.strip())
        except OSError:
            return None

    nb = nbformat.read(args.inp, as_version=4)
    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip()]
    number = {idx: k + 1 for k, idx in enumerate(code_cells)}
    total = len(code_cells)

    state = {"cell": None, "started": None, "last_output": time.monotonic(), "walls": {}, "drawn": {},
             "logged": 0}
    lock = threading.Lock()
    done = threading.Event()

    def heartbeat():
        while not done.wait(5.0):
            with lock:
                if state["cell"] is None:
                    continue
                now = time.monotonic()
                if now - state["last_output"] >= HEARTBEAT_S:
                    state["last_output"] = now
                    say(f"    ... cell {number.get(state['cell'], '?')}/{total} still running "
                        f"({fmt_secs(now - state['started'])})")

    class Client(NotebookClient):
        async def async_start_new_kernel_client(self):
            kc = await super().async_start_new_kernel_client()
            state["kernel_ready"] = time.monotonic()
            return kc

        def output(self, outs, msg, display_id, cell_index):
            out = super().output(outs, msg, display_id, cell_index)
            if out is not None and not args.quiet:
                with lock:
                    state["last_output"] = time.monotonic()
                kind = out.get("output_type")
                if kind == "stream":
                    text = cell_text(out.get("text"))
                    for line in text.rstrip("\n").split("\n"):
                        say(f"    | {line}")
                elif kind == "error":
                    # The full text stays in the executed copy; a dependency build failure
                    # alone is 100+ lines of cargo output.
                    lines = f"{out.get('ename', '')}: {out.get('evalue', '')}".rstrip("\n").split("\n")
                    for line in lines[:3]:
                        say(f"    | {line}")
                    if len(lines) > 3:
                        say(f"    | ... ({len(lines) - 3} more lines in the executed copy)")
                elif kind in ("display_data", "execute_result"):
                    data = out.get("data", {})
                    shown = [m for m in data if m != "text/plain"]
                    if shown:
                        say(f"    | [{', '.join(shown)}]")
                    elif "text/plain" in data:
                        for line in cell_text(data["text/plain"]).rstrip("\n").split("\n"):
                            say(f"    | {line}")
            return out

    def on_cell_execute(cell, cell_index, **_):
        tags = cell.metadata.get("tags", [])
        label = f" [{', '.join(tags)}]" if tags else ""
        first = cell.source.strip().split("\n")[0][:60]
        say(f"  cell {number.get(cell_index, '?')}/{total}{label}: {first}")
        with lock:
            state["cell"] = cell_index
            state["started"] = time.monotonic()
            state["last_output"] = state["started"]

    def on_cell_executed(cell, cell_index, execute_reply=None, **_):
        with lock:
            wall = time.monotonic() - (state["started"] or time.monotonic())
            state["walls"][cell_index] = wall
            logged = figures_logged()
            if logged is not None:
                state["drawn"][cell_index] = logged - state["logged"]
                state["logged"] = logged
            state["cell"] = None
            state["last_cell"] = cell_index
        status = (execute_reply or {}).get("content", {}).get("status", "?")
        panic = has_panic(cell)
        verdict = "PANIC" if panic else ("ok" if status == "ok" else status.upper())
        say(f"    -> {verdict} in {fmt_secs(wall)}")
        if panic and not args.keep_going:
            raise PanicStop(f"cell {number.get(cell_index)} panicked")

    client = Client(
        nb,
        kernel_name=args.kernel,
        timeout=None if args.timeout <= 0 else int(args.timeout),
        startup_timeout=int(args.startup_timeout),
        record_timing=True,
        coalesce_streams=True,
        allow_errors=args.keep_going,
        resources={"metadata": {"path": args.cwd}} if args.cwd else {},
        on_cell_execute=on_cell_execute,
        on_cell_executed=on_cell_executed,
    )

    threading.Thread(target=heartbeat, daemon=True).start()
    failure = None
    code = 0
    t0 = time.monotonic()
    try:
        client.execute()
    except PanicStop as e:
        failure, code = {"kind": "panic", "message": str(e)}, 1
    except CellTimeoutError as e:
        failure, code = {"kind": "timeout", "message": str(e).strip().split("\n")[0]}, 3
    except DeadKernelError as e:
        failure, code = {"kind": "dead-kernel", "message": str(e)}, 3
    except CellExecutionError as e:
        last = state.get("last_cell")
        errors = [o for o in nb.cells[last].outputs if o.get("output_type") == "error"] if last is not None else []
        # The first error is the cell's own; evcxr lists warnings about earlier cells after it.
        what = errors[0].get("evalue") if errors else (e.evalue or e.ename)
        failure, code = {"kind": "error", "message": f"cell {number.get(last, '?')}: {what or 'error'}"}, 1
    except RuntimeError as e:  # e.g. kernel failed to start in time
        failure, code = {"kind": "kernel", "message": str(e)}, 3
    except Exception as e:  # noqa: BLE001 - report anything else and keep the notebook
        failure, code = {"kind": "runner", "message": f"{type(e).__name__}: {e}"}, 3
    finally:
        done.set()
    total_s = time.monotonic() - t0

    cells = []
    for idx in code_cells:
        cell = nb.cells[idx]
        ex = cell.metadata.get("execution", {})
        a, b = parse_ts(ex.get("iopub.execute_input")), parse_ts(ex.get("shell.execute_reply"))
        kernel_s = (b - a).total_seconds() if a and b else None
        wall = state["walls"].get(idx)
        cells.append({
            "index": idx,
            "number": number[idx],
            "tags": list(cell.metadata.get("tags", [])),
            "first_line": cell.source.strip().split("\n")[0][:80],
            "seconds": kernel_s if kernel_s is not None else wall,
            "wall_seconds": wall,
            "ran": wall is not None,
            "figures_drawn": state["drawn"].get(idx),
        })

    signed = sign(nb)
    nbformat.write(nb, args.out)
    with open(args.timings, "w", encoding="utf-8") as f:
        json.dump({
            "notebook": args.inp,
            "kernel": args.kernel,
            "total_seconds": total_s,
            "kernel_start_seconds": (state["kernel_ready"] - t0) if state.get("kernel_ready") else None,
            "cells": cells,
            "failure": failure,
            "signed": signed,
        }, f, indent=1)
    if failure:
        say(f"  stopped: {failure['kind']}: {failure['message']}")
    return code


if __name__ == "__main__":
    sys.exit(main())
