//! RFC 4251 `string` and `uint32`, the encoding of OpenSSH's `ssh-sk-attest-v01` file
//! (`PROTOCOL.u2f`) and of breakglass's own `CA.attest` container, with the reason a read failed.

use super::error::AttestError;

/// Reads RFC 4251 fields from a byte slice; every failure names the field it was reading.
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Starts reading `data` from its first byte.
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    /// A big-endian `uint32`.
    pub(crate) fn u32(&mut self, what: &'static str) -> Result<u32, AttestError> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A `string`: `uint32` length, then that many bytes.
    pub(crate) fn string(&mut self, what: &'static str) -> Result<&'a [u8], AttestError> {
        let len = self.u32(what)? as usize;
        self.take(len, what)
    }

    /// Succeeds only if nothing follows `what`, the last field read.
    pub(crate) fn finish(self, what: &'static str) -> Result<(), AttestError> {
        match self.data.len() - self.pos {
            0 => Ok(()),
            extra => Err(AttestError::TrailingBytes { what, extra }),
        }
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], AttestError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.data.len())
            .ok_or(AttestError::Truncated { what })?;
        let out = &self.data[self.pos..end];
        self.pos = end;
        Ok(out)
    }
}

/// Appends a `string`. Every field breakglass writes is far below 4 GiB.
pub(crate) fn put_string(out: &mut Vec<u8>, s: &[u8]) {
    put_u32(out, s.len() as u32);
    out.extend_from_slice(s);
}

/// Appends a big-endian `uint32`.
pub(crate) fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_it_writes_and_names_the_short_field() {
        let mut b = Vec::new();
        put_string(&mut b, b"abc");
        put_u32(&mut b, 7);
        let mut r = Reader::new(&b);
        assert_eq!(r.string("s").unwrap(), b"abc");
        assert_eq!(r.u32("n").unwrap(), 7);
        r.finish("n").unwrap();

        let mut r = Reader::new(&b[..5]);
        assert!(matches!(
            r.string("the name"),
            Err(AttestError::Truncated { what: "the name" })
        ));
        let mut r = Reader::new(&[0xff, 0xff, 0xff, 0xff, 0]);
        assert!(matches!(
            r.string("huge"),
            Err(AttestError::Truncated { .. })
        ));
        let mut r = Reader::new(&b);
        r.string("s").unwrap();
        assert!(matches!(
            r.finish("s"),
            Err(AttestError::TrailingBytes { extra: 4, .. })
        ));
    }
}
