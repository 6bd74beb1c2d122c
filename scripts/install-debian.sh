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
if ! command -v cargo >/dev/null && [ ! -x "$HOME/.cargo/bin/cargo" ]; then
  curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
fi
[ ! -f "$HOME/.cargo/env" ] || . "$HOME/.cargo/env"
cargo install --path . --locked
echo "breakglass is installed in $(dirname "$(command -v cargo)")."
