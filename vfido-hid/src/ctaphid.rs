//! CTAPHID, the USB HID framing of CTAP (CTAP 2.1 §11.2): 64-byte reports, channels, message
//! reassembly, keep-alives while the authenticator waits for a touch, and the transport errors.
//!
//! [`Device`] is a state machine driven by two inputs — a report from the host
//! ([`Device::input`]) and the passage of time ([`Device::tick`]) — and answers with the reports
//! to send. It owns no I/O and no clock, so every rule here is unit-tested without `/dev/uhid`.
//! The CTAP2 layer behind it ([`Ctap2`]) answers CBOR requests in two phases so that a request
//! needing user presence can wait (sending KEEPALIVE UPNEEDED every 100 ms, honouring CANCEL)
//! without a second thread.

use std::time::{Duration, Instant};

use crate::cbor::CtapStatus;

/// Size of one HID report (both directions) of a FIDO HID device.
pub const REPORT_LEN: usize = 64;
/// One HID report.
pub type Report = [u8; REPORT_LEN];
/// The broadcast channel, used only for CTAPHID_INIT.
pub const BROADCAST_CID: u32 = 0xffff_ffff;
/// Payload bytes in an initialization packet (cid 4, cmd 1, bcnt 2).
const INIT_DATA: usize = REPORT_LEN - 7;
/// Payload bytes in a continuation packet (cid 4, seq 1).
const CONT_DATA: usize = REPORT_LEN - 5;
/// Largest message: one initialization packet and 128 continuation packets (seq 0..=127).
pub const MAX_MESSAGE: usize = INIT_DATA + 128 * CONT_DATA;
/// How long the device waits for the next continuation packet before CTAPHID_ERROR
/// ERR_MSG_TIMEOUT (the spec leaves the value to the device; YubiKeys use a few hundred ms).
pub const CONTINUATION_TIMEOUT: Duration = Duration::from_millis(750);
/// Interval between KEEPALIVE packets while a request is pending.
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_millis(100);

/// CTAPHID command bytes (with the initialization-packet bit 0x80 set).
pub mod cmd {
    /// Echo the data back.
    pub const PING: u8 = 0x81;
    /// A CTAP1/U2F message (not supported: the device says NMSG).
    pub const MSG: u8 = 0x83;
    /// Lock the device to one channel (optional; not supported).
    pub const LOCK: u8 = 0x84;
    /// Allocate a channel / resynchronise one.
    pub const INIT: u8 = 0x86;
    /// Identify the device (a real key blinks).
    pub const WINK: u8 = 0x88;
    /// A CTAP2 request / response.
    pub const CBOR: u8 = 0x90;
    /// Cancel the pending request on this channel (no answer of its own).
    pub const CANCEL: u8 = 0x91;
    /// Sent by the device while a request is pending.
    pub const KEEPALIVE: u8 = 0xbb;
    /// Transport error (the data byte is an [`super::err`] code).
    pub const ERROR: u8 = 0xbf;
}

/// CTAPHID_ERROR codes: the CTAP1 statuses of the transport (CTAP 2.1 §11.2.9.1.6).
pub mod err {
    use super::CtapStatus;

    /// The command is not known / supported.
    pub const INVALID_CMD: u8 = CtapStatus::InvalidCommand.code();
    /// A parameter is invalid.
    pub const INVALID_PAR: u8 = CtapStatus::InvalidParameter.code();
    /// The length is invalid for the command.
    pub const INVALID_LEN: u8 = CtapStatus::InvalidLength.code();
    /// A continuation packet is out of sequence.
    pub const INVALID_SEQ: u8 = CtapStatus::InvalidSeq.code();
    /// The message was not completed in time.
    pub const MSG_TIMEOUT: u8 = CtapStatus::Timeout.code();
    /// Another channel holds the device.
    pub const CHANNEL_BUSY: u8 = CtapStatus::ChannelBusy.code();
    /// The channel was never allocated (or is 0).
    pub const INVALID_CHANNEL: u8 = CtapStatus::InvalidChannel.code();
}

/// KEEPALIVE status: still processing.
pub const STATUS_PROCESSING: u8 = 1;
/// KEEPALIVE status: waiting for user presence (a touch).
pub const STATUS_UPNEEDED: u8 = 2;

