//! What can go wrong in a transfer, what to do about it, and how the crate's errors map onto
//! that. Text from the peer or the servers is cut to one line here; the binary sanitises it
//! once more where it is printed.

use magic_wormhole::{rendezvous::RendezvousError, transit, WormholeError};

use super::config::WormholeConfig;
use crate::diagnostic::{Diagnostic, FAILURE, USAGE};

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
    #[error("The transit relay {0}")]
    BadRelayUrl(String),
    #[error("The wormhole library failed on what the other side or the server sent ({0})")]
    Crashed(String),
}

/// The error and its sources, as one line.
pub(super) fn chain(e: &dyn std::error::Error) -> String {
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

/// At most 300 characters, control characters blanked: for server and crate messages.
pub(super) fn display_safe_long(s: &str) -> String {
    s.chars()
        .take(300)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Errors while connecting to the mailbox (before any peer is involved).
pub(super) fn mailbox_error(cfg: &WormholeConfig, e: WormholeError) -> TransferError {
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
pub(super) fn peer_error(e: WormholeError) -> TransferError {
    match &e {
        WormholeError::PakeFailed => TransferError::WrongCode,
        WormholeError::Crypto => {
            TransferError::Hostile("a message from the other side failed to decrypt".into())
        }
        WormholeError::ServerError(RendezvousError::IO(ws)) => match too_long(ws) {
            // The mailbox passes on what the peer sends; only the peer (or a hostile server)
            // sends a message larger than the websocket takes.
            Some((size, max)) => TransferError::Hostile(format!(
                "a message of {size} bytes came through the mailbox, more than the {max} allowed"
            )),
            None => TransferError::Other(format!(
                "the connection to the mailbox server broke ({})",
                chain(&e)
            )),
        },
        _ => TransferError::Other(chain(&e)),
    }
}

/// The size and the limit of a websocket message too large to be read, when that is `e`.
fn too_long(e: &tungstenite::Error) -> Option<(usize, usize)> {
    match e {
        tungstenite::Error::Capacity(tungstenite::error::CapacityError::MessageTooLong {
            size,
            max_size,
        }) => Some((*size, *max_size)),
        _ => None,
    }
}

/// Errors on the transit connection: a broken socket is a cut, anything else a corrupt record.
pub(super) fn transit_error(e: transit::TransitError) -> TransferError {
    match e {
        // The patched crate (vendor/magic-wormhole, BREAKGLASS-PATCH.md) refuses a record
        // longer than it would ever send with this kind, before allocating it.
        transit::TransitError::IO(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            TransferError::Hostile(display_safe_long(&e.to_string()))
        }
        transit::TransitError::IO(_) => TransferError::Cut,
        other => {
            TransferError::Hostile(format!("a transit record was corrupt ({})", chain(&other)))
        }
    }
}

impl Diagnostic for TransferError {
    /// Short machine-readable kind, for `--json` errors and the audit log.
    fn kind(&self) -> &'static str {
        match self {
            TransferError::BadCode => "bad-code",
            TransferError::WrongCode => "wrong-code",
            TransferError::MailboxUnreachable(_) => "mailbox-unreachable",
            TransferError::PeerNeverCame => "peer-never-came",
            TransferError::Cut => "transfer-cut",
            TransferError::Timeout(_) => "timeout",
            TransferError::Hostile(_) => "hostile-peer",
            TransferError::Other(_) => "transfer-failed",
            TransferError::BadRelayUrl(_) => "bad-relay-url",
            TransferError::Crashed(_) => "wormhole-crashed",
        }
    }

    /// What to do next, one sentence.
    fn hint(&self) -> String {
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
            TransferError::BadRelayUrl(_) => {
                "Write the relay as tcp:HOST:PORT or tcp://HOST:PORT (e.g. tcp:transit.magic-wormhole.io:4001) in --relay-url or BREAKGLASS_RELAY_URL.".into()
            }
            TransferError::Crashed(_) => {
                "Nothing was written: start a new transfer, and ask the other side what they sent (a message too large, or a peer that is not a wormhole client).".into()
            }
        }
    }

    /// [`USAGE`] for a code that is not a wormhole code (as typed on the command line);
    /// [`FAILURE`] for everything the network, the servers or the peer did.
    fn exit_code(&self) -> u8 {
        match self {
            TransferError::BadCode => USAGE,
            TransferError::WrongCode
            | TransferError::MailboxUnreachable(_)
            | TransferError::PeerNeverCame
            | TransferError::Cut
            | TransferError::Timeout(_)
            | TransferError::Hostile(_)
            | TransferError::Other(_)
            | TransferError::BadRelayUrl(_)
            | TransferError::Crashed(_) => FAILURE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            TransferError::BadRelayUrl("'x' is not a TCP relay".into()),
            TransferError::Crashed("x".into()),
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
