//! Where and how to talk: the mailbox and relay URLs, timeouts, relay-only or direct.

use std::time::Duration;

use magic_wormhole::{
    transit::{Abilities, RelayHint},
    AppConfig, AppID,
};
use serde_json::{json, Value};

use super::{display_safe, Result, TransferError, APPID};

/// Public mailbox server (same default as the Python CLI).
pub const DEFAULT_MAILBOX_URL: &str = "ws://relay.magic-wormhole.io:4000/v1";
/// Public transit relay (same default as the Python CLI).
pub const DEFAULT_RELAY_URL: &str = "tcp://transit.magic-wormhole.io:4001";

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

/// How long connecting to a server may take.
pub(super) fn connect_limit(cfg: &WormholeConfig) -> Duration {
    cfg.timeout.min(Duration::from_secs(30))
}

/// The mailbox client configuration: our app id, Python's empty app versions.
pub(super) fn app_config(cfg: &WormholeConfig) -> AppConfig<Value> {
    AppConfig {
        id: AppID::new(APPID),
        rendezvous_url: cfg.mailbox_url.clone().into(),
        // Python's file transfer sends empty app versions.
        app_version: json!({}),
    }
}

/// The one relay we use (and offer to the peer).
pub(super) fn relay_hints(cfg: &WormholeConfig) -> Result<Vec<RelayHint>> {
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

/// Relay only, unless direct connections are allowed.
pub(super) fn abilities(cfg: &WormholeConfig) -> Abilities {
    if cfg.direct {
        Abilities::ALL
    } else {
        Abilities::FORCE_RELAY
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config() {
        let c = WormholeConfig::default();
        assert_eq!(c.mailbox_url, "ws://relay.magic-wormhole.io:4000/v1");
        assert_eq!(c.relay_url, "tcp://transit.magic-wormhole.io:4001");
        assert_eq!(c.timeout, Duration::from_secs(300));
        assert!(!c.direct);
    }
}
