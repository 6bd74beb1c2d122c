//! The sending side: a directory offer (a zip that keeps file modes), its payload over transit,
//! and the receiver's checksum acknowledgement.

use std::time::Duration;

use magic_wormhole::{transit, transit::TransitRole, MailboxConnection, Wormhole};
use serde_json::{json, Value};

use super::config::app_config;
use super::error::{peer_error, transit_error};
use super::wire::{
    close, connect_transit, error_reason, guarded_transfer, init_transit, parse_transit,
    reach_mailbox, recv_json, send_json, sha256_hex, transit_key, transit_msg, within, RECORD_SIZE,
};
use super::{
    display_safe, zipdir, OutFile, Result, TransferError, WormholeConfig, MAX_ENTRIES,
    MAX_TOTAL_BYTES,
};

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
    guarded_transfer(send_offer(cfg, offer, &zip, None, on_code)).await
}

/// Offers one file (Python's `{"file": …}` offer, which `wormhole receive` saves under `name`),
/// e.g. a certificate going back to a colleague with only Python's tools.
pub async fn send_file(
    cfg: &WormholeConfig,
    name: &str,
    bytes: &[u8],
    on_code: impl FnOnce(&str),
) -> Result<String> {
    let offer = serde_json::json!({"file": {"filename": name, "filesize": bytes.len()}});
    guarded_transfer(send_offer(cfg, offer, bytes, None, on_code)).await
}

/// Test support: sends an arbitrary offer and payload, as a hostile or broken
/// peer would. With `cut_after = Some(n)`, vanishes (no close, no ack wait)
/// after sending `n` payload bytes. Only with the `test-support` feature.
#[cfg(feature = "test-support")]
pub async fn send_raw_offer(
    cfg: &WormholeConfig,
    offer: Value,
    payload: &[u8],
    cut_after: Option<usize>,
    on_code: impl FnOnce(&str),
) -> Result<String> {
    guarded_transfer(send_offer(cfg, offer, payload, cut_after, on_code)).await
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
