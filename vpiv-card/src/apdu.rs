//! Command and response APDUs (ISO 7816-4) as the card sees them: typed instructions, typed
//! status words, and the short/extended length forms.
//!
//! Names and codes follow yubikey.rs `src/apdu.rs` (`Ins`, `StatusWords`) and Yubico's PIV APDU
//! pages; REFERENCE.md §13 lists which of them `yubikey` 0.9.0-rc.0 sends. Nothing outside this
//! file spells a status word as a number.

use zeroize::Zeroizing;

/// The PIV instructions this card knows (INS byte); anything else is [`Ins::Other`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ins {
    /// `A4` SELECT (the PIV application).
    SelectApplication,
    /// `20` VERIFY (the PIN).
    Verify,
    /// `47` GENERATE ASYMMETRIC KEY PAIR.
    GenerateAsymmetric,
    /// `87` GENERAL AUTHENTICATE (management key, or a signature with a slot's key).
    Authenticate,
    /// `CB` GET DATA (a data object).
    GetData,
    /// `FD` GET VERSION (Yubico).
    GetVersion,
    /// `F8` GET SERIAL (Yubico).
    GetSerial,
    /// `F7` GET METADATA (Yubico, firmware 5.3 and later).
    GetMetadata,
    /// `F9` ATTEST (Yubico, firmware 4.3 and later): a certificate for a slot's key, signed by
    /// the device's attestation (f9) key.
    Attest,
    /// `C0` GET RESPONSE: the next piece of an answer announced with `61 xx`.
    GetResponse,
    /// Any other instruction byte.
    Other(u8),
}

impl From<u8> for Ins {
    fn from(code: u8) -> Self {
        match code {
            0xA4 => Ins::SelectApplication,
            0x20 => Ins::Verify,
            0x47 => Ins::GenerateAsymmetric,
            0x87 => Ins::Authenticate,
            0xCB => Ins::GetData,
            0xFD => Ins::GetVersion,
            0xF8 => Ins::GetSerial,
            0xF7 => Ins::GetMetadata,
            0xF9 => Ins::Attest,
            0xC0 => Ins::GetResponse,
            other => Ins::Other(other),
        }
    }
}

impl From<Ins> for u8 {
    fn from(ins: Ins) -> u8 {
        match ins {
            Ins::SelectApplication => 0xA4,
            Ins::Verify => 0x20,
            Ins::GenerateAsymmetric => 0x47,
            Ins::Authenticate => 0x87,
            Ins::GetData => 0xCB,
            Ins::GetVersion => 0xFD,
            Ins::GetSerial => 0xF8,
            Ins::GetMetadata => 0xF7,
            Ins::Attest => 0xF9,
            Ins::GetResponse => 0xC0,
            Ins::Other(code) => code,
        }
    }
}

/// SW1 SW2 of a response. `From<u16>` gives every value a variant (unknown ones as
/// [`StatusWord::Other`]) and `u16::from` gives it back unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusWord {
    /// `90 00`: done.
    Success,
    /// `61 xx`: done, and `xx` more bytes wait for GET RESPONSE (`00` = 256 or more).
    BytesRemaining {
        /// SW2: how many bytes the next GET RESPONSE returns.
        len: u8,
    },
    /// `63 Cx`: wrong PIN, or the status query of VERIFY when not verified; `x` tries left.
    /// Built with more than 15 tries, it says 15 (the nibble's maximum).
    VerifyFail {
        /// PIN tries left.
        tries: u8,
    },
    /// `67 00`: the APDU's length fields do not match its size.
    WrongLength,
    /// `68 84`: command chaining is not supported.
    ChainingUnsupported,
    /// `69 85`: conditions of use not satisfied (GET RESPONSE with nothing pending).
    ConditionsNotSatisfied,
    /// `69 82`: security status not satisfied (no PIN, no management key, or no touch).
    SecurityStatus,
    /// `69 83`: authentication method blocked (PIN tries used up).
    AuthBlocked,
    /// `6A 80`: incorrect data in the command.
    IncorrectData,
    /// `6A 82`: data object or application not found.
    NotFound,
    /// `6A 88`: referenced data (slot, key reference) not found.
    ReferenceNotFound,
    /// `6B 00`: wrong P1 or P2 (Yubico: incorrect slot).
    WrongP1P2,
    /// `6D 00`: instruction not supported.
    InsNotSupported,
    /// `6E 00`: class not supported.
    ClaNotSupported,
    /// `6F 00`: no precise diagnosis (the card itself failed, e.g. no randomness).
    NoPreciseDiagnosis,
    /// Any other status word.
    Other(u16),
}

impl From<u16> for StatusWord {
    fn from(sw: u16) -> Self {
        match sw {
            0x9000 => StatusWord::Success,
            sw if sw & 0xFF00 == 0x6100 => StatusWord::BytesRemaining {
                len: (sw & 0x00FF) as u8,
            },
            sw if sw & 0xFFF0 == 0x63C0 => StatusWord::VerifyFail {
                tries: (sw & 0x000F) as u8,
            },
            0x6700 => StatusWord::WrongLength,
            0x6884 => StatusWord::ChainingUnsupported,
            0x6985 => StatusWord::ConditionsNotSatisfied,
            0x6982 => StatusWord::SecurityStatus,
            0x6983 => StatusWord::AuthBlocked,
            0x6A80 => StatusWord::IncorrectData,
            0x6A82 => StatusWord::NotFound,
            0x6A88 => StatusWord::ReferenceNotFound,
            0x6B00 => StatusWord::WrongP1P2,
            0x6D00 => StatusWord::InsNotSupported,
            0x6E00 => StatusWord::ClaNotSupported,
            0x6F00 => StatusWord::NoPreciseDiagnosis,
            other => StatusWord::Other(other),
        }
    }
}

