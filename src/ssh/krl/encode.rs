//! Writing a KRL: `ssh_krl_to_blob` of OpenSSH 9.2 byte for byte, serials as list, range or
//! bitmap subsections by its cost model (`choose_next_state`), except that a bitmap never exceeds
//! the 2048 bytes OpenSSH's reader takes.

use super::wire::{
    put_section, put_string, put_u32, put_u64, CERT_KEY_ID, CERT_SERIAL_BITMAP, CERT_SERIAL_LIST,
    CERT_SERIAL_RANGE, FORMAT_VERSION, MAGIC, MAX_BITMAP_BITS, SECTION_CERTIFICATES,
    SECTION_EXPLICIT_KEY, SECTION_FINGERPRINT_SHA1, SECTION_FINGERPRINT_SHA256,
};
use super::{CaRevocations, Krl};

impl Krl {
    /// Writes the KRL as `ssh_krl_to_blob` does: header, one certificates section per CA in
    /// first-seen order (serials as list/range/bitmap subsections by the bit-cost model, then key
    /// ids), then explicit keys, SHA-1 and SHA-256 sections, entries sorted by bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.entries * 9);
        out.extend_from_slice(MAGIC);
        put_u32(&mut out, FORMAT_VERSION);
        put_u64(&mut out, self.krl_version);
        put_u64(&mut out, self.generated_date);
        put_u64(&mut out, self.flags);
        put_string(&mut out, b"");
        put_string(&mut out, &self.comment);
        for rc in &self.certs {
            let body = encode_certs(rc);
            out.push(SECTION_CERTIFICATES);
            put_string(&mut out, &body);
        }
        let mut sect = Vec::new();
        for k in &self.keys {
            put_string(&mut sect, k);
        }
        put_section(&mut out, SECTION_EXPLICIT_KEY, &sect);
        sect.clear();
        for h in &self.sha1 {
            put_string(&mut sect, h);
        }
        put_section(&mut out, SECTION_FINGERPRINT_SHA1, &sect);
        sect.clear();
        for h in &self.sha256 {
            put_string(&mut sect, h);
        }
        put_section(&mut out, SECTION_FINGERPRINT_SHA256, &sect);
        out
    }
}

/// `revoked_certs_generate`: CA header, serial subsections, key-id subsection.
fn encode_certs(rc: &CaRevocations) -> Vec<u8> {
    let mut buf = Vec::new();
    put_string(&mut buf, rc.ca.as_deref().unwrap_or(b""));
    put_string(&mut buf, b"");
    let mut state = 0u8;
    let mut sect: Vec<u8> = Vec::new();
    let mut bitmap: Vec<(u64, u64)> = Vec::new(); // runs relative to bitmap_start
    let mut bitmap_start = 0u64;
    let mut last = 0u64;
    let ranges: Vec<(u64, u64)> = rc.serials.ranges().collect();
    for (i, &(lo, hi)) in ranges.iter().enumerate() {
        let next = ranges.get(i + 1);
        let final_ = next.is_none();
        let gap = next.map_or(0, |n| n.0 - hi);
        let contig = 1u64.saturating_add(hi - lo);
        let (next_state, mut force_new) = choose_next_state(
            state,
            contig,
            final_,
            if state == 0 { 0 } else { lo - last },
            gap,
        );
        // OpenSSH reads at most MAX_BITMAP_BITS bits: start a new bitmap rather than grow past.
        if next_state == CERT_SERIAL_BITMAP
            && state == CERT_SERIAL_BITMAP
            && !force_new
            && hi - bitmap_start >= MAX_BITMAP_BITS
        {
            force_new = true;
        }
        if state != 0 && (force_new || next_state != state || state == CERT_SERIAL_RANGE) {
            if state == CERT_SERIAL_BITMAP {
                put_bitmap(&mut sect, &bitmap);
                bitmap.clear();
            }
            buf.push(state);
            put_string(&mut buf, &sect);
            sect.clear();
        }
        if next_state != state || force_new {
            state = next_state;
            sect.clear();
            if state == CERT_SERIAL_BITMAP {
                bitmap_start = lo;
                put_u64(&mut sect, bitmap_start);
            }
        }
        match state {
            CERT_SERIAL_LIST => {
                let mut s = lo;
                loop {
                    put_u64(&mut sect, s);
                    if s == hi {
                        break;
                    }
                    s += 1;
                }
            }
            CERT_SERIAL_RANGE => {
                put_u64(&mut sect, lo);
                put_u64(&mut sect, hi);
            }
            _ => bitmap.push((lo - bitmap_start, hi - bitmap_start)),
        }
        last = hi;
    }
    if state != 0 {
        if state == CERT_SERIAL_BITMAP {
            put_bitmap(&mut sect, &bitmap);
        }
        buf.push(state);
        put_string(&mut buf, &sect);
    }
    sect.clear();
    for id in &rc.key_ids {
        put_string(&mut sect, id);
    }
    put_section(&mut buf, CERT_KEY_ID, &sect);
    buf
}

