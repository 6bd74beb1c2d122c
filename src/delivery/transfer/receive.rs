//! The receiving side, as a small state machine over the peer's mailbox messages: wait for
//! their transit hints (answer with ours) and their offer, check the offer ([`parse_offer`]),
//! accept it, read exactly the announced bytes over transit, unpack and check them, then
//! acknowledge with the checksum. Anything out of bounds is refused and told to the peer.

use std::time::Duration;

use magic_wormhole::{transit, transit::TransitRole, MailboxConnection, Wormhole};
use serde_json::json;
use zeroize::Zeroizing;

use super::code::check_code;
use super::config::{app_config, relay_hints};
use super::error::{peer_error, transit_error};
use super::offer::{parse_offer, Offer};
use super::wire::{
    close, connect_transit, error_reason, guarded_transfer, init_transit, parse_transit,
    reach_mailbox, recv_json, send_ack, send_json, sha256_hex, transit_key, transit_msg, within,
};
use super::{
    zipdir, OutFile, Received, Result, TransferError, WormholeConfig, MAX_ENTRIES, MAX_TOTAL_BYTES,
};

/// Receives whatever Python `wormhole send` or [`send_dir`](super::send_dir) sends: a directory
/// offer (zip, stored or deflated), a single file, or a text message. All names are checked
/// (plain names only), sizes and counts are capped before and during the transfer and
/// unpacking, symlinks and special files are refused.
pub async fn receive(cfg: &WormholeConfig, code: &str) -> Result<Received> {
    guarded_transfer(receive_with(cfg, code)).await
}

async fn receive_with(cfg: &WormholeConfig, code: &str) -> Result<Received> {
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

async fn receive_on(cfg: &WormholeConfig, wh: &mut Wormhole) -> Result<Received> {
    let mut connector = None;
    let mut their = None;
    // Waiting for their transit message and their offer, in any order.
    let (is_dir, name, size) = loop {
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
        match parse_offer(offer) {
            Err(why) => return Err(refuse(wh, why).await),
            Ok(Offer::Text(text)) => {
                send_json(wh, &json!({"answer": {"message_ack": "ok"}})).await?;
                return Ok(Received::Text(text));
            }
            Ok(Offer::File { name, size }) => break (false, name, size),
            Ok(Offer::Directory { name, zipsize }) => break (true, name, zipsize),
        }
    };
    let (Some(connector), Some(their)) = (connector, their) else {
        return Err(refuse(wh, "the offer came without transit hints".into()).await);
    };

    // Accepted: the bytes, over transit.
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
    match zipdir::read_zip(&data, limits) {
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
            let nack = json!({"ack": format!("error: {}", why.0), "sha256": sum});
            let _ = send_ack(&mut transit, &nack).await;
            Err(TransferError::Hostile(why.0))
        }
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
