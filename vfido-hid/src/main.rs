//! `breakglass-sim-hid`: serves breakglass's simulated key (`BREAKGLASS_SIM_DIR`) as a USB FIDO2
//! HID device through `/dev/uhid` until SIGTERM or SIGINT. Prints the `/dev/hidrawN` it created
//! on stdout (one line), everything else on stderr.

use breakglass::Diagnostic;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use breakglass::attest::FirmwareVersion;
use breakglass::token::sim::{SimToken, Touch};
use vfido_hid::ctap2::{Authenticator, Timing, DEFAULT_FIRMWARE};
use vfido_hid::ctaphid::Device;
use vfido_hid::uhid::{find_hidraw, Event, Identity, UhidDevice};

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

const USAGE: &str =
    "usage: breakglass-sim-hid [--uhid PATH] [--touch-delay-ms N] [--touch-timeout-ms N] [--firmware X.Y.Z|none]

Presents breakglass's simulated security key (state in BREAKGLASS_SIM_DIR, the same key as
--backend sim) as a USB FIDO2 HID device through /dev/uhid, prints the /dev/hidrawN it created,
and serves until SIGTERM. BREAKGLASS_SIM_TOUCH=approve|deny|timeout scripts the touch:
approve/deny answer after --touch-delay-ms (default 300), timeout gives up after
--touch-timeout-ms (default 30000) with USER_ACTION_TIMEOUT. Its packed attestation chains to
the breakglass TEST root (tests/fixtures/attest/roots, never trusted by default) and states
--firmware (default 5.7.4; none leaves it out). SIMULATED: never for real access.";

struct Args {
    uhid: PathBuf,
    timing: Timing,
    firmware: Option<FirmwareVersion>,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        uhid: PathBuf::from("/dev/uhid"),
        timing: Timing::default(),
        firmware: Some(DEFAULT_FIRMWARE),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        // `--flag=value` (as `breakglass sim hid` passes them) or `--flag value`.
        let (arg, inline) = match arg.split_once('=') {
            Some((flag, v)) if flag.starts_with("--") => (flag.to_string(), Some(v.to_string())),
            _ => (arg, None),
        };
        let mut value = |name: &str| match inline.clone() {
            Some(v) => Ok(v),
            None => it.next().ok_or(format!("{name} needs a value")),
        };
        let ms = |name: &str, v: String| {
            v.parse::<u64>()
                .map(Duration::from_millis)
                .map_err(|_| format!("{name} {v:?} is not a number of milliseconds"))
        };
        match arg.as_str() {
            "--uhid" => a.uhid = PathBuf::from(value("--uhid")?),
            "--touch-delay-ms" => {
                a.timing.touch_after = ms("--touch-delay-ms", value("--touch-delay-ms")?)?
            }
            "--touch-timeout-ms" => {
                a.timing.give_up_after = ms("--touch-timeout-ms", value("--touch-timeout-ms")?)?
            }
            "--firmware" => {
                let v = value("--firmware")?;
                a.firmware = match v.as_str() {
                    "none" => None,
                    _ => Some(
                        v.parse()
                            .map_err(|_| format!("--firmware {v:?} is not X.Y.Z or none"))?,
                    ),
                }
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(a)
}

fn random_u32() -> u32 {
    let mut b = [0u8; 4];
    let _ = getrandom::fill(&mut b);
    u32::from_ne_bytes(b)
}

fn run(args: Args) -> Result<(), String> {
    let dir = breakglass::sim_dir();
    let touch = Touch::from_env().map_err(|e| format!("{e}. {}", e.hint()))?;
    let token = SimToken::open(&dir).map_err(|e| format!("{e}. {}", e.hint()))?;
    let serial = token.serial().to_string();
    let auth = Authenticator::new(token, touch, args.timing)
        .map_err(|e| format!("{e}. {}", e.hint()))?
        .with_firmware(args.firmware);
    let name = format!("breakglass virtual FIDO2 key {serial} (SIMULATED)");
    let id = Identity {
        name: &name,
        uniq: &serial,
        // pid.codes test VID/PID: never a real product.
        vendor: 0x1209,
        product: 0x0001,
    };
    let mut uhid = UhidDevice::create(&args.uhid, &id).map_err(|e| {
        format!(
            "cannot create a HID device through {}: {e}. Load the uhid module (modprobe uhid) \
             and run as a user who may open it (usually root).",
            args.uhid.display()
        )
    })?;
    let hidraw = find_hidraw(&serial, Duration::from_secs(10)).ok_or_else(|| {
        "the kernel made no /dev/hidraw device for the virtual key. Check that hid-generic and \
         hidraw are available (CONFIG_HIDRAW)."
            .to_string()
    })?;
    eprintln!(
        "virtual FIDO2 key (SIMULATED) {serial} on {}; state {}; touch {touch:?}",
        hidraw.display(),
        dir.display()
    );
    println!("{}", hidraw.display());
    let _ = std::io::stdout().flush();

    let mut device = Device::new(auth, random_u32() >> 4);
    if cfg!(debug_assertions) && std::env::var_os("BREAKGLASS_SIM_HID_TRACE").is_some() {
        device.set_log(Box::new(|line| eprintln!("ctaphid {line}")));
    }
    while !STOP.load(Ordering::SeqCst) {
        let now = Instant::now();
        let wait = device
            .next_deadline()
            .map(|d| d.saturating_duration_since(now))
            .unwrap_or(Duration::from_millis(500))
            .min(Duration::from_millis(500));
        let mut pfd = libc::pollfd {
            fd: uhid.fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd, count 1.
        let r = unsafe { libc::poll(&mut pfd, 1, wait.as_millis().max(1) as i32) };
        let mut out = Vec::new();
        if r > 0 && pfd.revents & libc::POLLIN != 0 {
            match uhid.read_event() {
                Ok(Event::Output(report)) => out.extend(device.input(&report, Instant::now())),
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("reading {} failed: {e}", args.uhid.display())),
            }
        }
        out.extend(device.tick(Instant::now()));
        for report in out {
            uhid.input(&report)
                .map_err(|e| format!("writing {} failed: {e}", args.uhid.display()))?;
        }
        for note in device.ctap().take_notes() {
            eprintln!("breakglass-sim-hid: {note}");
        }
    }
    let t = device.traffic();
    eprintln!(
        "virtual FIDO2 key removed; {} requests, {} responses ({} keep-alives), {} reports in, {} out",
        t.requests, t.responses, t.keepalives, t.reports_in, t.reports_out
    );
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("breakglass-sim-hid: {e}.\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    // SAFETY: the handler only stores to an atomic.
    unsafe {
        libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
        libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
    }
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("breakglass-sim-hid: {e}");
            ExitCode::from(1)
        }
    }
}
