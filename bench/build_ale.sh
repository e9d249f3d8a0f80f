#!/usr/bin/env bash
# Build an ale-py wheel (with its C++ vector env) from source for a Python that has no wheel in
# reach, e.g. the GPU machine (Python 3.12, no network). Two steps, on two machines:
#
#   bench/build_ale.sh prepare [DIR]   # here, with network/local stores: gathers every input into DIR
#   bench/build_ale.sh build   [DIR]   # there, offline: builds DIR/dist/ale_py-*.whl
#
# DIR defaults to .whl/ale-src (ignored by git; carried to the GPU machine with `carry: [".whl"]`).
# Inputs (none of them is committed to this repository):
#   * Farama-Foundation/Arcade-Learning-Environment at 0.12.1+ (git archive of a local mirror, $ALE_GIT)
#   * nanobind 2.x ($NANOBIND_GIT at $NANOBIND_TAG) with Tessil/robin-map ($ROBIN_MAP_GIT), the
#     submodule a snapshot lacks. nanobind 3.x builds but segfaults on the first vector step.
#   * the ROMs, taken from the cp311 ale-py wheel in the local wheel store (they are data files)
#   * OpenCV core+imgproc (the vector env's frame resize) and zlib headers from Debian bookworm's
#     .debs, unpacked into a private prefix; their shared libraries (and what they need) are copied
#     into the wheel beside _ale_py, which finds them through RPATH=$ORIGIN.
set -euo pipefail

MODE=${1:?usage: build_ale.sh prepare|build [DIR]}
DIR=$(realpath -m "${2:-.whl/ale-src}")
ALE_GIT=${ALE_GIT:-/work/.mirror/Farama-Foundation+Arcade-Learning-Environment/repo}
ALE_REF=${ALE_REF:-HEAD}
NANOBIND_GIT=${NANOBIND_GIT:-/work/.mirror/wjakob+nanobind/repo}
NANOBIND_TAG=${NANOBIND_TAG:-v2.9.2}
ROBIN_MAP_GIT=${ROBIN_MAP_GIT:-/work/.mirror/Tessil+robin-map/repo}
PY=$(realpath -s "$(command -v "${PYTHON:-python3}")")
DEBS="libopencv-core406 libopencv-imgproc406 libopencv-core-dev libopencv-imgproc-dev libtbb12
      libblas3 liblapack3 libgfortran5 libquadmath0 libglx0 libglvnd0 zlib1g zlib1g-dev"
# Libraries copied into the wheel: the two OpenCV modules and what they load that a bare host may lack.
BUNDLE="libopencv_core.so.406 libopencv_imgproc.so.406 libtbb.so.12 liblapack.so.3 libblas.so.3
        libgfortran.so.5 libquadmath.so.0 libGLX.so.0 libGLdispatch.so.0"

prepare() {
  rm -rf "$DIR" && mkdir -p "$DIR/debs"
  version=$(git -C "$ALE_GIT" show "$ALE_REF:version.txt")
  case "$version" in 0.1[2-9].*) ;; *) echo "ALE at $ALE_REF is $version; the vector env needs >= 0.12.1" >&2; exit 1;; esac
  git -C "$ALE_GIT" archive --prefix=ale/ "$ALE_REF" src cmake CMakeLists.txt pyproject.toml version.txt \
    vcpkg.json README.md LICENSE.md | gzip >"$DIR/ale.tar.gz"
  git -C "$NANOBIND_GIT" archive --prefix=nanobind/ "$NANOBIND_TAG" | gzip >"$DIR/nanobind.tar.gz"
  robin=$(git -C "$NANOBIND_GIT" ls-tree "$NANOBIND_TAG" ext/robin_map | awk '{print $3}')
  git -C "$ROBIN_MAP_GIT" archive --prefix=robin_map/ "$robin" | gzip >"$DIR/robin_map.tar.gz"
  tmp=$(mktemp -d)
  PIP_RETRIES=0 "$PY" -m pip download "ale-py==$version" --no-deps --only-binary=:all: \
    --python-version 3.11 --platform manylinux_2_28_x86_64 -d "$tmp" >/dev/null
  (cd "$tmp" && "$PY" -m zipfile -e ale_py-*.whl x && tar czf "$DIR/roms.tar.gz" -C x/ale_py roms)
  rm -rf "$tmp"
  # shellcheck disable=SC2086
  (cd "$DIR/debs" && apt-get download $DEBS >/dev/null 2>&1)
  echo "ALE $version ($ALE_REF), nanobind $NANOBIND_TAG, robin-map $robin" >"$DIR/SOURCES"
  du -sh "$DIR"
}

