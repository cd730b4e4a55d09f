# Shared settings for facekit's scripts (sourced, not run).
FACEKIT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export FACEKIT_CACHE="${FACEKIT_CACHE:-$HOME/.cache/facekit}"
export CCACHE_DIR="$FACEKIT_CACHE/ccache"
export CCACHE_BASEDIR="$FACEKIT_ROOT"
export OPENBLAS_NUM_THREADS=1
export FACEKIT_PACKAGES="$FACEKIT_CACHE/packages"
VENV="$FACEKIT_ROOT/.venv"
