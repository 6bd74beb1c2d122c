//! The kernel side: a HID device made with `/dev/uhid` (Documentation/hid/uhid.rst,
//! include/uapi/linux/uhid.h). The kernel binds hid-generic to it and creates `/dev/hidrawN`,
//! which libfido2 and hidapi open as they open a USB security key.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// `struct uhid_event`: a u32 type and a union whose largest member is `uhid_create2_req`
/// (128 + 64 + 64 + 2 + 2 + 4 × 4 + 4096 bytes); packed.
const EVENT_LEN: usize = 4 + 4372;
const UHID_DESTROY: u32 = 1;
const UHID_START: u32 = 2;
const UHID_STOP: u32 = 3;
const UHID_OPEN: u32 = 4;
const UHID_CLOSE: u32 = 5;
const UHID_OUTPUT: u32 = 6;
const UHID_GET_REPORT: u32 = 9;
const UHID_GET_REPORT_REPLY: u32 = 10;
const UHID_CREATE2: u32 = 11;
const UHID_INPUT2: u32 = 12;
const UHID_SET_REPORT: u32 = 13;
const UHID_SET_REPORT_REPLY: u32 = 14;
const BUS_USB: u16 = 0x03;

/// The FIDO HID report descriptor every FIDO key carries (CTAP 2.1 §11.2.8.1): usage page
/// 0xF1D0, usage CTAPHID, one 64-byte input and one 64-byte output report, no report ids.
pub const FIDO_REPORT_DESCRIPTOR: [u8; 34] = [
    0x06, 0xd0, 0xf1, // Usage Page (FIDO Alliance)
    0x09, 0x01, // Usage (CTAPHID)
    0xa1, 0x01, // Collection (Application)
    0x09, 0x20, //   Usage (Input Report Data)
    0x15, 0x00, //   Logical Minimum (0)
    0x26, 0xff, 0x00, //   Logical Maximum (255)
    0x75, 0x08, //   Report Size (8)
    0x95, 0x40, //   Report Count (64)
    0x81, 0x02, //   Input (Data, Var, Abs)
    0x09, 0x21, //   Usage (Output Report Data)
    0x15, 0x00, //   Logical Minimum (0)
    0x26, 0xff, 0x00, //   Logical Maximum (255)
    0x75, 0x08, //   Report Size (8)
    0x95, 0x40, //   Report Count (64)
    0x91, 0x02, //   Output (Data, Var, Abs)
    0xc0, // End Collection
];

/// What the kernel told the device.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    /// An output report written by a host program (to `/dev/hidrawN`).
    Output(Vec<u8>),
    /// The device was started / stopped / opened / closed by the HID core.
    Lifecycle(&'static str),
    /// Something this device has no use for.
    Other(u32),
}

/// Identity of the virtual device as USB would report it.
pub struct Identity<'a> {
    /// HID_NAME (what hidapi reports as the product string).
    pub name: &'a str,
    /// HID_UNIQ (the serial number hidapi reports).
    pub uniq: &'a str,
    /// USB vendor id.
    pub vendor: u16,
    /// USB product id.
    pub product: u16,
}

/// An open `/dev/uhid` with one device created on it; destroyed on drop.
pub struct UhidDevice {
    file: File,
}

fn put(buf: &mut [u8], at: usize, bytes: &[u8]) {
    buf[at..at + bytes.len()].copy_from_slice(bytes);
}

impl UhidDevice {
    /// Opens `path` (normally `/dev/uhid`) and creates a USB FIDO HID device on it.
    pub fn create(path: &Path, id: &Identity<'_>) -> std::io::Result<Self> {
        let mut file = OpenOptions::new().read(true).write(true).open(path)?;
        let mut ev = vec![0u8; EVENT_LEN];
        put(&mut ev, 0, &UHID_CREATE2.to_ne_bytes());
        let name = id.name.as_bytes();
        put(&mut ev, 4, &name[..name.len().min(127)]);
        put(&mut ev, 4 + 128, b"breakglass-sim-hid");
        let uniq = id.uniq.as_bytes();
        put(&mut ev, 4 + 192, &uniq[..uniq.len().min(63)]);
        let at = 4 + 256;
        put(
            &mut ev,
            at,
            &(FIDO_REPORT_DESCRIPTOR.len() as u16).to_ne_bytes(),
        );
        put(&mut ev, at + 2, &BUS_USB.to_ne_bytes());
        put(&mut ev, at + 4, &u32::from(id.vendor).to_ne_bytes());
        put(&mut ev, at + 8, &u32::from(id.product).to_ne_bytes());
        put(&mut ev, at + 12, &0x0100u32.to_ne_bytes()); // version
        put(&mut ev, at + 16, &0u32.to_ne_bytes()); // country
        put(&mut ev, at + 20, &FIDO_REPORT_DESCRIPTOR);
        file.write_all(&ev)?;
        Ok(UhidDevice { file })
    }