build() {
  work=${BUILD_WORK:-/tmp/ale-build}
  # KEEP_BUILD=1 keeps the CMake build folder: a re-run then recompiles only what changed.
  if [ "${KEEP_BUILD:-0}" = 1 ]; then find "$work" -mindepth 1 -maxdepth 1 ! -name cmake-build -exec rm -rf {} +
  else rm -rf "$work"; fi
  mkdir -p "$work/prefix" "$work/py"
  tar xzf "$DIR/ale.tar.gz" -C "$work"
  tar xzf "$DIR/roms.tar.gz" -C "$work/ale/src/ale/python"
  # No SDL (no screen or sound on a training host) and no JAX/XLA bindings: the wheel needs neither.
  sed -i -e 's/"-DSDL_SUPPORT=ON"/"-DSDL_SUPPORT=OFF"/; s/"-DSDL_DYNLOAD=ON"/"-DSDL_DYNLOAD=OFF"/' \
    -e 's/"-DBUILD_VECTOR_XLA_LIB=ON"/"-DBUILD_VECTOR_XLA_LIB=OFF"/' "$work/ale/pyproject.toml"
  # No link-time optimisation: on the GPU machine gcc (/opt/gcc) and ld (/usr/bin) disagree
  # ("could not run lto-wrapper"). ALE_LTO=1 keeps it where the toolchain is whole.
  [ "${ALE_LTO:-0}" = 1 ] || sed -i 's/set(CMAKE_INTERPROCEDURAL_OPTIMIZATION TRUE)/set(CMAKE_INTERPROCEDURAL_OPTIMIZATION FALSE)/' \
    "$work/ale/src/ale/CMakeLists.txt"
  # nanobind laid out as its pip package is (what `python -m nanobind --cmake_dir` expects).
  tar xzf "$DIR/nanobind.tar.gz" -C "$work"
  nb="$work/py/nanobind"
  mkdir -p "$nb/ext"
  cp "$work/nanobind/src/__init__.py" "$work/nanobind/src/__main__.py" "$nb/"
  cp -r "$work/nanobind/src" "$work/nanobind/include" "$work/nanobind/cmake" "$nb/"
  tar xzf "$DIR/robin_map.tar.gz" -C "$nb/ext"
  for deb in "$DIR"/debs/*.deb; do dpkg-deb -x "$deb" "$work/prefix" 2>/dev/null || dpkg -x "$deb" "$work/prefix"; done
  lib="$work/prefix/usr/lib/x86_64-linux-gnu"
  cp -a "$work"/prefix/lib/x86_64-linux-gnu/* "$lib/" 2>/dev/null || true
  # The bundled libraries, found by name (Debian keeps BLAS/LAPACK in subfolders).
  mkdir -p "$work/bundle"
  for so in $BUNDLE; do cp -L "$(find "$work/prefix" -name "$so" | head -n 1)" "$work/bundle/"; done
  # A config of our own: Debian's OpenCVConfig names all ~60 modules, and we carry two. _ale_py
  # links every bundled library directly (--no-as-needed): its RUNPATH=$ORIGIN then finds them
  # all, also the ones only OpenCV needs (a RUNPATH does not reach a dependency's dependencies).
  mkdir -p "$work/opencv-cmake"
  libs=""
  for so in $BUNDLE; do libs="$libs \"$work/bundle/$so\""; done
  cat >"$work/opencv-cmake/OpenCVConfig.cmake" <<EOF
set(OpenCV_FOUND TRUE)
set(OpenCV_VERSION 4.6.0)
set(OpenCV_INCLUDE_DIRS "$work/opencv-include")
set(OpenCV_LIBS "-Wl,--no-as-needed" $libs)
EOF
  # opencv.hpp includes every module Debian built; declare only the two we carry.
  mkdir -p "$work/opencv-include"
  cp -r "$work/prefix/usr/include/opencv4/opencv2" "$work/opencv-include/"
  grep -v '^#define HAVE_OPENCV_' "$work/prefix/usr/include/opencv4/opencv2/opencv_modules.hpp" >"$work/opencv-include/opencv2/opencv_modules.hpp"
  printf '#define HAVE_OPENCV_CORE\n#define HAVE_OPENCV_IMGPROC\n' >>"$work/opencv-include/opencv2/opencv_modules.hpp"
  # A compiler that ships only libstdc++.a (the GPU machine's /opt/gcc) would link the C++ runtime
  # into _ale_py, beside the shared one OpenCV loads: two runtimes crash on the first stream write
  # (std::ostream << double in ALE's Settings). Link the system's shared libstdc++ instead.
  linkflags=""
  if [ "$("${CXX:-c++}" -print-file-name=libstdc++.so)" = libstdc++.so ]; then
    mkdir -p "$work/stdcxx"
    ln -sf "$(ldconfig -p | awk '/libstdc\+\+\.so\.6 .*x86-64/ {print $NF; exit}')" "$work/stdcxx/libstdc++.so"
    linkflags="-L$work/stdcxx"
    echo "${CXX:-c++} has no shared libstdc++: linking $(readlink "$work/stdcxx/libstdc++.so")"
  fi
  export PYTHONPATH="$work/py${PYTHONPATH:+:$PYTHONPATH}" LIBRARY_PATH="$work/bundle:$lib"
  echo "nanobind $("$PY" -m nanobind --version) from $("$PY" -m nanobind --cmake_dir)"
  (cd "$work/ale" && CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) "$PY" -m pip wheel . --no-deps --no-build-isolation -w "$work/dist" \
    -C cmake.define.OpenCV_DIR="$work/opencv-cmake" \
    -C cmake.define.ZLIB_INCLUDE_DIR="$work/prefix/usr/include" -C cmake.define.ZLIB_LIBRARY="$(readlink -f "$work/prefix/lib/x86_64-linux-gnu/libz.so.1")" \
    -C 'cmake.define.CMAKE_INSTALL_RPATH=$ORIGIN' -C cmake.define.CMAKE_MODULE_LINKER_FLAGS="$linkflags" \
    -C build-dir="$work/cmake-build")
  # Put the shared libraries beside _ale_py and repack (wheel pack rewrites RECORD).
  (cd "$work/dist" && "$PY" -m wheel unpack ale_py-*.whl -d unpacked)
  pkg=$(echo "$work"/dist/unpacked/ale_py-*)
  cp "$work"/bundle/* "$pkg/ale_py/"
  mkdir -p "$DIR/dist" && rm -f "$DIR"/dist/ale_py-*.whl
  "$PY" -m wheel pack "$pkg" -d "$DIR/dist"
  ls -la "$DIR/dist"
  # The check that matters: a fresh interpreter, no LD_LIBRARY_PATH, imports it and steps the vector env.
  rm -rf "$work/check" && "$PY" -m pip install -q --no-deps --no-index --target "$work/check" "$DIR"/dist/ale_py-*.whl
  env -u LD_LIBRARY_PATH PYTHONPATH="$work/check${CHECK_PYTHONPATH:+:$CHECK_PYTHONPATH}" "$PY" -c '
import numpy as np, ale_py
from ale_py.vector_env import AtariVectorEnv
env = AtariVectorEnv("breakout", 2)
obs, info = env.reset(seed=0)
for _ in range(50):
    obs, *_ = env.step(np.ones(2, dtype=np.int64))
print("ale-py", ale_py.__version__, "vector env ok:", obs.shape, obs.dtype, int(obs.max()))'

}

"$MODE"