/// CTAPHID_INIT capability flags: WINK, CBOR, and NMSG (no CTAP1 MSG).
const CAPABILITIES: u8 = 0x01 | 0x04 | 0x08;

/// How a wait for the user ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TouchOutcome {
    /// The user touched the key.
    Touched,
    /// The user declined.
    Denied,
    /// Nobody touched the key in time.
    TimedOut,
    /// The host sent CTAPHID_CANCEL (or resynchronised the channel).
    Cancelled,
}

/// What the CTAP2 layer made of a request.
pub enum Step<D> {
    /// The response (status byte, then CBOR), ready to send.
    Done(Vec<u8>),
    /// The request is valid and waits for user presence; [`Ctap2::finish`] completes it.
    NeedsTouch(D),
}

/// The CTAP2 authenticator behind the framing.
pub trait Ctap2 {
    /// A request waiting for the user.
    type Deferred;
    /// Handles one CTAPHID_CBOR request (command byte, then CBOR).
    fn begin(&mut self, request: &[u8]) -> Step<Self::Deferred>;
    /// Completes a deferred request once the wait for the user ended.
    fn finish(&mut self, deferred: Self::Deferred, outcome: TouchOutcome) -> Vec<u8>;
    /// How and after how long the (scripted) user answers a request for presence.
    fn user_answer(&self) -> (TouchOutcome, Duration);
    /// CTAPHID_WINK: a real key blinks.
    fn wink(&mut self) {}
}

/// A message being reassembled.
struct Rx {
    cid: u32,
    cmd: u8,
    len: usize,
    data: Vec<u8>,
    next_seq: u8,
    deadline: Instant,
}

/// A request waiting for the user.
struct Pending<D> {
    cid: u32,
    deferred: D,
    outcome: TouchOutcome,
    answer_at: Instant,
    next_keepalive: Instant,
}

/// Counts of the messages that went through the device (for measurements).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Traffic {
    /// Complete messages received from the host (INIT, PING, CBOR, CANCEL, …).
    pub requests: u32,
    /// Messages sent to the host, keep-alives included.
    pub responses: u32,
    /// KEEPALIVE messages among `responses`.
    pub keepalives: u32,
    /// Reports received.
    pub reports_in: u32,
    /// Reports sent.
    pub reports_out: u32,
}

/// Receives one line per CTAPHID message (debug builds' traffic log).
pub type TrafficLog = Box<dyn FnMut(&str)>;

/// The CTAPHID side of one virtual FIDO HID device.
pub struct Device<A: Ctap2> {
    ctap: A,
    first_cid: u32,
    next_cid: u32,
    rx: Option<Rx>,
    pending: Option<Pending<A::Deferred>>,
    traffic: Traffic,
    log: Option<TrafficLog>,
}

/// Splits `payload` into the reports of one CTAPHID message.
pub fn frame(cid: u32, cmd: u8, payload: &[u8]) -> Vec<Report> {
    let mut out = Vec::new();
    let mut r = [0u8; REPORT_LEN];
    r[..4].copy_from_slice(&cid.to_be_bytes());
    r[4] = cmd;
    r[5..7].copy_from_slice(&(payload.len() as u16).to_be_bytes());
    let first = payload.len().min(INIT_DATA);
    r[7..7 + first].copy_from_slice(&payload[..first]);
    out.push(r);
    for (seq, chunk) in payload[first..].chunks(CONT_DATA).enumerate() {
        let mut r = [0u8; REPORT_LEN];
        r[..4].copy_from_slice(&cid.to_be_bytes());
        r[4] = seq as u8;
        r[5..5 + chunk.len()].copy_from_slice(chunk);
        out.push(r);
    }
    out
}

fn command_name(cmd: u8) -> String {
    match cmd {
        cmd::PING => "PING".into(),
        cmd::MSG => "MSG".into(),
        cmd::LOCK => "LOCK".into(),
        cmd::INIT => "INIT".into(),
        cmd::WINK => "WINK".into(),
        cmd::CBOR => "CBOR".into(),
        cmd::CANCEL => "CANCEL".into(),
        cmd::KEEPALIVE => "KEEPALIVE".into(),
        cmd::ERROR => "ERROR".into(),
        other => format!("0x{other:02x}"),
    }
}