    /// The raw file descriptor (for poll).
    pub fn fd(&self) -> i32 {
        self.file.as_raw_fd()
    }

    /// Reads one event (blocks; poll first).
    pub fn read_event(&mut self) -> std::io::Result<Event> {
        let mut ev = vec![0u8; EVENT_LEN];
        let n = self.file.read(&mut ev)?;
        if n < 4 {
            return Ok(Event::Other(0));
        }
        let kind = u32::from_ne_bytes([ev[0], ev[1], ev[2], ev[3]]);
        Ok(match kind {
            UHID_OUTPUT => {
                // struct uhid_output_req { __u8 data[4096]; __u16 size; __u8 rtype; }
                let size = u16::from_ne_bytes([ev[4 + 4096], ev[4 + 4097]]) as usize;
                Event::Output(ev[4..4 + size.min(4096)].to_vec())
            }
            UHID_START => Event::Lifecycle("start"),
            UHID_STOP => Event::Lifecycle("stop"),
            UHID_OPEN => Event::Lifecycle("open"),
            UHID_CLOSE => Event::Lifecycle("close"),
            UHID_GET_REPORT | UHID_SET_REPORT => {
                // Feature reports: a FIDO key has none. Answer EIO at once so the HID core does
                // not wait for its 5 s timeout.
                let id = [ev[4], ev[5], ev[6], ev[7]];
                let mut reply = vec![0u8; EVENT_LEN];
                let t = if kind == UHID_GET_REPORT {
                    UHID_GET_REPORT_REPLY
                } else {
                    UHID_SET_REPORT_REPLY
                };
                put(&mut reply, 0, &t.to_ne_bytes());
                put(&mut reply, 4, &id);
                put(&mut reply, 8, &(libc::EIO as u16).to_ne_bytes());
                self.file.write_all(&reply)?;
                Event::Other(kind)
            }
            other => Event::Other(other),
        })
    }

    /// Sends one input report to the host.
    pub fn input(&mut self, report: &[u8]) -> std::io::Result<()> {
        // struct uhid_input2_req { __u16 size; __u8 data[4096]; }
        let mut ev = vec![0u8; 4 + 2 + report.len()];
        put(&mut ev, 0, &UHID_INPUT2.to_ne_bytes());
        put(&mut ev, 4, &(report.len() as u16).to_ne_bytes());
        put(&mut ev, 6, report);
        self.file.write_all(&ev)
    }
}

impl Drop for UhidDevice {
    fn drop(&mut self) {
        let mut ev = vec![0u8; EVENT_LEN];
        put(&mut ev, 0, &UHID_DESTROY.to_ne_bytes());
        let _ = self.file.write_all(&ev);
    }
}

/// The `/dev/hidrawN` the kernel made for the device whose HID_UNIQ is `uniq`, waiting up to
/// `wait` for it to appear.
pub fn find_hidraw(uniq: &str, wait: Duration) -> Option<PathBuf> {
    let start = Instant::now();
    loop {
        if let Ok(dir) = std::fs::read_dir("/sys/class/hidraw") {
            for e in dir.flatten() {
                let uevent = e.path().join("device/uevent");
                let Ok(text) = std::fs::read_to_string(&uevent) else {
                    continue;
                };
                if text.lines().any(|l| l == format!("HID_UNIQ={uniq}")) {
                    let dev = Path::new("/dev").join(e.file_name());
                    if dev.exists() {
                        return Some(dev);
                    }
                }
            }
        }
        if start.elapsed() >= wait {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
