//! Handing a key and its certificate to a colleague over magic-wormhole.
//!
//! We speak the "file transfer v1" protocol of the Python `wormhole` CLI
//! (app id `lothar.com/wormhole/text-or-file-xfer`) on top of the public,
//! lower-level API of the `magic-wormhole` crate (`MailboxConnection`,
//! `Wormhole`, `transit`). We don't use the crate's `transfer` module: it sends
//! folders as a tar with every entry 0644, has no text messages, no timeouts,
//! and reports cancellation as success.
//!
//! The peer protocol, as JSON messages over the encrypted mailbox:
//! * sender → `{"transit": {"abilities-v1": [...], "hints-v1": [...]}}`
//! * sender → `{"offer": {"directory": {"mode": "zipfile/deflated", "dirname": D,
//!   "zipsize": Z, "numbytes": N, "numfiles": F}}}` (or `{"file": {"filename",
//!   "filesize"}}`, or `{"message": TEXT}`)
//! * receiver → its own `{"transit": ...}`, then `{"answer": {"file_ack": "ok"}}`
//!   (`{"answer": {"message_ack": "ok"}}` for text; `{"error": "..."}` to refuse)
//! * then over transit (sender = leader), encrypted records carrying the bytes,
//!   and one record back: `{"ack": "ok", "sha256": HEX}`.
//!
//! The transit key is HKDF of the wormhole key with the purpose
//! `"lothar.com/wormhole/text-or-file-xfer/transit-key"` (Python always uses this
//! app id there, see its "BUG339"), derived through the crate's public
//! `Key::derive_subkey_from_purpose`.
//!
//! Cancelling: drop the future. Every phase has a timeout.

pub mod zipdir;

use std::{future::Future, sync::Arc, time::Duration};

use magic_wormhole::{
    rendezvous::RendezvousError,
    transit::{self, Abilities, Hints, RelayHint, TransitKey, TransitRole},
    AppConfig, AppID, Code, MailboxConnection, Wormhole, WormholeError,
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

pub use zipdir::display_safe;

/// The app id of Python's file/text transfer; also the transit key's purpose prefix.
pub const APPID: &str = "lothar.com/wormhole/text-or-file-xfer";
/// Public mailbox server (same default as the Python CLI).
pub const DEFAULT_MAILBOX_URL: &str = "ws://relay.magic-wormhole.io:4000/v1";
/// Public transit relay (same default as the Python CLI).
pub const DEFAULT_RELAY_URL: &str = "tcp://transit.magic-wormhole.io:4001";
/// Most bytes we accept (sum of all files, uncompressed).
pub const MAX_TOTAL_BYTES: u64 = 1 << 20;
/// Most files we accept in a directory offer.
pub const MAX_ENTRIES: usize = 16;
/// Most bytes of a zip we accept on the wire (content cap + room for headers).
pub const MAX_ZIP_BYTES: u64 = MAX_TOTAL_BYTES + 64 * 1024;
/// Longest text message we accept.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;
const RECORD_SIZE: usize = 16 * 1024;

/// Where and how to talk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WormholeConfig {
    /// Mailbox (rendezvous) server, `ws://host:port/v1`.
    pub mailbox_url: String,
    /// Transit relay, `tcp://host:port`.
    pub relay_url: String,
    /// Limit for each waiting phase: the peer showing up, the peer answering,
    /// the data transfer. Connecting to the servers is capped at 30 s.
    pub timeout: Duration,
    /// `false` (default): relay only. No listening socket, no STUN query, no
    /// local addresses sent to the peer, and only our own relay is dialled.
    /// `true`: also allow direct connections (the crate then listens on all
    /// interfaces and asks a public STUN server for our address).
    pub direct: bool,
}

impl Default for WormholeConfig {
    fn default() -> Self {
        WormholeConfig {
            mailbox_url: DEFAULT_MAILBOX_URL.into(),
            relay_url: DEFAULT_RELAY_URL.into(),
            timeout: Duration::from_secs(5 * 60),
            direct: false,
        }
    }
}

