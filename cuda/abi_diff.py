#!/usr/bin/env python3
"""cudarc 0.9.15's CUDA 11.8 bindings against the same bindings generated from CUDA 13.0 headers.

  abi_diff.py OLD_SYS_RS NEW_SYS_RS [--imports FILE] [--lib SONAME]

OLD: cudarc's committed src/<module>/sys.rs (bindgen 0.64 on the 11.8 headers).
NEW: the output of the same bindgen version with cudarc's own bindgen.sh flags on the 13.0
headers (scripts/cuda-abi-diff.sh makes it).

Prints, for the module: how many of the 11.8 functions keep exactly the same Rust signature in
13.0, which changed signature, which are no longer declared; then for the functions the built
binaries import (--imports, lines 'LIBRARY SYMBOL' from check_symbols.py, filtered by --lib),
each one's status and every type its signature reaches (structs, unions, enums, aliases,
followed through fields), compared item by item. Exit 1 if an imported function or a type it
reaches differs.
"""
import re
import sys


def norm(s):
    s = s.replace("::core::", "core::")
    s = re.sub(r"\s+", " ", s).strip()
    s = re.sub(r"\s*([(),:;<>{}=\[\]*])\s*", r"\1", s)
    s = s.replace(",)", ")").replace(",}", "}")
    return s


def parse(path):
    text = open(path, encoding="utf-8").read()
    fns, items = {}, {}
    for block in re.finditer(r'extern "C" \{(.*?)\n\}', text, re.S):
        for m in re.finditer(r"pub fn (\w+)\s*\((.*?)\)\s*(->\s*[^;]+)?;", block.group(1), re.S):
            fns[m.group(1)] = norm("(%s)%s" % (m.group(2), m.group(3) or ""))
    for m in re.finditer(r"^pub (type|struct|union|enum) (\w+)(.*?)(;|\n\})", text, re.S | re.M):
        kind, name, body = m.group(1), m.group(2), m.group(3) + m.group(4)
        items[name] = (kind, norm(body))
    for m in re.finditer(r"^pub use self::(\w+) as (\w+);", text, re.M):
        items[m.group(2)] = ("alias", m.group(1))
    for m in re.finditer(r"^impl (\w+) \{(.*?)\n\}", text, re.S | re.M):
        consts = re.findall(r"pub const (\w+): \w+ = ([^;]+);", m.group(2))
        if consts and m.group(1) in items:
            kind, body = items[m.group(1)]
            items[m.group(1)] = (kind, body + "".join(f"|{a}={norm(b)}" for a, b in consts))
    return fns, items


def idents(s):
    return set(re.findall(r"\b([A-Za-z_]\w*)\b", s))


def enum_values(body):
    vals = dict(re.findall(r"(\w+)=([^,}|]+)", body))
    for k, v in list(vals.items()):  # impl consts name another variant: Enum::Other
        if "::" in v:
            vals[k] = vals.get(v.split("::")[-1], v)
    return vals


def by_value(vals):
    """value -> names at that value, less a trailing _V1/_V2 (CUDA renames the old one _V1)."""
    out = {}
    for k, v in vals.items():
        out.setdefault(v, set()).add(re.sub(r"_V\d+$", "", k))
    return out


def reach(names, items):
    seen, todo = set(), list(names)
    while todo:
        n = todo.pop()
        if n in seen or n not in items:
            continue
        seen.add(n)
        todo += idents(items[n][1]) - seen
    return seen


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    old_path, new_path = argv[0], argv[1]
    imports_file, lib = None, None
    rest = iter(argv[2:])
    for a in rest:
        if a == "--imports":
            imports_file = next(rest)
        elif a == "--lib":
            lib = next(rest)
    (ofn, oit), (nfn, nit) = parse(old_path), parse(new_path)
    same = [f for f in ofn if nfn.get(f) == ofn[f]]
    changed = sorted(f for f in ofn if f in nfn and nfn[f] != ofn[f])
    gone = sorted(f for f in ofn if f not in nfn)
    print(f"functions in the 11.8 bindings: {len(ofn)}; in the 13.0 bindings: {len(nfn)}")
    print(f"  same signature in 13.0: {len(same)}")
    print(f"  signature changed:      {len(changed)}" + (": " + " ".join(changed) if changed else ""))
    print(f"  not declared in 13.0:   {len(gone)}" + (": " + " ".join(gone) if gone else ""))
    for f in changed:
        print(f"    {f}\n      11.8 {ofn[f]}\n      13.0 {nfn[f]}")
    if not imports_file:
        return 0
    wanted = sorted(
        {line.split()[1] for line in open(imports_file) if line.strip() and (lib is None or line.split()[0] == lib)}
    )
    wanted = [w for w in wanted if w in ofn]
    print(f"imported by the binaries ({lib or 'all'}): {len(wanted)}")
    bad = 0
    for f in wanted:
        st = "same" if nfn.get(f) == ofn[f] else ("CHANGED" if f in nfn else "NOT DECLARED in 13.0")
        bad += st != "same"
        print(f"  {f:<34} {st}")
    types = reach(set().union(*(idents(ofn[f]) for f in wanted)) if wanted else set(), oit)
    print(f"types their signatures reach: {len(types)}")
    for t in sorted(types):
        kind, ob = oit[t]
        if t not in nit:
            print(f"  {t:<34} {kind}: NOT DECLARED in 13.0")
            bad += 1
        elif nit[t][1] == ob:
            print(f"  {t:<34} {kind}: same")
        elif kind == "enum":
            ov, nv = enum_values(ob), enum_values(nit[t][1])
            obv, nbv = by_value(ov), by_value(nv)
            # A value keeps its meaning if 13.0 still names it alike (…_V1 for an old one counts).
            lost = {v: sorted(n) for v, n in obv.items() if not (n & nbv.get(v, set())) and not v.endswith("MAX")}
            lost = {v: n for v, n in lost.items() if not all(x.endswith("_MAX") for x in n)}
            renamed = sorted(k for k in ov if nv.get(k) != ov[k] and not k.endswith("_MAX"))
            added = sorted(set(nbv) - set(obv))
            if lost:
                bad += 1
                print(f"  {t:<34} enum: VALUES CHANGED MEANING {lost}")
            else:
                print(
                    f"  {t:<34} enum: every 11.8 value keeps its meaning; 13.0 adds {len(added)} value(s)"
                    + (f"; names moved to another value (old value now named ..._V1): {' '.join(renamed)}" if renamed else "")
                )
        else:
            bad += 1
            print(f"  {t:<34} {kind}: CHANGED\n      11.8 {ob}\n      13.0 {nit[t][1]}")
    print("abi diff: " + ("OK, imported functions and the types they reach are unchanged" if not bad else f"{bad} difference(s)"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
