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
    /// Transit relay, `tcp://HOST:PORT` or as Python writes it, `tcp:HOST:PORT`.
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
    let url = relay_url(&cfg.relay_url).map_err(TransferError::BadRelayUrl)?;
    let name = url.host_str().map(str::to_owned);
    RelayHint::from_urls(name, [url])
        .map(|h| vec![h])
        .map_err(|e| {
            TransferError::BadRelayUrl(format!("'{}' ({e})", display_safe(&cfg.relay_url)))
        })
}

/// A transit relay as either side writes it: `tcp://HOST:PORT` (ours), or Twisted's endpoint
/// syntax `tcp:HOST:PORT` that Python's `wormhole --transit-helper` and its docs use (an IPv6
/// address in brackets, `tcp:[::1]:4001`; a trailing `:priority=N` is accepted and ignored, as
/// we have one relay). `Err` says what is wrong, for [`TransferError::BadRelayUrl`].
pub(super) fn relay_url(text: &str) -> std::result::Result<url::Url, String> {
    let bad = |why: &str| format!("'{}' {why}", display_safe(text));
    let text = text.trim();
    let url = if let Some(rest) = text.strip_prefix("tcp://") {
        let url: url::Url = text
            .parse()
            .map_err(|e| bad(&format!("does not parse ({e})")))?;
        if !matches!(url.path(), "" | "/") || url.query().is_some() || rest.contains('@') {
            return Err(bad("has more than a host and a port"));
        }
        url
    } else if let Some(rest) = text.strip_prefix("tcp:") {
        // Twisted: HOST:PORT[:KEY=VALUE…], IPv6 in brackets.
        let (host, after) = match rest.strip_prefix('[') {
            Some(v6) => {
                let (addr, after) = v6
                    .split_once(']')
                    .ok_or_else(|| bad("has an unclosed '['"))?;
                if addr.parse::<std::net::Ipv6Addr>().is_err() {
                    return Err(bad("has an invalid IPv6 address"));
                }
                (
                    format!("[{addr}]"),
                    after.strip_prefix(':').unwrap_or(after),
                )
            }
            None => {
                let (host, after) = rest.split_once(':').ok_or_else(|| bad("has no port"))?;
                (host.to_string(), after)
            }
        };
        let mut pieces = after.split(':');
        let port = pieces.next().unwrap_or("");
        if pieces.any(|p| !p.starts_with("priority=")) {
            return Err(bad("has more than a host, a port and a priority"));
        }
        if host.is_empty() || host.contains(['/', '@', '?', '#']) {
            return Err(bad("has no valid host"));
        }
        if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("has no numeric port"));
        }
        format!("tcp://{host}:{port}")
            .parse()
            .map_err(|e| bad(&format!("does not parse ({e})")))?
    } else {
        return Err(bad("is not a TCP relay"));
    };
    match (url.host_str(), url.port()) {
        (Some(h), Some(p)) if !h.is_empty() && p != 0 => Ok(url),
        _ => Err(bad("needs a host and a port")),
    }
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

    #[test]
    fn relay_urls_in_both_spellings() {
        for (given, want) in [
            (
                "tcp://transit.magic-wormhole.io:4001",
                "tcp://transit.magic-wormhole.io:4001",
            ),
            (
                "tcp:transit.magic-wormhole.io:4001",
                "tcp://transit.magic-wormhole.io:4001",
            ),
            ("tcp:127.0.0.1:4001", "tcp://127.0.0.1:4001"),
            (" tcp:127.0.0.1:4001 ", "tcp://127.0.0.1:4001"),
            ("tcp:[::1]:4001", "tcp://[::1]:4001"),
            (
                "tcp:relay.example:4001:priority=2.0",
                "tcp://relay.example:4001",
            ),
            ("tcp://relay.example:4001/", "tcp://relay.example:4001"),
        ] {
            let url = relay_url(given).unwrap_or_else(|e| panic!("{given}: {e}"));
            let back = format!("tcp://{}:{}", url.host_str().unwrap(), url.port().unwrap());
            assert_eq!(back, want, "{given}");
        }
    }

    #[test]
    fn other_relay_urls_say_what_is_wrong() {
        for (given, why) in [
            ("http://relay.example:4001", "is not a TCP relay"),
            ("relay.example:4001", "is not a TCP relay"),
            ("udp:relay.example:4001", "is not a TCP relay"),
            ("tcp:relay.example", "has no port"),
            ("tcp:relay.example:", "has no numeric port"),
            ("tcp:relay.example:port", "has no numeric port"),
            ("tcp::4001", "has no valid host"),
            (
                "tcp:relay.example:4001:interface=0",
                "more than a host, a port and a priority",
            ),
            ("tcp:[::1:4001", "unclosed"),
            ("tcp:[nope]:4001", "invalid IPv6"),
            ("tcp:relay.example:99999", "does not parse"),
            ("tcp://relay.example", "needs a host and a port"),
            (
                "tcp://relay.example:4001/path",
                "more than a host and a port",
            ),
            (
                "tcp://user@relay.example:4001",
                "more than a host and a port",
            ),
            ("tcp:relay.example:0", "needs a host and a port"),
        ] {
            let err = relay_url(given).expect_err(given);
            assert!(err.contains(why), "{given}: {err}");
            assert!(err.starts_with(&format!("'{}'", given.trim())), "{err}");
        }
        let cfg = WormholeConfig {
            relay_url: "http://x:1".into(),
            ..WormholeConfig::default()
        };
        let e = relay_hints(&cfg).unwrap_err();
        assert_eq!(
            e.to_string(),
            "The transit relay 'http://x:1' is not a TCP relay"
        );
    }
}
