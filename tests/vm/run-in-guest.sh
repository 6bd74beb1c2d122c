#!/bin/sh
# Runs a script inside a throwaway qemu guest that has /dev/uhid, and reports its result.
#
#   tests/vm/run-in-guest.sh [-t SECONDS] JOBDIR
#
# JOBDIR (a writable host directory, absolute path) must hold `job.sh`. The guest boots the
# installed Debian kernel (/boot/vmlinuz-VERSION) with a tiny initramfs (busybox-static plus the
# hid, uhid, hid-generic, 9p and virtio modules and their dependencies, found with
# `modprobe -S VERSION --show-depends`), mounts the host's root filesystem read-only over 9p,
# mounts JOBDIR writable over 9p at the same path, chroots into the host root and runs
# `sh JOBDIR/job.sh` there as root with HOME=/tmp/home, fresh tmpfs on /tmp and /run, and `lo`
# up. The job's stdout and stderr go to JOBDIR/out, its exit code to JOBDIR/rc, the guest console
# to JOBDIR/console.log. This script exits with the job's exit code, 124 when the guest did not
# finish within SECONDS (default 300; the guest is killed), 125 when the guest could not be built
# or booted, and 77 (with one line on stderr) when qemu or a kernel is missing.
#
# The guest gets one CPU (TCG unless BREAKGLASS_VM_ACCEL=kvm) and 512 MiB, so it never takes more
# than one of the machine's cores. The initramfs is cached under $BREAKGLASS_VM_CACHE
# (default: target/vm next to this repository's Cargo.toml) per kernel version. Modules may be
# plain (.ko) or compressed (.ko.xz, .ko.zst, .ko.gz: unpacked here with xz, zstd or gzip, so the
# guest's busybox insmod gets plain ELF); they are looked up under $BREAKGLASS_VM_MODULES_ROOT
# (modprobe -d; default /), which a test points at a tree of compressed modules.
set -eu

timeout_s=300
if [ "${1:-}" = "-t" ]; then timeout_s=$2; shift 2; fi
job=${1:?usage: run-in-guest.sh [-t SECONDS] JOBDIR}
case $job in /*) ;; *) echo "run-in-guest: JOBDIR must be an absolute path" >&2; exit 125 ;; esac
[ -f "$job/job.sh" ] || { echo "run-in-guest: $job/job.sh does not exist" >&2; exit 125; }

qemu=$(command -v qemu-system-x86_64 || true)
busybox=/bin/busybox
[ -x "$busybox" ] || busybox=$(command -v busybox || true)
kernel=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$qemu" ] || [ -z "$kernel" ] || [ -z "$busybox" ]; then
  echo "skipped: the guest needs qemu-system-x86, linux-image-amd64 and busybox-static (apt install them)" >&2
  exit 77
fi
version=${kernel#/boot/vmlinuz-}
if [ ! -d "/lib/modules/$version" ]; then
  echo "skipped: /lib/modules/$version is missing (install linux-image-$version)" >&2
  exit 77
fi
# busybox must be static: the initramfs has no libc.
if ! "$busybox" --list >/dev/null 2>&1 || ldd "$busybox" >/dev/null 2>&1; then
  echo "skipped: $busybox is not a static busybox (apt install busybox-static)" >&2
  exit 77
fi

here=$(cd "$(dirname "$0")" && pwd)
# The repository (its target/ holds the binaries the job runs): kept visible in the guest.
repo=$(cd "$here/../.." && pwd)
cache=${BREAKGLASS_VM_CACHE:-$here/../../target/vm}
mkdir -p "$cache"
initrd=$cache/initramfs-$version.cpio.gz

build_initramfs() {
  root=$(mktemp -d "$cache/root.XXXXXX")
  trap 'rm -rf "$root"' EXIT
  mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev" "$root/host" "$root/lib/modules"
  cp "$busybox" "$root/bin/busybox"
  : > "$root/modules.order"
  for m in virtio_pci 9pnet_virtio 9p uhid hid-generic; do
    modprobe ${BREAKGLASS_VM_MODULES_ROOT:+-d "$BREAKGLASS_VM_MODULES_ROOT"} -S "$version" \
      --show-depends "$m" | while read -r verb path _; do
      [ "$verb" = insmod ] || continue
      name=$(basename "$path")
      case $name in
        *.ko.zst) unpack="zstd -dcq"; name=${name%.zst} ;;
        *.ko.xz) unpack="xz -dc"; name=${name%.xz} ;;
        *.ko.gz) unpack="gzip -dc"; name=${name%.gz} ;;
        *) unpack=cat ;;
      esac
      if ! grep -qx "$name" "$root/modules.order"; then
        $unpack "$path" > "$root/lib/modules/$name" || exit 1
        echo "$name" >> "$root/modules.order"
      fi
    done || return 1
  done
  cp "$here/guest-init" "$root/init"
  chmod 755 "$root/init"
  (cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$initrd.tmp"
  mv "$initrd.tmp" "$initrd"
  rm -rf "$root"
  trap - EXIT
}
if [ ! -s "$initrd" ] || [ "$here/guest-init" -nt "$initrd" ]; then
  build_initramfs || { echo "run-in-guest: could not build the initramfs" >&2; exit 125; }
fi

# TCG by default (works everywhere, including inside containers whose /dev/kvm hangs);
# BREAKGLASS_VM_ACCEL=kvm opts in to KVM.
accel=${BREAKGLASS_VM_ACCEL:-tcg}

rm -f "$job/rc" "$job/out"
: > "$job/console.log"
# -smp 1 and nice keep the guest to one shared core; -no-reboot turns the guest's power-off
# (or a kernel panic) into qemu exiting. no_timer_check: on a loaded host TCG can miss the
# kernel's IO-APIC timer check, which then panics ("IO-APIC + timer doesn't work").
nice -n 10 "$qemu" -machine q35,accel="$accel" -smp 1 -m 512 -nographic -no-reboot \
  -nodefaults -serial "file:$job/console.log" -monitor none -display none \
  -kernel "$kernel" -initrd "$initrd" \
  -append "console=ttyS0 quiet loglevel=3 panic=-1 no_timer_check bg.job=$job bg.repo=$repo" \
  -virtfs local,path=/,mount_tag=host,readonly=on,multidevs=remap,security_model=none \
  -virtfs local,path="$job",mount_tag=job,security_model=none \
  </dev/null >/dev/null 2>"$job/qemu.err" &
pid=$!
waited=0
while kill -0 "$pid" 2>/dev/null; do
  if [ "$waited" -ge "$timeout_s" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    echo "run-in-guest: the guest did not finish within ${timeout_s}s (console: $job/console.log)" >&2
    exit 124
  fi
  sleep 1
  waited=$((waited + 1))
done
wait "$pid" || true
if [ ! -f "$job/rc" ]; then
  echo "run-in-guest: the guest stopped without a result; console:" >&2
  tail -n 20 "$job/console.log" >&2
  cat "$job/qemu.err" >&2
  exit 125
fi
exit "$(cat "$job/rc")"