/// `choose_next_state` of `krl.c` (OpenSSH 9.2), byte for byte: the cheapest subsection type for
/// the next run of `contig` serials. Returns the state and whether to restart a bitmap.
fn choose_next_state(
    state: u8,
    contig: u64,
    final_: bool,
    last_gap: u64,
    next_gap: u64,
) -> (u8, bool) {
    let contig = contig.min(1 << 31);
    let last_gap = last_gap.min(1 << 31);
    let next_gap = next_gap.min(1 << 31);
    // Switching costs; a range subsection holds one range, so its cost does not depend on state.
    let mut cost_range = 8u64;
    let (mut cost_list, mut cost_bitmap, mut cost_bitmap_restart) = match state {
        CERT_SERIAL_LIST => (0, 8 + 64, 8 + 64),
        CERT_SERIAL_BITMAP => (8, 0, 8 + 64),
        _ => (8, 8 + 64, 8 + 64),
    };
    let not_final = if final_ { 0 } else { 8 + 64 };
    cost_list += 64 * contig + not_final;
    cost_range += 2 * 64 + not_final;
    cost_bitmap += last_gap + contig + if final_ { 0 } else { next_gap.min(8 + 64) };
    cost_bitmap_restart += contig + if final_ { 0 } else { next_gap.min(8 + 64) };
    let bytes = |bits: u64| bits.div_ceil(8);
    let (cost_list, cost_bitmap, cost_bitmap_restart, cost_range) = (
        bytes(cost_list),
        bytes(cost_bitmap),
        bytes(cost_bitmap_restart),
        bytes(cost_range),
    );
    let mut new_state = CERT_SERIAL_BITMAP;
    let mut cost = cost_bitmap;
    let mut restart = false;
    if cost_range < cost {
        new_state = CERT_SERIAL_RANGE;
        cost = cost_range;
    }
    if cost_list < cost {
        new_state = CERT_SERIAL_LIST;
        cost = cost_list;
    }
    if cost_bitmap_restart < cost {
        new_state = CERT_SERIAL_BITMAP;
        restart = true;
    }
    (new_state, restart)
}

/// `put_bitmap`: the bits as a minimal big-endian mpint (bit 0 = LSB of the last byte).
fn put_bitmap(out: &mut Vec<u8>, runs: &[(u64, u64)]) {
    let top = runs.last().map_or(0, |r| r.1);
    let nbytes = (top / 8 + 1) as usize;
    let mut bytes = vec![0u8; nbytes];
    for &(lo, hi) in runs {
        for bit in lo..=hi {
            bytes[nbytes - 1 - (bit / 8) as usize] |= 1 << (bit % 8);
        }
    }
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    let bytes = &bytes[start..];
    if bytes.first().is_some_and(|b| b & 0x80 != 0) {
        put_u32(out, bytes.len() as u32 + 1);
        out.push(0);
        out.extend_from_slice(bytes);
    } else {
        put_string(out, bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{ca_blob, serial_subsections};
    use super::super::wire::MAX_BITMAP_BYTES;
    use super::super::Revocation;
    use super::*;

    #[test]
    fn reference_example_is_one_bitmap_and_one_key_id_subsection() {
        // REFERENCE.md §8.1, checked against ssh-keygen 9.2: serial 42, 100-102, id bad-key.
        let ca = ca_blob();
        let mut k = Krl::new();
        k.revoke(Revocation::Serials {
            ca: Some(ca.as_slice().into()),
            lo: 42,
            hi: 42,
        })
        .unwrap();
        k.revoke(Revocation::Serials {
            ca: Some(ca.as_slice().into()),
            lo: 100,
            hi: 102,
        })
        .unwrap();
        k.revoke(Revocation::KeyId {
            ca: Some(ca.as_slice().into()),
            id: b"bad-key".to_vec(),
        })
        .unwrap();
        let subs = serial_subsections(&k.encode());
        assert_eq!(subs.len(), 2);
        assert_eq!(subs[0].0, CERT_SERIAL_BITMAP);
        let mut want = 42u64.to_be_bytes().to_vec();
        want.extend_from_slice(&[0, 0, 0, 8, 0x1c, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(subs[0].1, want);
        assert_eq!(subs[1], (CERT_KEY_ID, b"\0\0\0\x07bad-key".to_vec()));
    }

    #[test]
    fn a_long_dense_set_is_split_into_bitmaps_openssh_can_read() {
        let ca = ca_blob();
        let mut k = Krl::new();
        for i in 0..20_000u64 {
            k.revoke(Revocation::Serials {
                ca: Some(ca.as_slice().into()),
                lo: 1 + 2 * i,
                hi: 1 + 2 * i,
            })
            .unwrap();
        }
        let bytes = k.encode();
        for (t, body) in serial_subsections(&bytes) {
            assert_eq!(t, CERT_SERIAL_BITMAP);
            assert!(body.len() <= 8 + 4 + MAX_BITMAP_BYTES + 1, "{}", body.len());
        }
        let back = Krl::decode(&bytes).unwrap();
        assert_eq!(back, k);
    }
}
