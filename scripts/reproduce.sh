#!/usr/bin/env bash
# Reproducible release build: builds the release binary of the committed tree (HEAD) twice, in
# two different directories (different source, target, temp and cargo-home paths), and compares
# the two byte for byte. Prints the result and both SHA-256s; exit 0 when identical, 1 when not.
#
#   bash scripts/reproduce.sh            # two full release builds: about 10 minutes on 2 cores
#
# What makes the builds comparable (and what a person rebuilding a kit's binary must do the
# same way, on the same Rust toolchain and Cargo.lock):
#   - the path prefixes that end up in the binary (panic locations: cargo's registry sources
#     under CARGO_HOME, about 200 of them; the source tree and build scripts' OUT_DIR under the
#     target directory, should any appear) are remapped with --remap-path-prefix to fixed names:
#     /cargo, /build/breakglass, /build/target. The second build runs with another CARGO_HOME
#     (its registry linked to this one's, so nothing is downloaded) to show that remap works;
#   - SOURCE_DATE_EPOCH is the commit's time, for any build step that would stamp a date;
#   - `--locked`, so both use the same Cargo.lock.
# The binary is stripped and built with LTO and one codegen unit ([profile.release]). Not run
# in CI (two release builds cost too much there).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
commit=$(git rev-parse HEAD)
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  echo "note: the work tree has uncommitted changes; this builds the committed HEAD ($commit)." >&2
fi
cargo_home=${CARGO_HOME:-$HOME/.cargo}
export SOURCE_DATE_EPOCH
SOURCE_DATE_EPOCH=$(git log -1 --format=%ct HEAD)
export CARGO_INCREMENTAL=0

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# build NAME SRC TARGET HOME: HEAD exported into SRC, built with its target directory TARGET and
# CARGO_HOME=HOME; cargo's output goes to $T/NAME.log (shown when the build fails).
build() {
  local name=$1 src=$2 target=$3 home=$4
  mkdir -p "$src" "$target" "$T/$name-tmp"
  git -C "$repo" archive "$commit" | tar -x -C "$src"
  echo "build $name: source $src, target $target, CARGO_HOME $home" >&2
  if ! (
    cd "$src"
    CARGO_HOME="$home" TMPDIR="$T/$name-tmp" \
    RUSTFLAGS="--remap-path-prefix=$home=/cargo --remap-path-prefix=$src=/build/breakglass --remap-path-prefix=$target=/build/target" \
      nice cargo build --release --locked --offline --target-dir "$target" -p breakglass --bin breakglass
  ) > "$T/$name.log" 2>&1; then
    cat "$T/$name.log" >&2
    echo "build $name failed" >&2
    exit 2
  fi
}

# A second cargo home at another path, sharing this one's registry (index, sources, .crate files).
mkdir -p "$T/home-two/cargo"
ln -s "$cargo_home/registry" "$T/home-two/cargo/registry"
[ ! -d "$cargo_home/git" ] || ln -s "$cargo_home/git" "$T/home-two/cargo/git"

# Every crate of Cargo.lock at hand first (the builds themselves run offline).
cargo fetch --locked -q
start=$(date +%s)
build one "$T/one/breakglass" "$T/one/target" "$cargo_home"
build two "$T/elsewhere/a/longer/path/src" "$T/elsewhere/out" "$T/home-two/cargo"
a="$T/one/target/release/breakglass"
b="$T/elsewhere/out/release/breakglass"

echo "commit $commit, $(rustc --version), SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH, $(( $(date +%s) - start )) s"
echo "one: $(sha256sum "$a" | cut -d' ' -f1)  $(stat -c %s "$a") bytes"
echo "two: $(sha256sum "$b" | cut -d' ' -f1)  $(stat -c %s "$b") bytes"
if cmp -s "$a" "$b"; then
  echo "identical: the release build is reproducible"
  exit 0
fi
echo "DIFFERENT: $(cmp -l "$a" "$b" | wc -l) bytes differ; the first differences (offset, octal bytes):"
cmp -l "$a" "$b" | head -n 10
# The strings only one of the two holds (paths and dates are the usual culprits).
echo "strings only in one / only in two:"
diff <(strings -n 8 "$a" | sort -u) <(strings -n 8 "$b" | sort -u) | grep '^[<>]' | head -n 20 || true
exit 1
