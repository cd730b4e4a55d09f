"""The CPU a benchmark ran on, in one line: timings move with it (oneDNN's int8 kernels are ~3x
faster per image where AVX-512 VNNI is, 1.3-2x where only AVX2 is; docs/BENCHMARKS.md), so every
table says which it was."""
import os


def summary(cpuinfo=None):
    """e.g. "AMD EPYC, 2 cores, AVX2 + AVX-512 VNNI", from /proc/cpuinfo's text (or `cpuinfo`'s)."""
    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo") as f:
                cpuinfo = f.read()
        except OSError:
            return f"unknown CPU, {os.cpu_count()} cores"
    lines = cpuinfo.splitlines()
    field = lambda key: next((l.split(":", 1)[1].strip() for l in lines if l.split(":", 1)[0].strip() == key), "")  # noqa: E731
    flags = set(field("flags").split())
    simd = "AVX2" if {"avx2", "fma"} <= flags else "no AVX2"
    if "avx512f" in flags:
        simd += " + AVX-512" + (" VNNI" if "avx512_vnni" in flags else "")
    elif "avx_vnni" in flags:
        simd += " + AVX-VNNI"
    return f"{field('model name') or 'unknown CPU'}, {os.cpu_count()} cores, {simd}"


if __name__ == "__main__":
    print(summary())
