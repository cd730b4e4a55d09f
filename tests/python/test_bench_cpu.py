"""bench/cpu.py: the CPU line every benchmark table carries (timings move with the SIMD the VM has)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
import cpu  # noqa: E402

_CPUINFO = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC
flags\t\t: fpu sse2 {flags}
"""


def test_names_the_model_and_the_widest_simd():
    avx2 = cpu.summary(_CPUINFO.format(flags="avx f16c fma avx2"))
    vnni = cpu.summary(_CPUINFO.format(flags="avx fma avx2 avx512f avx512bw avx512_vnni"))
    plain512 = cpu.summary(_CPUINFO.format(flags="avx fma avx2 avx512f"))
    assert avx2.startswith("AMD EPYC, ") and avx2.endswith(", AVX2")
    assert vnni.endswith(", AVX2 + AVX-512 VNNI")
    assert plain512.endswith(", AVX2 + AVX-512")
    assert cpu.summary(_CPUINFO.format(flags="avx")).endswith(", no AVX2")


def test_reads_this_machine():
    line = cpu.summary()
    assert f"{os.cpu_count()} cores" in line and "AVX" in line or "unknown CPU" in line