impl From<StatusWord> for u16 {
    fn from(sw: StatusWord) -> u16 {
        match sw {
            StatusWord::Success => 0x9000,
            StatusWord::BytesRemaining { len } => 0x6100 | u16::from(len),
            StatusWord::VerifyFail { tries } => 0x63C0 | u16::from(tries.min(15)),
            StatusWord::WrongLength => 0x6700,
            StatusWord::ChainingUnsupported => 0x6884,
            StatusWord::ConditionsNotSatisfied => 0x6985,
            StatusWord::SecurityStatus => 0x6982,
            StatusWord::AuthBlocked => 0x6983,
            StatusWord::IncorrectData => 0x6A80,
            StatusWord::NotFound => 0x6A82,
            StatusWord::ReferenceNotFound => 0x6A88,
            StatusWord::WrongP1P2 => 0x6B00,
            StatusWord::InsNotSupported => 0x6D00,
            StatusWord::ClaNotSupported => 0x6E00,
            StatusWord::NoPreciseDiagnosis => 0x6F00,
            StatusWord::Other(sw) => sw,
        }
    }
}

impl StatusWord {
    /// The status word at the end of a response APDU (`None` when it is shorter than two bytes).
    pub fn of_response(response: &[u8]) -> Option<StatusWord> {
        match response {
            [.., sw1, sw2] => Some(u16::from_be_bytes([*sw1, *sw2]).into()),
            _ => None,
        }
    }
}

/// A parsed command APDU; `data` borrows from the bytes it was parsed from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Command<'a> {
    /// Class byte (`00` plain; bit `10` asks for chaining).
    pub cla: u8,
    /// Instruction.
    pub ins: Ins,
    /// First parameter.
    pub p1: u8,
    /// Second parameter (for PIV mostly the slot or key reference).
    pub p2: u8,
    /// Command data (empty when there is no Lc).
    pub data: &'a [u8],
}

impl<'a> Command<'a> {
    /// Parses short and extended APDUs (ISO 7816-4 §5.1); Le is accepted and ignored. A lone
    /// fifth byte is read as Le, i.e. no data (`yubikey` always sends Lc). Malformed lengths
    /// answer [`StatusWord::WrongLength`].
    pub fn parse(a: &'a [u8]) -> Result<Command<'a>, StatusWord> {
        let [cla, ins, p1, p2, body @ ..] = a else {
            return Err(StatusWord::WrongLength);
        };
        let data: &[u8] = match body {
            [] | [_] => &[],
            // Short: Lc data [Le].
            [lc, rest @ ..] if *lc != 0 => {
                let lc = usize::from(*lc);
                if rest.len() == lc || rest.len() == lc + 1 {
                    &rest[..lc]
                } else {
                    return Err(StatusWord::WrongLength);
                }
            }
            // Extended: 00 Le1 Le2 alone, or 00 Lc1 Lc2 data [Le1 Le2].
            [0, _, _] => &[],
            [0, lc1, lc2, rest @ ..] => {
                let lc = usize::from(u16::from_be_bytes([*lc1, *lc2]));
                if lc > 0 && (rest.len() == lc || rest.len() == lc + 2) {
                    &rest[..lc]
                } else {
                    return Err(StatusWord::WrongLength);
                }
            }
            _ => return Err(StatusWord::WrongLength),
        };
        Ok(Command {
            cla: *cla,
            ins: Ins::from(*ins),
            p1: *p1,
            p2: *p2,
            data,
        })
    }
}

/// A response APDU before it is put on the wire: data, then the status word. Its `Debug` shows
/// the data's length only, since the data may be a key.
#[derive(Clone, PartialEq, Eq)]
pub struct Response {
    /// Response data (may hold a secret, e.g. the PIN-protected management key).
    pub data: Vec<u8>,
    /// The status word.
    pub status: StatusWord,
}

impl Response {
    /// `data` with `90 00`.
    pub fn ok(data: Vec<u8>) -> Self {
        Response {
            data,
            status: StatusWord::Success,
        }
    }

    /// The bytes on the wire: data ‖ SW1 SW2. The data buffer is wiped, not just dropped.
    pub fn into_bytes(self) -> Vec<u8> {
        let data = Zeroizing::new(self.data);
        let mut out = Vec::with_capacity(data.len() + 2);
        out.extend_from_slice(&data);
        out.extend_from_slice(&u16::from(self.status).to_be_bytes());
        out
    }
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("data_len", &self.data.len())
            .field("status", &self.status)
            .finish()
    }
}

impl From<StatusWord> for Response {
    /// A response with no data.
    fn from(status: StatusWord) -> Self {
        Response {
            data: Vec::new(),
            status,
        }
    }
}