/// A file to send, or one received. `name` is a plain file name (no path).
#[derive(Clone, PartialEq, Eq)]
pub struct OutFile {
    pub name: String,
    pub bytes: Zeroizing<Vec<u8>>,
    /// Permission bits, e.g. `0o600`.
    pub mode: u32,
}

impl std::fmt::Debug for OutFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutFile")
            .field("name", &self.name)
            .field("bytes", &format_args!("<{} bytes>", self.bytes.len()))
            .field("mode", &format_args!("{:o}", self.mode))
            .finish()
    }
}

/// What the other side sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// A directory offer (what `send_dir` and `wormhole send DIR` send).
    Files {
        dir_name: String,
        files: Vec<OutFile>,
    },
    /// A single file (`wormhole send FILE`); mode is 0600 since none is sent.
    File(OutFile),
    /// A text message (`wormhole send --text`). Not sanitised: use
    /// [`display_safe`] before printing it.
    Text(String),
}

/// Everything that can go wrong, one variant per thing a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    #[error(
        "That is not a wormhole code: a code is a number and words joined by dashes, like 7-guitarist-revenge"
    )]
    BadCode,
    #[error("The code did not match: the key exchange with the other side failed")]
    WrongCode,
    #[error("Could not reach the wormhole mailbox server: {0}")]
    MailboxUnreachable(String),
    #[error("The other side never showed up")]
    PeerNeverCame,
    #[error("The transfer was cut off before it completed")]
    Cut,
    #[error("Timed out while {0}")]
    Timeout(&'static str),
    #[error("Refused what the other side sent: {0}")]
    Hostile(String),
    #[error("The wormhole transfer failed: {0}")]
    Other(String),
}

impl TransferError {
    /// Short machine-readable kind, for `--json` errors and the audit log.
    pub fn kind(&self) -> &'static str {
        match self {
            TransferError::BadCode => "bad-code",
            TransferError::WrongCode => "wrong-code",
            TransferError::MailboxUnreachable(_) => "mailbox-unreachable",
            TransferError::PeerNeverCame => "peer-never-came",
            TransferError::Cut => "transfer-cut",
            TransferError::Timeout(_) => "timeout",
            TransferError::Hostile(_) => "hostile-peer",
            TransferError::Other(_) => "transfer-failed",
        }
    }

    /// What to do next, one sentence.
    pub fn hint(&self) -> String {
        match self {
            TransferError::BadCode => {
                "Copy the code exactly as the sender printed it, e.g. `breakglass receive 7-guitarist-revenge`.".into()
            }
            TransferError::WrongCode => {
                "Check the words for typos, then ask the sender to start a new transfer: this code is used up (a repeated failure can mean someone is guessing codes).".into()
            }
            TransferError::MailboxUnreachable(_) => {
                "Check the network, or point --mailbox-url / BREAKGLASS_MAILBOX_URL at a reachable mailbox server (both sides must use the same one).".into()
            }
            TransferError::PeerNeverCame => {
                "Make sure the other side uses the same code and the same mailbox server before the timeout; check the number at the start of the code, or start a new transfer.".into()
            }
            TransferError::Cut => {
                "Nothing was written: start a new transfer (check the network and the transit relay).".into()
            }
            TransferError::Timeout(_) => {
                "Nothing was written: try again, check that the other side is still there and that the transit relay (--relay-url) is reachable.".into()
            }
            TransferError::Hostile(_) => {
                "Nothing was written: ask the sender what they sent, and don't retry with a code from someone you don't know.".into()
            }
            TransferError::Other(_) => {
                "Try again; if it keeps failing, check --mailbox-url and --relay-url on both sides.".into()
            }
        }
    }
}

type Result<T, E = TransferError> = std::result::Result<T, E>;

/// Runs `fut` for at most `limit`.
async fn within<T>(limit: Duration, fut: impl Future<Output = T>) -> Option<T> {
    futures_lite::future::or(async { Some(fut.await) }, async {
        async_io::Timer::after(limit).await;
        None
    })
    .await
}

