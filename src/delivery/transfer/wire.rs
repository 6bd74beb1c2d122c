//! The plumbing both sides share: timeouts, JSON messages over the encrypted mailbox, the
//! transit connection through our relay, and its key.

use std::{future::Future, sync::Arc, time::Duration};

use magic_wormhole::{
    transit::{self, Abilities, Hints, TransitKey, TransitRole},
    Wormhole,
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::config::{abilities, connect_limit, relay_hints, WormholeConfig};
use super::error::{chain, mailbox_error, peer_error, transit_error};
use super::{display_safe, Result, TransferError, APPID};

/// Plaintext bytes per transit record, as Python sends them.
pub(super) const RECORD_SIZE: usize = 16 * 1024;

/// Runs `fut` for at most `limit`.
pub(super) async fn within<T>(limit: Duration, fut: impl Future<Output = T>) -> Option<T> {
    futures_lite::future::or(async { Some(fut.await) }, async {
        async_io::Timer::after(limit).await;
        None
    })
    .await
}

/// Connects to the mailbox server within the connect limit, mapping both failure kinds.
pub(super) async fn reach_mailbox<T, E>(
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
pub(super) fn error_reason(msg: &Value) -> Option<String> {
    msg.get("error").map(|e| {
        e.as_str()
            .map(display_safe)
            .unwrap_or_else(|| "no reason given".into())
    })
}

/// Receives the next peer message as JSON. The crate panics (`todo!`) on a
/// message with a non-numeric phase; we turn that into a refusal.
pub(super) async fn recv_json(wh: &mut Wormhole) -> Result<Value> {
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

/// Sends one JSON message to the peer.
pub(super) async fn send_json(wh: &mut Wormhole, v: &Value) -> Result<()> {
    wh.send_json(v).await.map_err(peer_error)
}

/// Our `{"transit": …}` message: abilities and hints.
pub(super) fn transit_msg(connector: &transit::TransitConnector) -> Value {
    json!({"transit": {
        "abilities-v1": connector.our_abilities(),
        "hints-v1": &**connector.our_hints(),
    }})
}

/// Their transit message. With `direct == false` we keep only their
/// abilities: we dial no address they give us, only our own relay (which
/// they dial too, as Python and the Rust crate both do).
pub(super) fn parse_transit(cfg: &WormholeConfig, v: &Value) -> Result<(Abilities, Hints)> {
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

/// The transit key: Python always derives it with the file-transfer app id (its "BUG339").
pub(super) fn transit_key(wh: &Wormhole) -> magic_wormhole::Key<TransitKey> {
    wh.key()
        .derive_subkey_from_purpose::<TransitKey>(&format!("{APPID}/transit-key"))
}

/// Prepares our side of the transit connection (relay only unless `direct`).
pub(super) async fn init_transit(cfg: &WormholeConfig) -> Result<transit::TransitConnector> {
    let relays = relay_hints(cfg)?;
    transit::init(abilities(cfg), None, relays)
        .await
        .map_err(|e| {
            TransferError::Other(format!("could not prepare the transit connection ({e})"))
        })
}

/// Connects through the relay (or directly), within at most 90 s.
pub(super) async fn connect_transit(
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

/// Closes the mailbox, waiting at most 3 s for the server.
pub(super) async fn close(wh: Wormhole) {
    let _ = within(Duration::from_secs(3), wh.close()).await;
}

/// The checksum both sides put in the transit acknowledgement.
pub(super) fn sha256_hex(data: &[u8]) -> String {
    crate::hex::encode(&Sha256::digest(data))
}

/// Sends the one record that acknowledges (or refuses) the payload, within 10 s.
pub(super) async fn send_ack(transit: &mut transit::Transit, ack: &Value) -> Result<()> {
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
