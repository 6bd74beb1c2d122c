//! The peer's `{"offer": …}` message, checked before anything is accepted: a text message, a
//! single file, or a zipped directory, each within our limits and with a plain name. A pure
//! function of the JSON, so it can be fuzzed (`fuzz/fuzz_targets/offer.rs`).

use serde_json::Value;

use super::{display_safe, zipdir, MAX_ENTRIES, MAX_TEXT_BYTES, MAX_TOTAL_BYTES, MAX_ZIP_BYTES};

/// An offer we are willing to accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Offer {
    /// `{"message": TEXT}`: the text, at most [`MAX_TEXT_BYTES`].
    Text(String),
    /// `{"file": {"filename", "filesize"}}`: `size` bytes follow over transit.
    File {
        /// A plain file name.
        name: String,
        /// Bytes announced, at most [`MAX_TOTAL_BYTES`].
        size: u64,
    },
    /// `{"directory": {"mode": "zipfile/…", "dirname", "zipsize", "numbytes", "numfiles"}}`:
    /// a zip of `zipsize` bytes follows over transit.
    Directory {
        /// A plain directory name.
        name: String,
        /// Bytes of zip announced, at most [`MAX_ZIP_BYTES`].
        zipsize: u64,
    },
}

fn get_u64(v: &Value, key: &str) -> Option<u64> {
    v.get(key).and_then(Value::as_u64)
}

/// Checks the value of an `"offer"` key. `Err` holds the reason we refuse it, to tell the peer
/// and the user (peer text in it is made safe with [`display_safe`]).
pub fn parse_offer(offer: &Value) -> Result<Offer, String> {
    if let Some(text) = offer.get("message") {
        let Some(text) = text.as_str() else {
            return Err("the text message is not a string".into());
        };
        if text.len() > MAX_TEXT_BYTES {
            return Err(format!(
                "the text message is longer than {MAX_TEXT_BYTES} bytes"
            ));
        }
        return Ok(Offer::Text(text.to_owned()));
    }
    let offer = if let Some(f) = offer.get("file") {
        let name = f
            .get("filename")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let Some(size) = get_u64(f, "filesize") else {
            return Err("the file offer has no size".into());
        };
        if size > MAX_TOTAL_BYTES {
            return Err(format!(
                "the file is {size} bytes, more than the {MAX_TOTAL_BYTES} allowed"
            ));
        }
        Offer::File { name, size }
    } else if let Some(d) = offer.get("directory") {
        let mode = d.get("mode").and_then(Value::as_str).unwrap_or("");
        if !mode.starts_with("zipfile") {
            return Err(format!("unknown directory mode '{}'", display_safe(mode)));
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
            return Err("the directory offer lacks its sizes".into());
        };
        if numfiles > MAX_ENTRIES as u64 {
            return Err(format!(
                "the directory has {numfiles} files, more than the {MAX_ENTRIES} allowed"
            ));
        }
        if numbytes > MAX_TOTAL_BYTES {
            return Err(format!(
                "the directory holds {numbytes} bytes, more than the {MAX_TOTAL_BYTES} allowed"
            ));
        }
        if zipsize > MAX_ZIP_BYTES {
            return Err(format!(
                "the archive is {zipsize} bytes, more than the {MAX_ZIP_BYTES} allowed"
            ));
        }
        Offer::Directory { name, zipsize }
    } else {
        return Err("unknown offer type".into());
    };
    match &offer {
        Offer::File { name, .. } | Offer::Directory { name, .. } => zipdir::check_plain_name(name)?,
        Offer::Text(_) => {}
    }
    Ok(offer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn offers_within_limits_are_taken_apart() {
        assert_eq!(
            parse_offer(&json!({"message": "hi"})),
            Ok(Offer::Text("hi".into()))
        );
        assert_eq!(
            parse_offer(&json!({"file": {"filename": "k", "filesize": 3}})),
            Ok(Offer::File {
                name: "k".into(),
                size: 3
            })
        );
        assert_eq!(
            parse_offer(
                &json!({"directory": {"mode": "zipfile/deflated", "dirname": "d",
                "zipsize": 9, "numbytes": 4, "numfiles": 1}})
            ),
            Ok(Offer::Directory {
                name: "d".into(),
                zipsize: 9
            })
        );
    }

    #[test]
    fn offers_past_a_limit_or_with_a_path_are_refused() {
        for (offer, why) in [
            (json!({"message": 5}), "the text message is not a string"),
            (
                json!({"file": {"filename": "k"}}),
                "the file offer has no size",
            ),
            (
                json!({"file": {"filename": "k", "filesize": -1}}),
                "the file offer has no size",
            ),
            (
                json!({"file": {"filename": "k", "filesize": MAX_TOTAL_BYTES + 1}}),
                "more than the 1048576 allowed",
            ),
            (
                json!({"directory": {"mode": "tar"}}),
                "unknown directory mode 'tar'",
            ),
            (
                json!({"directory": {"mode": "zipfile/deflated", "dirname": "d"}}),
                "lacks its sizes",
            ),
            (
                json!({"directory": {"mode": "zipfile/deflated", "dirname": "d",
                    "zipsize": 9, "numbytes": 4, "numfiles": 17}}),
                "17 files, more than the 16 allowed",
            ),
            (json!({"folder": {}}), "unknown offer type"),
            (
                json!({"file": {"filename": "../k", "filesize": 3}}),
                "'../k'",
            ),
        ] {
            let err = parse_offer(&offer).expect_err(&offer.to_string());
            assert!(err.contains(why), "{offer}: {err}");
        }
    }
}
