#!/bin/sh
# Installs what breakglass needs on Debian/Ubuntu. Works as root in a minimal container (no sudo
# there; empty package lists are fetched first) and as a user with sudo. Starts no service:
# openssh-server (for the drill's throwaway sshd) and pcscd (for the PIV test) are installed for
# their binaries only, so no sshd ends up listening on port 22.
#
#   sh scripts/install-debian.sh           builds breakglass and puts it on PATH (~/.cargo/bin,
#                                          by `cargo install --locked`): README's first command
#   sh scripts/install-debian.sh --tests   everything the test suite needs, and nothing else:
#                                          the one list README's test command and .ci/run use
#
# --tests installs the Debian packages the tests drive (OpenSSH, pcscd with the vpcd reader
# driver, rsyslog, cloud-init, qemu with a kernel and a static busybox for the FIDO2-over-HID
# guest, libfido2's tools, jq, man, debootstrap), Rust, a nightly toolchain with cargo-fuzz for
# the fuzz smoke, and the Python venv target/wormhole-venv (the wormhole mailbox server, transit
# relay and CLI, and ansible-core: scripts/test-requirements.txt), where the tests look for it
# ($BREAKGLASS_WORMHOLE_VENV overrides the place). It does not build or install breakglass.
set -eu
tests=""
case "${1:-}" in
  "") ;;
  --tests) tests=1 ;;
  *) echo "usage: sh scripts/install-debian.sh [--tests]" >&2; exit 2 ;;
esac
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
cd "$(dirname "$0")/.."
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
# policy-rc.d 101 = "do not start services"; ours only if there was none (containers have one).
created=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  created=1
fi
trap '[ -z "$created" ] || $SUDO rm -f /usr/sbin/policy-rc.d' EXIT
packages="ca-certificates curl build-essential pkg-config libpcsclite-dev libudev-dev
  openssh-client openssh-server pcscd vsmartcard-vpcd"
if [ -n "$tests" ]; then
  # What the tests run, by the test that runs it: pcsc-tools (tests/piv_vpcd.rs, with pcscd and
  # vpcd above); python3-venv (the venv below); rsyslog and bsdutils' logger (the --alert rule,
  # two-person); cloud-init (its schema check); qemu-system-x86, linux-image-amd64,
  # busybox-static, cpio, kmod, xz-utils and zstd (the guest of tests/hid_vm.rs and its
  # initramfs, tests/vm/run-in-guest.sh, for kernels with compressed modules); fido2-tools
  # (libfido2 in that guest, fido2-cred in tests/attest_interop.rs) and openssl (the attestation
  # chains there); jq (the fleet runbooks); man-db (tests/docs.rs renders the man page); procps
  # (pgrep: no other pcscd running); debootstrap (a bare Debian root).
  packages="$packages pcsc-tools python3-venv rsyslog bsdutils cloud-init qemu-system-x86
  linux-image-amd64 busybox-static cpio kmod xz-utils zstd fido2-tools openssl jq man-db procps
  debootstrap"
fi
# shellcheck disable=SC2086 # one word per package
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  $packages >/dev/null

# Rust: breakglass needs the rust-version of Cargo.toml; Debian's and Ubuntu's packaged cargo are
# older, so an existing toolchain is used only when it is new enough, else rustup installs one.
# rustup-init comes straight from static.rust-lang.org (what sh.rustup.rs itself downloads), so
# a network that allows only the package and Rust mirrors is enough. --tests also needs rustup
# itself, for the nightly toolchain of cargo-fuzz.
install_rustup() {
  arch=$(uname -m)-unknown-linux-gnu
  tmp=$(mktemp -d)
  curl --proto '=https' --tlsv1.2 -sSf -o "$tmp/rustup-init" \
    "https://static.rust-lang.org/rustup/dist/$arch/rustup-init"
  chmod +x "$tmp/rustup-init"
  "$tmp/rustup-init" -y --profile minimal --no-modify-path >/dev/null
  rm -rf "$tmp"
  . "$HOME/.cargo/env"
}
need=$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
[ ! -f "$HOME/.cargo/env" ] || . "$HOME/.cargo/env"
have=$(cargo --version 2>/dev/null | cut -d' ' -f2 | cut -d- -f1)
if [ -z "$have" ] || [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -n1)" != "$need" ]; then
  echo "Installing Rust (rustup, stable) into ~/.cargo: breakglass needs Rust $need or later${have:+, this machine has $have}."
  install_rustup
elif [ -n "$tests" ] && ! command -v rustup >/dev/null 2>&1; then
  echo "Installing rustup (stable) into ~/.cargo: the fuzz smoke needs a nightly toolchain, which comes through rustup."
  install_rustup
fi

if [ -z "$tests" ]; then
  cargo install --path . --locked
  echo "breakglass is installed in $(dirname "$(command -v cargo)")."
  exit 0
fi

# The fuzz smoke (.ci/fuzz-smoke): cargo-fuzz runs on a nightly toolchain.
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "Installing the nightly Rust toolchain (rustup, minimal profile) for cargo-fuzz."
  rustup toolchain install nightly --profile minimal >/dev/null
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "Installing cargo-fuzz (cargo install --locked cargo-fuzz)."
  cargo install --locked --quiet cargo-fuzz
fi

# The Python side: the wormhole mailbox server, transit relay and CLI, and ansible-core, in the
# venv the tests find without any setting (target/wormhole-venv).
venv=${BREAKGLASS_WORMHOLE_VENV:-$PWD/target/wormhole-venv}
if [ ! -x "$venv/bin/twist" ] || [ ! -x "$venv/bin/wormhole" ] || [ ! -x "$venv/bin/ansible-playbook" ]; then
  echo "Making the test venv $venv (python3 -m venv, pip install -r scripts/test-requirements.txt)."
  mkdir -p "$(dirname "$venv")"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q -r scripts/test-requirements.txt
fi
echo "Everything the tests need is installed. Run them: BREAKGLASS_REQUIRE_ALL=1 cargo test --workspace --locked"
