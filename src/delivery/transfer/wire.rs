//! The plumbing both sides share: timeouts, JSON messages over the encrypted mailbox, the
//! transit connection through our relay, and its key.

use std::{
    cell::Cell,
    future::Future,
    panic::{self, AssertUnwindSafe},
    sync::{Arc, Once},
    task::Poll,
    time::Duration,
};

use magic_wormhole::{
    transit::{self, Abilities, Hints, TransitKey, TransitRole},
    Wormhole,
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::config::{abilities, connect_limit, relay_hints, WormholeConfig};
use super::error::{chain, display_safe_long, mailbox_error, peer_error, transit_error};
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
    let bytes = guarded(wh.receive())
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

/// Closes the mailbox, waiting at most 3 s for the server. Best effort: the crate panics when
/// the server connection already ended (`RendezvousServer::shutdown`, "TODO this should always
/// be Some"), which must not undo a transfer that succeeded or replace the error that ended it.
pub(super) async fn close(wh: Wormhole) {
    let _ = guarded(within(Duration::from_secs(3), wh.close())).await;
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

thread_local! {
    /// How many [`guarded`] polls are running on this thread: their panics are caught, so the
    /// panic hook stays quiet for them.
    static GUARDED: Cell<u32> = const { Cell::new(0) };
}

/// Installs (once) a panic hook that says nothing for panics [`guarded`] catches and hands
/// every other panic to the hook that was there before.
fn quiet_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if GUARDED.with(Cell::get) == 0 {
                previous(info);
            }
        }));
    });
}

/// Runs `fut`, which calls into the magic-wormhole crate, and turns a panic inside it into
/// `Err(message)`. The crate panics on some input from the peer or the server (a `todo` macro on a
/// non-numeric phase, `expect` on a websocket that ended, e.g. after a text message larger
/// than its frame limit); none of that may end the process before the caller wrote its audit
/// entry. Each poll runs under `catch_unwind`; after a panic the future is dropped, never
/// polled again.
pub(super) async fn guarded<T>(fut: impl Future<Output = T>) -> std::result::Result<T, String> {
    quiet_hook();
    let mut fut = Box::pin(fut);
    futures_lite::future::poll_fn(move |cx| {
        GUARDED.with(|g| g.set(g.get() + 1));
        let polled = panic::catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx)));
        GUARDED.with(|g| g.set(g.get() - 1));
        match polled {
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Err(panic_message(payload.as_ref()))),
        }
    })
    .await
}

/// The text of a panic, for an error message (cut short and made safe there).
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into())
}

/// [`guarded`] for a whole side of a transfer: a panic becomes [`TransferError::Crashed`].
pub(super) async fn guarded_transfer<T>(fut: impl Future<Output = Result<T>>) -> Result<T> {
    guarded(fut)
        .await
        .unwrap_or_else(|msg| Err(TransferError::Crashed(display_safe_long(&msg))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_inside_becomes_an_error_and_later_panics_still_unwind() {
        let r: std::result::Result<(), String> = async_io::block_on(guarded(async {
            panic!("TODO this should always be Some");
        }));
        assert_eq!(r, Err("TODO this should always be Some".to_string()));
        let r = async_io::block_on(guarded_transfer(async {
            let n: u32 = "x".parse().unwrap_or_else(|_| panic!("bad\nphase"));
            Ok(n)
        }));
        assert!(
            matches!(r, Err(TransferError::Crashed(ref m)) if m == "bad phase"),
            "{r:?}"
        );
        assert!(GUARDED.with(Cell::get) == 0);
        // Outside a guard, a panic is still a panic.
        assert!(panic::catch_unwind(|| panic!("outside")).is_err());
    }
}
