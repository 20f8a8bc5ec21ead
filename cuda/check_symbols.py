#!/usr/bin/env python3
"""Does every library and symbol a binary imports resolve against a given set of libraries?

  check_symbols.py --lib-path DIR[:DIR...] [--driver-header CUDA_H] [--imports FILE] BIN...

For each binary: its NEEDED libraries (readelf -d), each looked up in --lib-path, then in the
system's (ldconfig -p); then every undefined, non-weak dynamic symbol (nm -D), matched by name
and symbol version to a library that defines it. Prints one line per library with the number of
symbols taken from it, and every symbol that nothing provides; exits 1 if any is unresolved or a
library is missing.

libcuda.so.1 is the driver's library. Where the libcuda.so.1 found is the build's link stub (no
driver on the build machine), its symbols are checked instead against the functions that the
driver API header of the target CUDA version declares (--driver-header, the CUDA 13.0 cuda.h):
a name declared there is part of that driver's API with that exact name. On the GPU machine
the real libcuda.so.1 is found and checked directly.

--imports FILE writes 'LIBRARY SYMBOL' lines: what the binaries need, for a later check.
"""
import os
import re
import subprocess
import sys

STUB_MARK = b"flowmatch link stub"


def run(*cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def needed(path):
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", run("readelf", "-d", path))


def ldconfig_paths():
    out = {}
    try:
        text = run("ldconfig", "-p")
    except (OSError, subprocess.CalledProcessError):
        return out
    for m in re.finditer(r"^\s*(\S+) \(([^)]*)\) => (\S+)", text, re.M):
        if "x86-64" in m.group(2) or "64" in m.group(2):
            out.setdefault(m.group(1), m.group(3))
    return out


def find_lib(name, lib_path, system):
    for d in lib_path:
        p = os.path.join(d, name)
        if os.path.exists(p):
            return os.path.realpath(p)
    return system.get(name)


def undefined(path):
    syms = []
    for line in run("nm", "-D", "--undefined-only", path).splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            name, _, ver = parts[1].partition("@")
            syms.append((name, ver.lstrip("@")))
    return syms


_defined_cache = {}


def defined(lib):
    if lib not in _defined_cache:
        names = {}
        for line in run("nm", "-D", "--defined-only", lib).splitlines():
            parts = line.split()
            if len(parts) >= 3:
                name, _, ver = parts[2].partition("@")
                names.setdefault(name, set()).add(ver.lstrip("@"))
        _defined_cache[lib] = names
    return _defined_cache[lib]


def header_functions(header):
    inc = os.path.dirname(header)
    text = subprocess.run(["gcc", "-E", "-P", "-x", "c", "-I", inc, header], check=True, capture_output=True, text=True).stdout
    text = " ".join(text.split())
    return {m.group(1): {""} for m in re.finditer(r"CUresult (cu\w+) ?\(", text)}


def is_stub(lib):
    with open(lib, "rb") as f:
        return STUB_MARK in f.read()


def main(argv):
    lib_path, header, imports_out, bins = [], None, None, []
    it = iter(argv)
    for a in it:
        if a == "--lib-path":
            lib_path += [d for d in next(it).split(":") if d]
        elif a == "--driver-header":
            header = next(it)
        elif a == "--imports":
            imports_out = next(it)
        else:
            bins.append(a)
    if not bins:
        sys.exit(__doc__)
    system = ldconfig_paths()
    bad = 0
    imports = set()
    for b in bins:
        print(f"== {os.path.basename(b)}")
        libs = {}
        for n in needed(b):
            p = find_lib(n, lib_path, system)
            if not p:
                print(f"  MISSING library {n}")
                bad += 1
                continue
            libs[n] = p
        tables = {}
        for n, p in libs.items():
            if n == "libcuda.so.1" and is_stub(p):
                if not header:
                    print("  libcuda.so.1 is the link stub and no --driver-header was given")
                    bad += 1
                    continue
                tables[n] = (header_functions(header), f"functions declared by {header} (stub found, no driver here)")
            else:
                tables[n] = (defined(p), p)
        counts = {n: 0 for n in tables}
        for name, ver in undefined(b):
            hit = None
            for n, (table, _) in tables.items():
                vers = table.get(name)
                if vers is not None and (not ver or ver in vers or n == "libcuda.so.1"):
                    hit = n
                    break
            if hit is None:
                print(f"  UNRESOLVED {name}{'@' + ver if ver else ''}")
                bad += 1
            else:
                counts[hit] += 1
                imports.add((hit, name))
        for n, (_, where) in tables.items():
            print(f"  {n:<24} {counts[n]:4d} symbols  <- {where}")
        glibc = [tuple(int(x) for x in v[6:].split(".")) for _, v in undefined(b) if re.fullmatch(r"GLIBC_[0-9.]+", v)]
        if glibc:
            print("  newest glibc symbol version needed: GLIBC_" + ".".join(map(str, max(glibc))))
    if imports_out:
        with open(imports_out, "w") as f:
            for lib, name in sorted(imports):
                f.write(f"{lib} {name}\n")
    print("symbol check: " + ("OK, every library and symbol resolves" if not bad else f"{bad} problem(s)"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