/// Connects to the mailbox server within the connect limit, mapping both failure kinds.
async fn reach_mailbox<T, E>(
    cfg: &WormholeConfig,
    connect: impl Future<Output = std::result::Result<T, E>>,
) -> Result<T>
where
    E: Into<magic_wormhole::WormholeError>,
{
    match within(connect_limit(cfg), connect).await {
        None => Err(TransferError::MailboxUnreachable(format!(
            "{} did not answer in time",
            display_safe(&cfg.mailbox_url)
        ))),
        Some(r) => r.map_err(|e| mailbox_error(cfg, e.into())),
    }
}

/// The reason in a peer's `{"error": …}` message, made safe to show.
fn error_reason(msg: &Value) -> Option<String> {
    msg.get("error").map(|e| {
        e.as_str()
            .map(display_safe)
            .unwrap_or_else(|| "no reason given".into())
    })
}

fn connect_limit(cfg: &WormholeConfig) -> Duration {
    cfg.timeout.min(Duration::from_secs(30))
}

fn app_config(cfg: &WormholeConfig) -> AppConfig<Value> {
    AppConfig {
        id: AppID::new(APPID),
        rendezvous_url: cfg.mailbox_url.clone().into(),
        // Python's file transfer sends empty app versions.
        app_version: json!({}),
    }
}

/// The error and its sources, as one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        let t = inner.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = inner.source();
    }
    display_safe_long(&s)
}

