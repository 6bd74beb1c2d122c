//! The vsmartcard `vpcd` socket protocol (vsmartcard `virtualsmartcard/src/vpcd/vpcd.{h,c}`;
//! REFERENCE.md §13.5): the card connects to the reader driver's TCP port; every message either
//! way is a 2-byte big-endian length and a body. A one-byte body from the reader is a control
//! code (`00` power off, `01` power on, `02` reset, `04` get ATR); anything longer is an APDU.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use zeroize::Zeroizing;

use crate::card::{Card, CardConfig};

/// YubiKey 5 NFC ATR (T=1; `pcsc_scan` names it "Yubico YubiKey 5 NFC (PKI)").
pub const ATR: [u8; 23] = [
    0x3B, 0xFD, 0x13, 0x00, 0x00, 0x81, 0x31, 0xFE, 0x15, 0x80, 0x73, 0xC0, 0x21, 0xC0, 0x57, 0x59,
    0x75, 0x62, 0x69, 0x4B, 0x65, 0x79, 0x40,
];

/// Plugs the card into vpcd and serves it until `stop` is set. Connection attempts are retried
/// every 200 ms (vpcd may not be listening yet); when vpcd closes the socket the card reconnects.
pub fn run_card(cfg: &CardConfig, stop: &AtomicBool) -> io::Result<()> {
    let mut card = Card::open(cfg)?;
    while !stop.load(Ordering::SeqCst) {
        let stream = match TcpStream::connect(&cfg.vpcd_addr) {
            Ok(s) => s,
            Err(_) => {
                std::thread::sleep(Duration::from_millis(200));
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        stream.set_read_timeout(Some(Duration::from_millis(200)))?;
        card.power_cycle();
        match serve(&mut card, stream, stop) {
            Ok(()) => {}
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
    Ok(())
}

fn serve(card: &mut Card, mut s: TcpStream, stop: &AtomicBool) -> io::Result<()> {
    loop {
        let mut len = [0u8; 2];
        if !read_full(&mut s, &mut len, stop, true)? {
            return Ok(());
        }
        let n = usize::from(u16::from_be_bytes(len));
        let mut msg = Zeroizing::new(vec![0u8; n]);
        if !read_full(&mut s, &mut msg, stop, false)? {
            return Ok(());
        }
        let reply: Option<Vec<u8>> = match msg.as_slice() {
            [] => None,
            [0x00] | [0x01] | [0x02] => {
                card.power_cycle();
                None
            }
            [0x04] => Some(ATR.to_vec()),
            [_] => None,
            apdu => Some(card.process_apdu(apdu)),
        };
        if let Some(r) = reply {
            let r = Zeroizing::new(r);
            let n = u16::try_from(r.len()).map_err(io::Error::other)?;
            let mut frame = Zeroizing::new(Vec::with_capacity(r.len() + 2));
            frame.extend_from_slice(&n.to_be_bytes());
            frame.extend_from_slice(&r);
            s.write_all(&frame)?;
        }
    }
}

/// vpcd sends a message's length and its body in two writes with Nagle on; without an immediate
/// ACK from us the body waits for our delayed ACK (~40 ms per APDU). Linux clears QUICKACK after
/// use, so it is set again before every read.
fn quickack(s: &TcpStream) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let one: libc::c_int = 1;
        // SAFETY: valid socket fd, pointer and length of a c_int option value.
        unsafe {
            libc::setsockopt(
                s.as_raw_fd(),
                libc::IPPROTO_TCP,
                libc::TCP_QUICKACK,
                (&one as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = s;
}

/// Reads exactly `buf.len()` bytes, checking `stop` on every read timeout. Returns false when
/// the peer closed the socket before the first byte of a message (`at_boundary`) or stop was set.
fn read_full(
    s: &mut TcpStream,
    buf: &mut [u8],
    stop: &AtomicBool,
    at_boundary: bool,
) -> io::Result<bool> {
    let mut got = 0;
    while got < buf.len() {
        if stop.load(Ordering::SeqCst) {
            return Ok(false);
        }
        quickack(s);
        match s.read(&mut buf[got..]) {
            Ok(0) if got == 0 && at_boundary => return Ok(false),
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(k) => got += k,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}
