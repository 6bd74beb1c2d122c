//! The wormhole side of `request` / `approve`: a few small messages through the encrypted
//! mailbox of magic-wormhole, no transit connection. Our own app id keeps the exchange apart from
//! file transfers (a `wormhole receive` of a request code fails the key exchange instead of
//! misreading it). Every wait has the configured timeout; every message has a size cap.

use std::future::Future;
use std::time::Duration;

use magic_wormhole::{
    rendezvous::RendezvousError, AppConfig, AppID, Code, MailboxConnection, Wormhole, WormholeError,
};
use serde_json::json;

use crate::delivery::messages::{self, Message, MAX_MESSAGE_BYTES};
use crate::delivery::transfer::{display_safe, TransferError, WormholeConfig};

/// The app id of the request/approve exchange.
pub const REQUEST_APPID: &str = "breakglass.dev/request-v1";

type Result<T, E = TransferError> = std::result::Result<T, E>;

/// One open exchange with the other side.
pub struct Exchange {
    wh: Wormhole,
    timeout: Duration,
}

/// What came from the other side: a message, or bytes that are not one (with why).
pub type Incoming = std::result::Result<Message, messages::Invalid>;

async fn within<T>(limit: Duration, fut: impl Future<Output = T>) -> Option<T> {
    futures_lite::future::or(async { Some(fut.await) }, async {
        async_io::Timer::after(limit).await;
        None
    })
    .await
}

fn app_config(cfg: &WormholeConfig) -> AppConfig<serde_json::Value> {
    AppConfig {
        id: AppID::new(REQUEST_APPID),
        rendezvous_url: cfg.mailbox_url.clone().into(),
        app_version: json!({ "breakglass-request": messages::VERSION }),
    }
}

fn one_line(s: &str) -> String {
    s.chars()
        .take(300)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn mailbox_error(cfg: &WormholeConfig, e: WormholeError) -> TransferError {
    match e {
        WormholeError::ServerError(RendezvousError::Server(msg)) => {
            TransferError::Other(format!("the mailbox server said: {}", one_line(&msg)))
        }
        WormholeError::CodeInvalid(_) => TransferError::BadCode,
        WormholeError::UnclaimedNameplate(_) => TransferError::PeerNeverCame,
        e => TransferError::MailboxUnreachable(format!(
            "{} ({})",
            display_safe(&cfg.mailbox_url),
            one_line(&e.to_string())
        )),
    }
}

fn peer_error(e: WormholeError) -> TransferError {
    match e {
        WormholeError::PakeFailed => TransferError::WrongCode,
        WormholeError::Crypto => {
            TransferError::Hostile("a message from the other side failed to decrypt".into())
        }
        e => TransferError::Other(one_line(&e.to_string())),
    }
}

/// A code as people type it: a number, then at least two lower-case words, dash-separated.
fn check_code(code: &str) -> Result<Code> {
    let code = code.trim();
    let mut parts = code.split('-');
    let nameplate = parts.next().unwrap_or("");
    let words: Vec<&str> = parts.collect();
    let ok = (1..=9).contains(&nameplate.len())
        && nameplate.bytes().all(|b| b.is_ascii_digit())
        && !nameplate.starts_with('0')
        && words.len() >= 2
        && words.iter().all(|w| {
            (1..=32).contains(&w.len())
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    if !ok {
        return Err(TransferError::BadCode);
    }
    code.parse::<Code>().map_err(|_| TransferError::BadCode)
}

async fn reach<T>(
    cfg: &WormholeConfig,
    fut: impl Future<Output = std::result::Result<T, WormholeError>>,
) -> Result<T> {
    match within(cfg.timeout.min(Duration::from_secs(30)), fut).await {
        None => Err(TransferError::MailboxUnreachable(format!(
            "{} did not answer in time",
            display_safe(&cfg.mailbox_url)
        ))),
        Some(r) => r.map_err(|e| mailbox_error(cfg, e)),
    }
}

async fn meet(
    cfg: &WormholeConfig,
    mailbox: MailboxConnection<serde_json::Value>,
) -> Result<Exchange> {
    match within(cfg.timeout, Wormhole::connect(mailbox)).await {
        None => Err(TransferError::PeerNeverCame),
        Some(r) => Ok(Exchange {
            wh: r.map_err(peer_error)?,
            timeout: cfg.timeout,
        }),
    }
}

/// The requester's side: allocates a code (shown through `on_code` at once) and waits for the
/// approver to join with it.
pub async fn open(cfg: &WormholeConfig, on_code: impl FnOnce(&str)) -> Result<Exchange> {
    let mailbox = reach(cfg, MailboxConnection::create(app_config(cfg), 2)).await?;
    on_code(&mailbox.code().to_string());
    meet(cfg, mailbox).await
}

/// The approver's side: joins the exchange with the code the requester read out.
pub async fn join(cfg: &WormholeConfig, code: &str) -> Result<Exchange> {
    let code = check_code(code)?;
    let mailbox = reach(
        cfg,
        MailboxConnection::connect(app_config(cfg), code, false),
    )
    .await?;
    meet(cfg, mailbox).await
}

impl Exchange {
    /// Sends one message.
    pub async fn send(&mut self, m: &Message) -> Result<()> {
        let bytes = m.to_bytes();
        match within(self.timeout, self.wh.send(bytes)).await {
            None => Err(TransferError::Timeout("sending to the other side")),
            Some(r) => r.map_err(peer_error),
        }
    }

    /// Waits (at most `limit`, never longer than the configured timeout) for the next message.
    /// The outer error is the wormhole's; the inner says why the bytes are not a message.
    pub async fn receive(
        &mut self,
        limit: Duration,
        waiting_for: &'static str,
    ) -> Result<Incoming> {
        use futures_lite::FutureExt;
        // The crate panics (`todo!`) on a mailbox message with a non-numeric phase.
        let got = within(
            limit.min(self.timeout),
            std::panic::AssertUnwindSafe(self.wh.receive()).catch_unwind(),
        )
        .await
        .ok_or(TransferError::Timeout(waiting_for))?
        .map_err(|_| {
            TransferError::Hostile("the other side sent a malformed mailbox message".into())
        })?
        .map_err(peer_error)?;
        if got.len() > MAX_MESSAGE_BYTES {
            return Ok(Err(messages::Invalid(format!(
                "the message is {} bytes, more than the {MAX_MESSAGE_BYTES} allowed",
                got.len()
            ))));
        }
        Ok(messages::parse(&got))
    }

    /// Test support: sends arbitrary bytes, as a hostile or broken peer would. Not part of the
    /// supported API.
    #[doc(hidden)]
    pub async fn send_raw(&mut self, bytes: Vec<u8>) -> Result<()> {
        self.wh.send(bytes).await.map_err(peer_error)
    }

    /// The configured timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Tells the other side the exchange broke (best effort, a short wait).
    pub async fn send_error(&mut self, why: &str) {
        let m = Message::Error(why.chars().take(messages::MAX_REASON / 4).collect());
        let _ = within(Duration::from_secs(3), self.wh.send(m.to_bytes())).await;
    }

    /// Closes the mailbox (best effort, a short wait).
    pub async fn close(self) {
        let _ = within(Duration::from_secs(3), self.wh.close()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        for bad in ["", "7", "7-foo", "x-a-b", "07-a-b", "7-A-b", "7-a--b"] {
            assert!(
                matches!(check_code(bad), Err(TransferError::BadCode)),
                "{bad:?}"
            );
        }
        check_code("7-guitarist-revenge").unwrap();
    }
}