fn display_safe_long(s: &str) -> String {
    s.chars()
        .take(300)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Errors while connecting to the mailbox (before any peer is involved).
fn mailbox_error(cfg: &WormholeConfig, e: WormholeError) -> TransferError {
    match e {
        WormholeError::ServerError(RendezvousError::Server(msg)) => TransferError::Other(format!(
            "the mailbox server said: {}",
            display_safe_long(&msg)
        )),
        WormholeError::CodeInvalid(_) => TransferError::BadCode,
        WormholeError::UnclaimedNameplate(_) => TransferError::PeerNeverCame,
        e => TransferError::MailboxUnreachable(format!(
            "{} ({})",
            display_safe_long(&cfg.mailbox_url),
            chain(&e)
        )),
    }
}

/// Errors once both sides are talking through the mailbox.
fn peer_error(e: WormholeError) -> TransferError {
    match e {
        WormholeError::PakeFailed => TransferError::WrongCode,
        WormholeError::Crypto => {
            TransferError::Hostile("a message from the other side failed to decrypt".into())
        }
        WormholeError::ServerError(RendezvousError::IO(_)) => TransferError::Other(format!(
            "the connection to the mailbox server broke ({})",
            chain(&e)
        )),
        e => TransferError::Other(chain(&e)),
    }
}

fn check_code(code: &str) -> Result<Code> {
    let code = code.trim();
    let mut parts = code.split('-');
    let nameplate = parts.next().unwrap_or("");
    let words: Vec<&str> = parts.collect();
    let ok = !nameplate.is_empty()
        && nameplate.len() <= 9
        && nameplate.bytes().all(|b| b.is_ascii_digit())
        && !nameplate.starts_with('0')
        && words.len() >= 2
        && words.iter().all(|w| {
            !w.is_empty()
                && w.len() <= 32
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    if !ok {
        return Err(TransferError::BadCode);
    }
    code.parse::<Code>().map_err(|_| TransferError::BadCode)
}

fn relay_hints(cfg: &WormholeConfig) -> Result<Vec<RelayHint>> {
    let url: url::Url = cfg.relay_url.parse().map_err(|e| {
        TransferError::Other(format!(
            "the relay URL '{}' is invalid ({e})",
            display_safe(&cfg.relay_url)
        ))
    })?;
    if url.scheme() != "tcp" {
        return Err(TransferError::Other(format!(
            "the relay URL '{}' must look like tcp://host:port",
            display_safe(&cfg.relay_url)
        )));
    }
    let name = url.host_str().map(str::to_owned);
    RelayHint::from_urls(name, [url])
        .map(|h| vec![h])
        .map_err(|e| {
            TransferError::Other(format!(
                "the relay URL '{}' is invalid ({e})",
                display_safe(&cfg.relay_url)
            ))
        })
}

fn abilities(cfg: &WormholeConfig) -> Abilities {
    if cfg.direct {
        Abilities::ALL
    } else {
        Abilities::FORCE_RELAY
    }
}

/// Receives the next peer message as JSON. The crate panics (`todo!`) on a
/// message with a non-numeric phase; we turn that into a refusal.
async fn recv_json(wh: &mut Wormhole) -> Result<Value> {
    use futures_lite::FutureExt;
    let bytes = std::panic::AssertUnwindSafe(wh.receive())
        .catch_unwind()
        .await
        .map_err(|_| {
            TransferError::Hostile("the other side sent a malformed mailbox message".into())
        })?
        .map_err(peer_error)?;
    serde_json::from_slice(&bytes).map_err(|_| {
        TransferError::Hostile("the other side sent a message that is not JSON".into())
    })
}

async fn send_json(wh: &mut Wormhole, v: &Value) -> Result<()> {
    wh.send_json(v).await.map_err(peer_error)
}

fn transit_msg(connector: &transit::TransitConnector) -> Value {
    json!({"transit": {
        "abilities-v1": connector.our_abilities(),
        "hints-v1": &**connector.our_hints(),
    }})
}

/// Their transit message. With `direct == false` we keep only their
/// abilities: we dial no address they give us, only our own relay (which
/// they dial too, as Python and the Rust crate both do).
fn parse_transit(cfg: &WormholeConfig, v: &Value) -> Result<(Abilities, Hints)> {
    let abilities: Abilities =
        serde_json::from_value(v.get("abilities-v1").cloned().unwrap_or(json!([]))).map_err(
            |_| TransferError::Hostile("the other side sent unreadable transit abilities".into()),
        )?;
    let hints: Hints = serde_json::from_value(v.get("hints-v1").cloned().unwrap_or(json!([])))
        .map_err(|_| {
            TransferError::Hostile("the other side sent unreadable transit hints".into())
        })?;
    let hints = if cfg.direct { hints } else { Hints::default() };
    Ok((abilities, hints))
}

fn transit_key(wh: &Wormhole) -> magic_wormhole::Key<TransitKey> {
    wh.key()
        .derive_subkey_from_purpose::<TransitKey>(&format!("{APPID}/transit-key"))
}

async fn init_transit(cfg: &WormholeConfig) -> Result<transit::TransitConnector> {
    let relays = relay_hints(cfg)?;
    transit::init(abilities(cfg), None, relays)
        .await
        .map_err(|e| {
            TransferError::Other(format!("could not prepare the transit connection ({e})"))
        })
}

async fn connect_transit(
    cfg: &WormholeConfig,
    connector: transit::TransitConnector,
    role: TransitRole,
    key: magic_wormhole::Key<TransitKey>,
    their: (Abilities, Hints),
) -> Result<transit::Transit> {
    let limit = cfg.timeout.min(Duration::from_secs(90));
    match within(
        limit,
        connector.connect(role, key, their.0, Arc::new(their.1)),
    )
    .await
    {
        None => Err(TransferError::Timeout(
            "connecting to the other side through the transit relay",
        )),
        Some(Err(e)) => Err(TransferError::Other(format!(
            "could not connect to the other side through the transit relay {} ({})",
            display_safe(&cfg.relay_url),
            chain(&e)
        ))),
        Some(Ok((t, _info))) => Ok(t),
    }
}

fn transit_error(e: transit::TransitError) -> TransferError {
    match e {
        transit::TransitError::IO(_) => TransferError::Cut,
        other => {
            TransferError::Hostile(format!("a transit record was corrupt ({})", chain(&other)))
        }
    }
}

async fn close(wh: Wormhole) {
    let _ = within(Duration::from_secs(3), wh.close()).await;
}

fn sha256_hex(data: &[u8]) -> String {
    crate::hex::encode(&Sha256::digest(data))
}

/// Sends `files` as a Python-style *directory offer*: the receiver gets a folder
/// `dir_name` holding the files with their modes (e.g. a key stays 0600).
/// Calls `on_code(code)` as soon as the code is allocated. Returns the nameplate.
pub async fn send_dir(
    cfg: &WormholeConfig,
    dir_name: &str,
    files: &[OutFile],
    on_code: impl FnOnce(&str),
) -> Result<String> {
    zipdir::check_plain_name(dir_name)
        .map_err(|e| TransferError::Other(format!("cannot send: {e}")))?;
    if files.is_empty() || files.len() > MAX_ENTRIES {
        return Err(TransferError::Other(format!(
            "cannot send {} files (1 to {MAX_ENTRIES})",
            files.len()
        )));
    }
    let mut total = 0u64;
    for (i, f) in files.iter().enumerate() {
        zipdir::check_plain_name(&f.name)
            .map_err(|e| TransferError::Other(format!("cannot send: {e}")))?;
        if files[..i].iter().any(|g| g.name == f.name) {
            return Err(TransferError::Other(format!(
                "cannot send: '{}' is listed twice",
                f.name
            )));
        }
        total += f.bytes.len() as u64;
    }
    if total > MAX_TOTAL_BYTES {
        return Err(TransferError::Other(format!(
            "cannot send more than {MAX_TOTAL_BYTES} bytes"
        )));
    }
    let entries: Vec<zipdir::ZipEntry> = files
        .iter()
        .map(|f| zipdir::ZipEntry {
            name: &f.name,
            data: &f.bytes,
            mode: 0o100000 | (f.mode & 0o777),
            deflate: true,
            declared_size: None,
        })
        .collect();
    let zip = zipdir::write_zip(&entries);
    let offer = json!({"directory": {
        "mode": "zipfile/deflated",
        "dirname": dir_name,
        "zipsize": zip.len(),
        "numbytes": total,
        "numfiles": files.len(),
    }});
    send_offer(cfg, offer, &zip, None, on_code).await
}

/// Test support: sends an arbitrary offer and payload, as a hostile or broken
/// peer would. With `cut_after = Some(n)`, vanishes (no close, no ack wait)
/// after sending `n` payload bytes. Not part of the supported API.
#[doc(hidden)]
pub async fn send_raw_offer(
    cfg: &WormholeConfig,
    offer: Value,
    payload: &[u8],
    cut_after: Option<usize>,
    on_code: impl FnOnce(&str),
) -> Result<String> {
    send_offer(cfg, offer, payload, cut_after, on_code).await
}

async fn send_offer(
    cfg: &WormholeConfig,
    offer: Value,
    payload: &[u8],
    cut_after: Option<usize>,
    on_code: impl FnOnce(&str),
) -> Result<String> {
    let connector = init_transit(cfg).await?;
    let mailbox = reach_mailbox(cfg, MailboxConnection::create(app_config(cfg), 2)).await?;
    let code = mailbox.code().clone();
    let nameplate = code.nameplate().to_string();
    on_code(&code.to_string());
    let mut wh = match within(cfg.timeout, Wormhole::connect(mailbox)).await {
        None => return Err(TransferError::PeerNeverCame),
        Some(r) => r.map_err(peer_error)?,
    };
    let result = send_on(cfg, &mut wh, connector, offer, payload, cut_after).await;
    match (&result, cut_after) {
        (_, Some(_)) => drop(wh), // vanish like a crashed peer
        (Ok(()), None) => close(wh).await,
        (Err(e), None) => {
            if !matches!(e, TransferError::Cut | TransferError::Timeout(_)) {
                let _ = within(
                    Duration::from_secs(2),
                    wh.send_json(&json!({"error": e.to_string()})),
                )
                .await;
            }
            close(wh).await
        }
    }
    result.map(|()| nameplate)
}

async fn send_on(
    cfg: &WormholeConfig,
    wh: &mut Wormhole,
    connector: transit::TransitConnector,
    offer: Value,
    payload: &[u8],
    cut_after: Option<usize>,
) -> Result<()> {
    send_json(wh, &transit_msg(&connector)).await?;
    send_json(wh, &json!({ "offer": offer })).await?;

    // Wait for their transit hints and their answer (any order).
    let mut their = None;
    let mut accepted = false;
    while their.is_none() || !accepted {
        let msg = within(cfg.timeout, recv_json(wh))
            .await
            .ok_or(TransferError::Timeout(
                "waiting for the other side to accept",
            ))??;
        if let Some(text) = error_reason(&msg) {
            return Err(TransferError::Other(format!(
                "the other side refused: {text}"
            )));
        }
        if let Some(t) = msg.get("transit") {
            their = Some(parse_transit(cfg, t)?);
        }
        if let Some(a) = msg.get("answer") {
            if a.get("file_ack").and_then(Value::as_str) == Some("ok") {
                accepted = true;
            } else {
                return Err(TransferError::Other(format!(
                    "the other side gave an unexpected answer: {}",
                    display_safe(&a.to_string())
                )));
            }
        }
    }
    let their = their.expect("loop ends with hints");
    let mut transit =
        connect_transit(cfg, connector, TransitRole::Leader, transit_key(wh), their).await?;

    let sent = payload.len().min(cut_after.unwrap_or(usize::MAX));
    let transfer = async {
        for chunk in payload[..sent].chunks(RECORD_SIZE) {
            transit.send_record(chunk).await.map_err(transit_error)?;
        }
        transit.flush().await.map_err(transit_error)?;
        if cut_after.is_some() {
            return Ok(None);
        }
        transit
            .receive_record()
            .await
            .map(Some)
            .map_err(transit_error)
    };
    let ack = match within(cfg.timeout, transfer).await {
        None => return Err(TransferError::Timeout("sending the files")),
        Some(r) => r?,
    };
    let Some(ack) = ack else { return Ok(()) };
    let ack: Value = serde_json::from_slice(&ack).map_err(|_| {
        TransferError::Hostile("the other side's acknowledgement is not JSON".into())
    })?;
    match ack.get("ack").and_then(Value::as_str) {
        Some("ok") => {}
        other => {
            return Err(TransferError::Other(format!(
                "the other side did not accept the files: {}",
                display_safe(other.unwrap_or("no reason given"))
            )));
        }
    }
    if ack
        .get("sha256")
        .and_then(Value::as_str)
        .is_some_and(|sum| sum != sha256_hex(payload))
    {
        return Err(TransferError::Other(
            "the other side received different bytes (checksum mismatch)".into(),
        ));
    }
    Ok(())
}

/// Receives whatever Python `wormhole send` or [`send_dir`] sends: a directory
/// offer (zip, stored or deflated), a single file, or a text message. All
/// names are checked (plain names only), sizes and counts are capped before and
/// during the transfer and unpacking, symlinks and special files are refused.
pub async fn receive(cfg: &WormholeConfig, code: &str) -> Result<Received> {
    let code = check_code(code)?;
    // Build the relay hints first so a bad --relay-url fails before anything else.
    relay_hints(cfg)?;
    let mailbox = reach_mailbox(
        cfg,
        MailboxConnection::connect(app_config(cfg), code, false),
    )
    .await?;
    let mut wh = match within(cfg.timeout, Wormhole::connect(mailbox)).await {
        None => return Err(TransferError::PeerNeverCame),
        Some(r) => r.map_err(peer_error)?,
    };
    let result = receive_on(cfg, &mut wh).await;
    close(wh).await;
    result
}

/// Refuses an offer: tells the peer why, returns the error.
async fn refuse(wh: &mut Wormhole, why: String) -> TransferError {
    let _ = within(
        Duration::from_secs(2),
        wh.send_json(&json!({"error": format!("refused: {why}")})),
    )
    .await;
    TransferError::Hostile(why)
}

fn get_u64(v: &Value, key: &str) -> Option<u64> {
    v.get(key).and_then(Value::as_u64)
}

async fn receive_on(cfg: &WormholeConfig, wh: &mut Wormhole) -> Result<Received> {
    let mut connector = None;
    let mut their = None;
    loop {
        let msg = within(cfg.timeout, recv_json(wh))
            .await
            .ok_or(TransferError::Timeout("waiting for the other side's offer"))??;
        if let Some(text) = error_reason(&msg) {
            return Err(TransferError::Other(format!(
                "the other side gave up: {text}"
            )));
        }
        if let Some(t) = msg.get("transit").filter(|_| their.is_none()) {
            their = Some(parse_transit(cfg, t)?);
            let c = init_transit(cfg).await?;
            send_json(wh, &transit_msg(&c)).await?;
            connector = Some(c);
        }
        let Some(offer) = msg.get("offer") else {
            continue;
        };

        if let Some(text) = offer.get("message") {
            let Some(text) = text.as_str() else {
                return Err(refuse(wh, "the text message is not a string".into()).await);
            };
            if text.len() > MAX_TEXT_BYTES {
                return Err(refuse(
                    wh,
                    format!("the text message is longer than {MAX_TEXT_BYTES} bytes"),
                )
                .await);
            }
            send_json(wh, &json!({"answer": {"message_ack": "ok"}})).await?;
            return Ok(Received::Text(text.to_owned()));
        }

        let (is_dir, name, size) = if let Some(f) = offer.get("file") {
            let name = f
                .get("filename")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let Some(size) = get_u64(f, "filesize") else {
                return Err(refuse(wh, "the file offer has no size".into()).await);
            };
            if size > MAX_TOTAL_BYTES {
                return Err(refuse(
                    wh,
                    format!("the file is {size} bytes, more than the {MAX_TOTAL_BYTES} allowed"),
                )
                .await);
            }
            (false, name, size)
        } else if let Some(d) = offer.get("directory") {
            let mode = d.get("mode").and_then(Value::as_str).unwrap_or("");
            if !mode.starts_with("zipfile") {
                return Err(refuse(
                    wh,
                    format!("unknown directory mode '{}'", display_safe(mode)),
                )
                .await);
            }
            let name = d
                .get("dirname")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let (Some(zipsize), Some(numbytes), Some(numfiles)) = (
                get_u64(d, "zipsize"),
                get_u64(d, "numbytes"),
                get_u64(d, "numfiles"),
            ) else {
                return Err(refuse(wh, "the directory offer lacks its sizes".into()).await);
            };
            if numfiles > MAX_ENTRIES as u64 {
                return Err(refuse(
                    wh,
                    format!(
                        "the directory has {numfiles} files, more than the {MAX_ENTRIES} allowed"
                    ),
                )
                .await);
            }
            if numbytes > MAX_TOTAL_BYTES {
                return Err(refuse(wh, format!("the directory holds {numbytes} bytes, more than the {MAX_TOTAL_BYTES} allowed")).await);
            }
            if zipsize > MAX_ZIP_BYTES {
                return Err(refuse(
                    wh,
                    format!(
                        "the archive is {zipsize} bytes, more than the {MAX_ZIP_BYTES} allowed"
                    ),
                )
                .await);
            }
            (true, name, zipsize)
        } else {
            return Err(refuse(wh, "unknown offer type".into()).await);
        };
        if let Err(why) = zipdir::check_plain_name(&name) {
            return Err(refuse(wh, why).await);
        }
        let (Some(connector), Some(their)) = (connector.take(), their.take()) else {
            return Err(refuse(wh, "the offer came without transit hints".into()).await);
        };

        send_json(wh, &json!({"answer": {"file_ack": "ok"}})).await?;
        let mut transit = connect_transit(
            cfg,
            connector,
            TransitRole::Follower,
            transit_key(wh),
            their,
        )
        .await?;
        let data = match within(cfg.timeout, receive_exact(&mut transit, size)).await {
            None => return Err(TransferError::Timeout("receiving the files")),
            Some(r) => r?,
        };
        let sum = sha256_hex(&data);
        let nack = |why: &str| json!({"ack": format!("error: {why}"), "sha256": sum});

        if !is_dir {
            send_ack(&mut transit, &json!({"ack": "ok", "sha256": sum})).await?;
            return Ok(Received::File(OutFile {
                name,
                bytes: data,
                mode: 0o600,
            }));
        }
        let limits = zipdir::Limits {
            max_entries: MAX_ENTRIES,
            max_total: MAX_TOTAL_BYTES,
        };
        return match zipdir::read_zip(&data, limits) {
            Ok(files) => {
                send_ack(&mut transit, &json!({"ack": "ok", "sha256": sum})).await?;
                let files = files
                    .into_iter()
                    .map(|f| OutFile {
                        name: f.name,
                        bytes: f.data,
                        mode: f.mode,
                    })
                    .collect();
                Ok(Received::Files {
                    dir_name: name,
                    files,
                })
            }
            Err(why) => {
                let _ = send_ack(&mut transit, &nack(&why.0)).await;
                Err(TransferError::Hostile(why.0))
            }
        };
    }
}

async fn send_ack(transit: &mut transit::Transit, ack: &Value) -> Result<()> {
    let bytes = serde_json::to_vec(ack).expect("json");
    let r = within(Duration::from_secs(10), async {
        transit.send_record(&bytes).await?;
        transit.flush().await
    })
    .await;
    match r {
        None => Err(TransferError::Timeout("acknowledging the transfer")),
        Some(r) => r.map_err(transit_error),
    }
}

/// Reads records until exactly `size` bytes arrived; more is refused.
async fn receive_exact(transit: &mut transit::Transit, size: u64) -> Result<Zeroizing<Vec<u8>>> {
    let mut data = Zeroizing::new(Vec::with_capacity(size as usize));
    while (data.len() as u64) < size {
        let record = Zeroizing::new(
            transit
                .receive_record()
                .await
                .map_err(transit_error)?
                .into_vec(),
        );
        if data.len() as u64 + record.len() as u64 > size {
            return Err(TransferError::Hostile(format!(
                "the other side sent more than the {size} bytes it announced"
            )));
        }
        data.extend_from_slice(&record);
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        for bad in [
            "",
            "7",
            "7-",
            "x-foo-bar",
            "07-foo-bar",
            "7-foo",
            "7-foo--bar",
            "7 foo bar",
            "-foo-bar",
            "7-Foo-Bar",
            "7-foo-bar/",
        ] {
            assert!(
                matches!(check_code(bad), Err(TransferError::BadCode)),
                "{bad:?}"
            );
        }
        for good in [
            "7-guitarist-revenge",
            "123-aardvark-zulu",
            " 4-crumpled-python ",
        ] {
            check_code(good).unwrap_or_else(|e| panic!("{good}: {e}"));
        }
    }

    #[test]
    fn default_config() {
        let c = WormholeConfig::default();
        assert_eq!(c.mailbox_url, "ws://relay.magic-wormhole.io:4000/v1");
        assert_eq!(c.relay_url, "tcp://transit.magic-wormhole.io:4001");
        assert_eq!(c.timeout, Duration::from_secs(300));
        assert!(!c.direct);
    }

    #[test]
    fn messages_are_sentences_without_full_stop_and_hints_are_sentences() {
        let all = [
            TransferError::BadCode,
            TransferError::WrongCode,
            TransferError::MailboxUnreachable("x".into()),
            TransferError::PeerNeverCame,
            TransferError::Cut,
            TransferError::Timeout("waiting"),
            TransferError::Hostile("x".into()),
            TransferError::Other("x".into()),
        ];
        for e in all {
            let s = e.to_string();
            // One sentence without its full stop (the printer adds it), and a hint that is one.
            assert!(
                !s.ends_with('.') && s.chars().next().unwrap().is_uppercase(),
                "{s}"
            );
            assert!(e.hint().ends_with('.'), "{}", e.hint());
        }
    }
}