impl<A: Ctap2> Device<A> {
    /// A device in front of `ctap`; channel ids are handed out from `first_cid` upwards
    /// (callers pass a random value so that two runs do not reuse channel ids).
    pub fn new(ctap: A, first_cid: u32) -> Self {
        let first_cid = first_cid.clamp(1, 0x7fff_ffff);
        Device {
            ctap,
            first_cid,
            next_cid: first_cid,
            rx: None,
            pending: None,
            traffic: Traffic::default(),
            log: None,
        }
    }

    /// Logs one line per message in each direction (debug builds' traffic log).
    pub fn set_log(&mut self, log: TrafficLog) {
        self.log = Some(log);
    }

    /// The message counts so far.
    pub fn traffic(&self) -> Traffic {
        self.traffic
    }

    /// The CTAP2 layer.
    pub fn ctap(&mut self) -> &mut A {
        &mut self.ctap
    }

    /// When [`Self::tick`] next has something to do.
    pub fn next_deadline(&self) -> Option<Instant> {
        let rx = self.rx.as_ref().map(|r| r.deadline);
        let p = self
            .pending
            .as_ref()
            .map(|p| p.answer_at.min(p.next_keepalive));
        match (rx, p) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn allocated(&self, cid: u32) -> bool {
        cid >= self.first_cid && cid < self.next_cid
    }

    fn note(&mut self, line: String) {
        if let Some(log) = self.log.as_mut() {
            log(&line);
        }
    }

    fn send(&mut self, cid: u32, cmd: u8, payload: &[u8]) -> Vec<Report> {
        self.traffic.responses += 1;
        if cmd == cmd::KEEPALIVE {
            self.traffic.keepalives += 1;
        }
        let reports = frame(cid, cmd, payload);
        self.traffic.reports_out += reports.len() as u32;
        let detail = match (cmd, payload.first()) {
            (cmd::CBOR, Some(status)) => format!(" status 0x{status:02x}"),
            (cmd::ERROR | cmd::KEEPALIVE, Some(code)) => format!(" {code}"),
            _ => String::new(),
        };
        self.note(format!(
            "< {cid:08x} {} {} bytes{detail}",
            command_name(cmd),
            payload.len()
        ));
        reports
    }

    fn error(&mut self, cid: u32, code: u8) -> Vec<Report> {
        self.send(cid, cmd::ERROR, &[code])
    }

    /// Handles one report from the host (a 65-byte report with a leading report id 0 is
    /// accepted too) and returns the reports to send back.
    pub fn input(&mut self, report: &[u8], now: Instant) -> Vec<Report> {
        let report = match report.len() {
            65 if report[0] == 0 => &report[1..],
            _ => report,
        };
        if report.len() < 5 {
            return Vec::new();
        }
        self.traffic.reports_in += 1;
        let mut r = [0u8; REPORT_LEN];
        let n = report.len().min(REPORT_LEN);
        r[..n].copy_from_slice(&report[..n]);
        let cid = u32::from_be_bytes([r[0], r[1], r[2], r[3]]);
        if r[4] & 0x80 != 0 {
            self.initialization(cid, r, now)
        } else {
            self.continuation(cid, r[4], &r[5..], now)
        }
    }

    fn initialization(&mut self, cid: u32, r: Report, now: Instant) -> Vec<Report> {
        let command = r[4];
        let len = u16::from_be_bytes([r[5], r[6]]) as usize;
        if let Some(p) = &self.pending {
            if p.cid == cid {
                match command {
                    cmd::CANCEL => {
                        self.traffic.requests += 1;
                        self.note(format!("> {cid:08x} CANCEL"));
                        return self.complete(TouchOutcome::Cancelled);
                    }
                    // Resynchronisation abandons the pending request without an answer.
                    cmd::INIT => self.pending = None,
                    _ => return self.error(cid, err::CHANNEL_BUSY),
                }
            } else if !(command == cmd::INIT && cid == BROADCAST_CID) {
                return self.error(cid, err::CHANNEL_BUSY);
            }
        }
        if command == cmd::CANCEL {
            // Nothing pending on this channel: CANCEL has no answer of its own.
            self.traffic.requests += 1;
            return Vec::new();
        }
        if let Some(rx) = &self.rx {
            if rx.cid != cid {
                if !(command == cmd::INIT && cid == BROADCAST_CID) {
                    return self.error(cid, err::CHANNEL_BUSY);
                }
            } else if command == cmd::INIT {
                self.rx = None;
            } else {
                self.rx = None;
                return self.error(cid, err::INVALID_SEQ);
            }
        }
        if cid == 0 || (cid == BROADCAST_CID && command != cmd::INIT) {
            return self.error(cid, err::INVALID_CHANNEL);
        }
        if cid != BROADCAST_CID && !self.allocated(cid) {
            return self.error(cid, err::INVALID_CHANNEL);
        }
        if len > MAX_MESSAGE || (command == cmd::INIT && len != 8) {
            return self.error(cid, err::INVALID_LEN);
        }
        let first = len.min(INIT_DATA);
        let data = r[7..7 + first].to_vec();
        if data.len() == len {
            return self.dispatch(cid, command, data, now);
        }
        self.rx = Some(Rx {
            cid,
            cmd: command,
            len,
            data,
            next_seq: 0,
            deadline: now + CONTINUATION_TIMEOUT,
        });
        Vec::new()
    }

    fn continuation(&mut self, cid: u32, seq: u8, chunk: &[u8], now: Instant) -> Vec<Report> {
        let Some(rx) = self.rx.as_mut() else {
            return Vec::new(); // spurious continuation packets are ignored
        };
        if rx.cid != cid {
            return if self.pending.is_none() {
                self.error(cid, err::CHANNEL_BUSY)
            } else {
                Vec::new()
            };
        }
        if seq != rx.next_seq {
            self.rx = None;
            return self.error(cid, err::INVALID_SEQ);
        }
        let take = (rx.len - rx.data.len()).min(CONT_DATA);
        rx.data.extend_from_slice(&chunk[..take]);
        rx.next_seq += 1;
        rx.deadline = now + CONTINUATION_TIMEOUT;
        if rx.data.len() < rx.len {
            return Vec::new();
        }
        let Some(rx) = self.rx.take() else {
            return Vec::new();
        };
        self.dispatch(rx.cid, rx.cmd, rx.data, now)
    }

    fn dispatch(&mut self, cid: u32, command: u8, data: Vec<u8>, now: Instant) -> Vec<Report> {
        self.traffic.requests += 1;
        let detail = match (command, data.first()) {
            (cmd::CBOR, Some(c)) => format!(" ctap 0x{c:02x}"),
            _ => String::new(),
        };
        self.note(format!(
            "> {cid:08x} {} {} bytes{detail}",
            command_name(command),
            data.len()
        ));
        match command {
            cmd::INIT => {
                let new_cid = if cid == BROADCAST_CID {
                    if self.next_cid >= BROADCAST_CID - 1 {
                        self.next_cid = self.first_cid;
                    }
                    let c = self.next_cid;
                    self.next_cid += 1;
                    c
                } else {
                    cid
                };
                let mut resp = data;
                resp.extend_from_slice(&new_cid.to_be_bytes());
                // CTAPHID protocol 2, device version 5.0.0, capabilities.
                resp.extend_from_slice(&[2, 5, 0, 0, CAPABILITIES]);
                self.send(cid, cmd::INIT, &resp)
            }
            cmd::PING => self.send(cid, cmd::PING, &data),
            cmd::WINK => {
                if !data.is_empty() {
                    return self.error(cid, err::INVALID_LEN);
                }
                self.ctap.wink();
                self.send(cid, cmd::WINK, &[])
            }
            cmd::CBOR => {
                if data.is_empty() {
                    return self.error(cid, err::INVALID_LEN);
                }
                match self.ctap.begin(&data) {
                    Step::Done(resp) => self.send(cid, cmd::CBOR, &resp),
                    Step::NeedsTouch(deferred) => {
                        let (outcome, after) = self.ctap.user_answer();
                        self.pending = Some(Pending {
                            cid,
                            deferred,
                            outcome,
                            answer_at: now + after,
                            next_keepalive: now,
                        });
                        self.tick(now)
                    }
                }
            }
            _ => self.error(cid, err::INVALID_CMD),
        }
    }

    fn complete(&mut self, outcome: TouchOutcome) -> Vec<Report> {
        let Some(p) = self.pending.take() else {
            return Vec::new();
        };
        let resp = self.ctap.finish(p.deferred, outcome);
        self.send(p.cid, cmd::CBOR, &resp)
    }

    /// Lets time pass: continuation timeouts, keep-alives, the scripted user's answer.
    pub fn tick(&mut self, now: Instant) -> Vec<Report> {
        let mut out = Vec::new();
        if let Some(rx) = &self.rx {
            if now >= rx.deadline {
                let cid = rx.cid;
                self.rx = None;
                out.extend(self.error(cid, err::MSG_TIMEOUT));
            }
        }
        if let Some(p) = &self.pending {
            if now >= p.answer_at {
                let outcome = p.outcome;
                out.extend(self.complete(outcome));
            } else if now >= p.next_keepalive {
                let cid = p.cid;
                if let Some(p) = self.pending.as_mut() {
                    p.next_keepalive = now + KEEPALIVE_INTERVAL;
                }
                out.extend(self.send(cid, cmd::KEEPALIVE, &[STATUS_UPNEEDED]));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A CTAP2 layer that echoes requests; command 0x01 needs a touch.
    struct Echo {
        answer: (TouchOutcome, Duration),
        winks: u32,
    }

    impl Ctap2 for Echo {
        type Deferred = Vec<u8>;
        fn begin(&mut self, request: &[u8]) -> Step<Vec<u8>> {
            if request[0] == 0x01 {
                Step::NeedsTouch(request.to_vec())
            } else {
                let mut r = vec![0];
                r.extend_from_slice(request);
                Step::Done(r)
            }
        }
        fn finish(&mut self, d: Vec<u8>, outcome: TouchOutcome) -> Vec<u8> {
            match outcome {
                TouchOutcome::Touched => [&[0u8][..], &d].concat(),
                TouchOutcome::Denied => vec![CtapStatus::OperationDenied.code()],
                TouchOutcome::TimedOut => vec![CtapStatus::UserActionTimeout.code()],
                TouchOutcome::Cancelled => vec![CtapStatus::KeepaliveCancel.code()],
            }
        }
        fn user_answer(&self) -> (TouchOutcome, Duration) {
            self.answer
        }
        fn wink(&mut self) {
            self.winks += 1;
        }
    }

    fn device(answer: TouchOutcome, after_ms: u64) -> Device<Echo> {
        Device::new(
            Echo {
                answer: (answer, Duration::from_millis(after_ms)),
                winks: 0,
            },
            0x0100_0000,
        )
    }

    /// Reassembles the device's answer (one message) the way a host does.
    fn message(reports: &[Report]) -> (u32, u8, Vec<u8>) {
        let r = &reports[0];
        let cid = u32::from_be_bytes([r[0], r[1], r[2], r[3]]);
        let len = u16::from_be_bytes([r[5], r[6]]) as usize;
        let mut data = r[7..7 + len.min(INIT_DATA)].to_vec();
        for (i, c) in reports[1..].iter().enumerate() {
            assert_eq!(c[4] as usize, i, "sequence numbers count up from 0");
            let take = (len - data.len()).min(CONT_DATA);
            data.extend_from_slice(&c[5..5 + take]);
        }
        assert_eq!(data.len(), len);
        (cid, r[4], data)
    }

    fn send(d: &mut Device<Echo>, cid: u32, cmd: u8, payload: &[u8], now: Instant) -> Vec<Report> {
        let mut out = Vec::new();
        for r in frame(cid, cmd, payload) {
            out.extend(d.input(&r, now));
        }
        out
    }

    fn open_channel(d: &mut Device<Echo>, now: Instant) -> u32 {
        let nonce = [1, 2, 3, 4, 5, 6, 7, 8];
        let out = send(d, BROADCAST_CID, cmd::INIT, &nonce, now);
        let (cid, c, data) = message(&out);
        assert_eq!((cid, c), (BROADCAST_CID, cmd::INIT));
        assert_eq!(data.len(), 17);
        assert_eq!(&data[..8], &nonce);
        assert_eq!(data[12], 2, "CTAPHID protocol version");
        assert_eq!(data[16], 0x0d, "WINK | CBOR | NMSG");
        u32::from_be_bytes([data[8], data[9], data[10], data[11]])
    }

    #[test]
    fn init_allocates_distinct_channels_and_resync_keeps_the_channel() {
        let now = Instant::now();
        let mut d = device(TouchOutcome::Touched, 0);
        let a = open_channel(&mut d, now);
        let b = open_channel(&mut d, now);
        assert_ne!(a, b);
        assert!(a != 0 && a != BROADCAST_CID);
        let (cid, c, data) = message(&send(&mut d, a, cmd::INIT, &[9; 8], now));
        assert_eq!((cid, c), (a, cmd::INIT));
        assert_eq!(&data[8..12], &a.to_be_bytes());
    }

    #[test]
    fn a_long_ping_is_reassembled_and_echoed_in_order() {
        let now = Instant::now();
        let mut d = device(TouchOutcome::Touched, 0);
        let cid = open_channel(&mut d, now);
        let payload: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
        let out = send(&mut d, cid, cmd::PING, &payload, now);
        assert_eq!(out.len(), 1 + (1000 - 57usize).div_ceil(59));
        assert_eq!(message(&out), (cid, cmd::PING, payload));
    }

    #[test]
    fn the_largest_message_fits_and_a_larger_one_is_refused() {
        let now = Instant::now();
        let mut d = device(TouchOutcome::Touched, 0);
        let cid = open_channel(&mut d, now);
        let big = vec![0x5a; MAX_MESSAGE];
        assert_eq!(message(&send(&mut d, cid, cmd::PING, &big, now)).2, big);
        let mut r = frame(cid, cmd::PING, &[])[0];
        r[5..7].copy_from_slice(&((MAX_MESSAGE + 1) as u16).to_be_bytes());
        let out = d.input(&r, now);
        assert_eq!(message(&out), (cid, cmd::ERROR, vec![err::INVALID_LEN]));
    }

    #[test]
    fn a_continuation_out_of_sequence_is_an_error_and_aborts_the_message() {
        let now = Instant::now();
        let mut d = device(TouchOutcome::Touched, 0);
        let cid = open_channel(&mut d, now);
        let reports = frame(cid, cmd::PING, &[1; 200]);
        assert!(d.input(&reports[0], now).is_empty());
        let out = d.input(&reports[2], now); // seq 1 where 0 is due
        assert_eq!(message(&out), (cid, cmd::ERROR, vec![err::INVALID_SEQ]));
        assert!(
            d.input(&reports[1], now).is_empty(),
            "the message was dropped"
        );
    }

    #[test]
    fn an_unfinished_message_times_out() {
        let now = Instant::now();
        let mut d = device(TouchOutcome::Touched, 0);
        let cid = open_channel(&mut d, now);
        let reports = frame(cid, cmd::PING, &[1; 100]);
        d.input(&reports[0], now);
        assert!(d.tick(now + Duration::from_millis(100)).is_empty());
        let out = d.tick(now + CONTINUATION_TIMEOUT);
        assert_eq!(message(&out), (cid, cmd::ERROR, vec![err::MSG_TIMEOUT]));
        assert!(d.next_deadline().is_none());
    }

    #[test]
    fn a_second_channel_is_busy_while_the_first_sends_a_message() {
        let now = Instant::now();
        let mut d = device(TouchOutcome::Touched, 0);
        let a = open_channel(&mut d, now);
        let b = open_channel(&mut d, now);
        let reports = frame(a, cmd::PING, &[3; 100]);
        d.input(&reports[0], now);
        let out = send(&mut d, b, cmd::PING, &[4], now);
        assert_eq!(message(&out), (b, cmd::ERROR, vec![err::CHANNEL_BUSY]));
        let out = d.input(&reports[1], now);
        assert_eq!(message(&out), (a, cmd::PING, vec![3; 100]));
    }

    #[test]
    fn unknown_channels_commands_and_the_broadcast_channel_are_refused() {
        let now = Instant::now();
        let mut d = device(TouchOutcome::Touched, 0);
        let cid = open_channel(&mut d, now);
        let out = send(&mut d, cid + 100, cmd::PING, &[1], now);
        assert_eq!(message(&out).2, vec![err::INVALID_CHANNEL]);
        let out = send(&mut d, 0, cmd::PING, &[1], now);
        assert_eq!(message(&out).2, vec![err::INVALID_CHANNEL]);
        let out = send(&mut d, BROADCAST_CID, cmd::CBOR, &[4], now);
        assert_eq!(message(&out).2, vec![err::INVALID_CHANNEL]);
        let out = send(&mut d, cid, cmd::MSG, &[0, 1, 0, 0], now);
        assert_eq!(message(&out), (cid, cmd::ERROR, vec![err::INVALID_CMD]));
        let out = send(&mut d, BROADCAST_CID, cmd::INIT, &[1; 7], now);
        assert_eq!(message(&out).2, vec![err::INVALID_LEN]);
        let out = send(&mut d, cid, cmd::CBOR, &[], now);
        assert_eq!(message(&out).2, vec![err::INVALID_LEN]);
    }

    #[test]
    fn wink_answers_empty_and_reaches_the_authenticator() {
        let now = Instant::now();
        let mut d = device(TouchOutcome::Touched, 0);
        let cid = open_channel(&mut d, now);
        let out = send(&mut d, cid, cmd::WINK, &[], now);
        assert_eq!(message(&out), (cid, cmd::WINK, vec![]));
        assert_eq!(d.ctap().winks, 1);
    }

    #[test]
    fn a_touch_wait_sends_upneeded_keepalives_then_the_answer() {
        let now = Instant::now();
        let mut d = device(TouchOutcome::Touched, 350);
        let cid = open_channel(&mut d, now);
        let out = send(&mut d, cid, cmd::CBOR, &[1, 0xa0], now);
        assert_eq!(message(&out), (cid, cmd::KEEPALIVE, vec![STATUS_UPNEEDED]));
        let mut keepalives = 1;
        let mut t = now;
        let answer = loop {
            t += Duration::from_millis(50);
            let out = d.tick(t);
            if out.is_empty() {
                continue;
            }
            let (c, command, data) = message(&out);
            assert_eq!(c, cid);
            if command == cmd::KEEPALIVE {
                keepalives += 1;
                continue;
            }
            break (command, data);
        };
        assert_eq!(answer, (cmd::CBOR, vec![0, 1, 0xa0]));
        assert_eq!(keepalives, 4, "one at once, then every 100 ms for 350 ms");
        assert!(d.next_deadline().is_none());
    }

    #[test]
    fn cancel_ends_a_touch_wait_with_keepalive_cancel_and_other_channels_are_busy() {
        let now = Instant::now();
        let mut d = device(TouchOutcome::Touched, 10_000);
        let a = open_channel(&mut d, now);
        let b = open_channel(&mut d, now);
        send(&mut d, a, cmd::CBOR, &[1], now);
        let out = send(&mut d, b, cmd::CBOR, &[4], now);
        assert_eq!(message(&out), (b, cmd::ERROR, vec![err::CHANNEL_BUSY]));
        let out = send(&mut d, a, cmd::PING, &[4], now);
        assert_eq!(message(&out), (a, cmd::ERROR, vec![err::CHANNEL_BUSY]));
        // A new client may still allocate a channel.
        open_channel(&mut d, now);
        let out = send(&mut d, a, cmd::CANCEL, &[], now);
        assert_eq!(
            message(&out),
            (a, cmd::CBOR, vec![CtapStatus::KeepaliveCancel.code()])
        );
        let out = send(&mut d, b, cmd::PING, &[4], now);
        assert_eq!(message(&out), (b, cmd::PING, vec![4]));
    }

    #[test]
    fn deny_and_timeout_answer_after_their_delay() {
        let now = Instant::now();
        for (outcome, status) in [
            (TouchOutcome::Denied, CtapStatus::OperationDenied),
            (TouchOutcome::TimedOut, CtapStatus::UserActionTimeout),
        ] {
            let mut d = device(outcome, 1000);
            let cid = open_channel(&mut d, now);
            send(&mut d, cid, cmd::CBOR, &[1], now);
            assert_eq!(
                message(&d.tick(now + Duration::from_millis(999))).1,
                cmd::KEEPALIVE
            );
            let out = d.tick(now + Duration::from_millis(1000));
            assert_eq!(message(&out), (cid, cmd::CBOR, vec![status.code()]));
        }
    }

    #[test]
    fn reports_with_a_leading_report_id_and_short_reports_are_handled() {
        let now = Instant::now();
        let mut d = device(TouchOutcome::Touched, 0);
        let mut r = vec![0u8];
        r.extend_from_slice(&frame(BROADCAST_CID, cmd::INIT, &[7; 8])[0]);
        assert_eq!(message(&d.input(&r, now)).1, cmd::INIT);
        assert!(d.input(&[1, 2, 3], now).is_empty());
        assert!(d.input(&[], now).is_empty());
    }
}
