# Sourced by bench/request.sh and bench/wormhole.sh: a release build, a work directory removed
# on exit, and a local mailbox server and transit relay (from the test venv) on free loopback
# ports, with breakglass and Python's wormhole pointed at them (BG, WORK, MP, RP, PYW).
HERE=$(cd "$(dirname "$0")/.." && pwd)
VENV=${BREAKGLASS_WORMHOLE_VENV:-$HERE/target/wormhole-venv}
RUNS=${RUNS:-5}
[ -x "$VENV/bin/twist" ] || { echo "no venv at $VENV: run the tests once, or: python3 -m venv $VENV && $VENV/bin/pip install magic-wormhole magic-wormhole-mailbox-server magic-wormhole-transit-relay" >&2; exit 1; }
# (its warnings, replayed on every build, are kept out of the output; a failed build shows them)
cargo build -q --release --manifest-path "$HERE/Cargo.toml" 2>/dev/null || cargo build -q --release --manifest-path "$HERE/Cargo.toml"
BG="$HERE/target/release/breakglass"

WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
port() { "$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
MP=$(port); RP=$(port)
(cd "$WORK" && exec "$VENV/bin/twist" wormhole-mailbox --port=tcp:$MP:interface=127.0.0.1 --channel-db=:memory: >mailbox.log 2>&1) & PIDS+=($!)
(cd "$WORK" && exec "$VENV/bin/twist" transitrelay --port=tcp:$RP:interface=127.0.0.1 >relay.log 2>&1) & PIDS+=($!)
for p in $MP $RP; do for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && break; sleep 0.1; done; done

export BREAKGLASS_BACKEND=sim BREAKGLASS_SIM_DIR="$WORK/sim" BREAKGLASS_AUDIT_LOG="$WORK/audit.jsonl"
export BREAKGLASS_MAILBOX_URL="ws://127.0.0.1:$MP/v1" BREAKGLASS_RELAY_URL="tcp://127.0.0.1:$RP"
PYW=("$VENV/bin/wormhole" --relay-url "ws://127.0.0.1:$MP/v1" --transit-helper "tcp:127.0.0.1:$RP")
