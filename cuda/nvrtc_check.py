#!/usr/bin/env python3
"""The kernels dfdx 0.13 compiles with NVRTC at run time, checked without a GPU.

dfdx compiles five ops' kernels (concat, concat_along, reshape_to, stack, to_dtype) with NVRTC
the first time they run, with `--gpu-architecture=sm_90` and include paths baked in at build
time: the CUDA headers (for cuda_fp16.h) and dfdx's own build folder (for cuda_utils.cuh).
NVRTC needs no GPU, so this compiles the same sources with the same options here, and again
on the GPU machine with that machine's libnvrtc.

  nvrtc_check.py extract DFDX_SRC OUT_DIR
      writes OUT_DIR/<op>_<KERNEL>_<types>.cu, the sources as dfdx fills them in for f32
  nvrtc_check.py compile --lib LIBNVRTC --arch sm_90 [--include DIR]... [--ptx-out DIR] FILE.cu...
      compiles each file as cudarc's compile_ptx_with_opts does; prints NVRTC's version and the
      PTX ISA version and target of each result; exit 1 on any failure
"""
import ctypes
import os
import re
import sys

# (file under src/tensor_ops, constant, [(placeholder, type)...]) as dfdx's cuda_kernel.rs fill them.
KERNELS = [
    ("concat/cuda_kernel.rs", "BWD_KERNEL", [[("$Ty", "float")]]),
    ("concat_along/cuda_kernel.rs", "KERNEL", [[("$Ty", "float")]]),
    ("reshape_to/cuda_kernel.rs", "FWD_KERNEL", [[("$T", "float")]]),
    ("reshape_to/cuda_kernel.rs", "BWD_KERNEL", [[("$T", "float")]]),
    ("stack/cuda_kernel.rs", "BWD_KERNEL", [[("$Ty", "float")]]),
    (
        "to_dtype/cuda_kernel.rs",
        "KERNEL",
        [[("$Src", "float"), ("$Dst", "float")], [("$Src", "float"), ("$Dst", "double")], [("$Src", "float"), ("$Dst", "__half")]],
    ),
]


def rust_str(body):
    """Undoes the escapes of a Rust string literal (the subset dfdx's kernels use)."""
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            n = body[i + 1]
            if n == "\n":  # line continuation: skip the newline and leading whitespace
                i += 2
                while i < len(body) and body[i] in " \t":
                    i += 1
                continue
            out.append({"n": "\n", "t": "\t", '"': '"', "\\": "\\", "0": "\0"}.get(n, "\\" + n))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def extract(src_root, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    n = 0
    for rel, const, fills in KERNELS:
        text = open(os.path.join(src_root, "src", "tensor_ops", rel), encoding="utf-8").read()
        m = re.search(r"const %s: &str = \"((?:[^\"\\]|\\.)*)\";" % const, text, re.S)
        if not m:
            sys.exit(f"{rel}: constant {const} not found (not dfdx 0.13?)")
        body = rust_str(m.group(1))
        for fill in fills:
            src = body
            for k, v in sorted(fill, key=lambda kv: -len(kv[0])):
                src = src.replace(k, v)
            if "$" in src:
                sys.exit(f"{rel} {const}: placeholder left: {src[src.index('$'):][:20]}")
            name = "%s_%s_%s.cu" % (rel.split("/")[0], const.lower(), "_".join(v.strip("_") for _, v in fill))
            with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
                f.write(src)
            n += 1
    print(f"extracted {n} NVRTC kernel sources to {out_dir}")


def compile_all(lib, arch, includes, files, ptx_out):
    nv = ctypes.CDLL(lib)
    major, minor = ctypes.c_int(), ctypes.c_int()
    nv.nvrtcVersion(ctypes.byref(major), ctypes.byref(minor))
    nv.nvrtcGetErrorString.restype = ctypes.c_char_p
    print(f"NVRTC {major.value}.{minor.value} from {os.path.realpath(lib)}")
    # The order cudarc's CompileOptions::build uses: include paths, then the architecture.
    opts = [f"--include-path={d}" for d in includes] + [f"--gpu-architecture={arch}"]
    copts = (ctypes.c_char_p * len(opts))(*[o.encode() for o in opts])
    failed = 0
    for path in files:
        src = open(path, "rb").read()
        prog = ctypes.c_void_p()
        r = nv.nvrtcCreateProgram(ctypes.byref(prog), src, None, 0, None, None)
        if r != 0:
            sys.exit(f"nvrtcCreateProgram: {nv.nvrtcGetErrorString(r).decode()}")
        r = nv.nvrtcCompileProgram(prog, len(opts), copts)
        size = ctypes.c_size_t()
        nv.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
        log = ctypes.create_string_buffer(size.value)
        nv.nvrtcGetProgramLog(prog, log)
        name = os.path.basename(path)
        if r != 0:
            failed += 1
            print(f"FAIL {name}: {nv.nvrtcGetErrorString(r).decode()}\n{log.value.decode(errors='replace')}")
        else:
            nv.nvrtcGetPTXSize(prog, ctypes.byref(size))
            ptx = ctypes.create_string_buffer(size.value)
            nv.nvrtcGetPTX(prog, ptx)
            text = ptx.value.decode()
            ver = re.search(r"^\.version (\S+)", text, re.M).group(1)
            tgt = re.search(r"^\.target (\S+)", text, re.M).group(1)
            print(f"ok   {name}: PTX ISA {ver}, target {tgt}, {len(text)} bytes")
            if ptx_out:
                os.makedirs(ptx_out, exist_ok=True)
                with open(os.path.join(ptx_out, name[:-3] + ".ptx"), "w") as f:
                    f.write(text)
        nv.nvrtcDestroyProgram(ctypes.byref(prog))
    print(f"{len(files) - failed} passed, {failed} failed")
    return 1 if failed else 0


def main(argv):
    if len(argv) == 3 and argv[0] == "extract":
        return extract(argv[1], argv[2]) or 0
    if argv and argv[0] == "compile":
        lib, arch, includes, files, ptx_out = None, "sm_90", [], [], None
        it = iter(argv[1:])
        for a in it:
            if a == "--lib":
                lib = next(it)
            elif a == "--arch":
                arch = next(it)
            elif a == "--include":
                includes.append(next(it))
            elif a == "--ptx-out":
                ptx_out = next(it)
            else:
                files.append(a)
        if not lib or not files:
            sys.exit(__doc__)
        return compile_all(lib, arch, includes, files, ptx_out)
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
