#!/bin/sh
# Installs what breakglass needs on Debian/Ubuntu, builds it, and puts `breakglass` on PATH
# (~/.cargo/bin, by `cargo install --locked`). Works as root in a minimal container (no sudo
# there; empty package lists are fetched first) and as a user with sudo. Starts no service:
# openssh-server (for the drill's throwaway sshd) and pcscd (for the PIV test) are installed for
# their binaries only, as .ci/run does, so no sshd ends up listening on port 22.
set -eu
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
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  ca-certificates curl build-essential pkg-config libpcsclite-dev libudev-dev \
  openssh-client openssh-server pcscd vsmartcard-vpcd >/dev/null
# Rust: breakglass needs the rust-version of Cargo.toml; Debian's and Ubuntu's packaged cargo are
# older, so an existing toolchain is used only when it is new enough, else rustup installs one.
# rustup-init comes straight from static.rust-lang.org (what sh.rustup.rs itself downloads), so
# a network that allows only the package and Rust mirrors is enough.
need=$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
[ ! -f "$HOME/.cargo/env" ] || . "$HOME/.cargo/env"
have=$(cargo --version 2>/dev/null | cut -d' ' -f2 | cut -d- -f1)
if [ -z "$have" ] || [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -n1)" != "$need" ]; then
  echo "Installing Rust (rustup, stable) into ~/.cargo: breakglass needs Rust $need or later${have:+, this machine has $have}."
  arch=$(uname -m)-unknown-linux-gnu
  tmp=$(mktemp -d)
  curl --proto '=https' --tlsv1.2 -sSf -o "$tmp/rustup-init" \
    "https://static.rust-lang.org/rustup/dist/$arch/rustup-init"
  chmod +x "$tmp/rustup-init"
  "$tmp/rustup-init" -y --profile minimal --no-modify-path >/dev/null
  rm -rf "$tmp"
  . "$HOME/.cargo/env"
fi
cargo install --path . --locked
echo "breakglass is installed in $(dirname "$(command -v cargo)")."
