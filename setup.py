"""Builds the wheel: setuptools drives CMake (scikit-build-core is not available here).

The CMake build lives in build/ (shared with scripts/test) so rebuilds are incremental; the extension, the server
binary (when built) and the converted models (models/dist or $FACEKIT_MODEL_DIR) are
copied into the package.
"""
import os
import shutil
import subprocess
import sys

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

ROOT = os.path.dirname(os.path.abspath(__file__))


class BuildWithCMake(build_py):
    def run(self):
        super().run()
        build = os.path.join(ROOT, "build")
        cfg = [
            "cmake", "-S", ROOT, "-B", build, "-DCMAKE_BUILD_TYPE=Release",
            "-DFACEKIT_BUILD_PYTHON=ON", "-DFACEKIT_BUILD_SERVER=ON",
            f"-DPython3_EXECUTABLE={sys.executable}", f"-DPYTHON_EXECUTABLE={sys.executable}",
        ]
        if shutil.which("ninja"):
            cfg += ["-G", "Ninja"]
        if shutil.which("ccache"):
            cfg += ["-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"]
        subprocess.check_call(cfg)
        subprocess.check_call(["cmake", "--build", build, "--target", "_facekit", "facekit_server",
                               "--parallel", str(os.cpu_count() or 2)])
        pkg = os.path.join(self.build_lib, "facekit")
        for name in os.listdir(os.path.join(build, "python")):
            if name.startswith("_facekit") and name.endswith(".so"):
                shutil.copy2(os.path.join(build, "python", name), pkg)
        os.makedirs(os.path.join(pkg, "bin"), exist_ok=True)
        shutil.copy2(os.path.join(build, "server", "facekit_server"), os.path.join(pkg, "bin"))
        models = os.environ.get("FACEKIT_MODEL_DIR") or os.path.join(ROOT, "models", "dist")
        if not os.path.isfile(os.path.join(models, "manifest.json")):
            raise SystemExit(f"no converted models in {models}: run models/convert first")
        dest = os.path.join(pkg, "_models")
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(models, dest, ignore=shutil.ignore_patterns("parity*.json"))


class BinaryDistribution(Distribution):
    """The wheel carries a compiled module: tag it for this platform."""

    def has_ext_modules(self):
        return True


setup(
    distclass=BinaryDistribution,
    packages=["facekit"],
    package_dir={"": "python"},
    package_data={"facekit": ["*.pyi", "py.typed"]},
    cmdclass={"build_py": BuildWithCMake},
    zip_safe=False,
)
