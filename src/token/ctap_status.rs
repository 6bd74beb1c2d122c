//! The CTAP2 status byte (REFERENCE.md §5.5, CTAP 2.1 §8.2) as one type, with the names
//! libfido2 and CTAP 2.1 give the codes. The FIDO2 client reads it from a key's answers, the
//! virtual HID key (`vfido-hid/`) writes it into its own, and the tests of both compare it;
//! nothing else spells a status as a number or a name.

/// Writes the enum, its byte and its name from one table, so a code and its name are said once.
macro_rules! statuses {
    ($($(#[$doc:meta])* $variant:ident = $code:literal, $name:literal;)*) => {
        /// A CTAP2 status byte. Build it with `From<u8>`, which gives every named code its own
        /// variant; the data-carrying variants are the ranges and codes without a name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum CtapStatus {
            $($(#[$doc])* $variant,)*
            /// An extension-specific error (0xE0–0xEF).
            Extension(u8),
            /// A vendor-specific error (0xF0–0xFF).
            Vendor(u8),
            /// A code CTAP 2.1 does not define.
            Unknown(u8),
        }

        impl CtapStatus {
            /// The status byte.
            pub const fn code(self) -> u8 {
                match self {
                    $(CtapStatus::$variant => $code,)*
                    CtapStatus::Extension(c) | CtapStatus::Vendor(c) | CtapStatus::Unknown(c) => c,
                }
            }

            /// The libfido2 / CTAP 2.1 name (`PIN_INVALID`, `CTAP1_ERR_OTHER`, …).
            pub const fn name(self) -> &'static str {
                match self {
                    $(CtapStatus::$variant => $name,)*
                    CtapStatus::Extension(_) => "CTAP2_ERR_EXTENSION",
                    CtapStatus::Vendor(_) => "CTAP2_ERR_VENDOR",
                    CtapStatus::Unknown(_) => "UNKNOWN",
                }
            }
        }

        impl From<u8> for CtapStatus {
            fn from(code: u8) -> Self {
                match code {
                    $($code => CtapStatus::$variant,)*
                    0xE0..=0xEF => CtapStatus::Extension(code),
                    0xF0..=0xFF => CtapStatus::Vendor(code),
                    _ => CtapStatus::Unknown(code),
                }
            }
        }
    };
}

statuses! {
    /// Success.
    Ok = 0x00, "CTAP2_OK";
    /// Not a valid CTAP command.
    InvalidCommand = 0x01, "CTAP1_ERR_INVALID_COMMAND";
    /// A parameter has the wrong value.
    InvalidParameter = 0x02, "CTAP1_ERR_INVALID_PARAMETER";
    /// Invalid message or item length.
    InvalidLength = 0x03, "CTAP1_ERR_INVALID_LENGTH";
    /// Invalid message sequencing.
    InvalidSeq = 0x04, "CTAP1_ERR_INVALID_SEQ";
    /// The message timed out.
    Timeout = 0x05, "CTAP1_ERR_TIMEOUT";
    /// The channel is busy.
    ChannelBusy = 0x06, "CTAP1_ERR_CHANNEL_BUSY";
    /// The command needs a channel lock.
    LockRequired = 0x0A, "CTAP1_ERR_LOCK_REQUIRED";
    /// The command is not allowed on this channel.
    InvalidChannel = 0x0B, "CTAP1_ERR_INVALID_CHANNEL";
    /// A value of the wrong CBOR type.
    CborUnexpectedType = 0x11, "CBOR_UNEXPECTED_TYPE";
    /// The request is not valid CBOR.
    InvalidCbor = 0x12, "INVALID_CBOR";
    /// A required parameter is missing.
    MissingParameter = 0x14, "MISSING_PARAMETER";
    /// Too many items.
    LimitExceeded = 0x15, "LIMIT_EXCEEDED";
    /// An extension is not supported.
    UnsupportedExtension = 0x16, "UNSUPPORTED_EXTENSION";
    /// The fingerprint database is full.
    FpDatabaseFull = 0x17, "FP_DATABASE_FULL";
    /// Large-blob storage is full.
    LargeBlobStorageFull = 0x18, "LARGE_BLOB_STORAGE_FULL";
    /// A credential in the exclude list is on the key.
    CredentialExcluded = 0x19, "CREDENTIAL_EXCLUDED";
    /// A lengthy operation is in progress.
    Processing = 0x21, "PROCESSING";
    /// The credential is not valid for this authenticator.
    InvalidCredential = 0x22, "INVALID_CREDENTIAL";
    /// Waiting for the user.
    UserActionPending = 0x23, "USER_ACTION_PENDING";
    /// An operation is pending.
    OperationPending = 0x24, "OPERATION_PENDING";
    /// No request is pending.
    NoOperations = 0x25, "NO_OPERATIONS";
    /// No supported algorithm among those asked for.
    UnsupportedAlgorithm = 0x26, "UNSUPPORTED_ALGORITHM";
    /// The user declined (touch refused).
    OperationDenied = 0x27, "OPERATION_DENIED";
    /// No room for another resident credential.
    KeyStoreFull = 0x28, "KEY_STORE_FULL";
    /// Nothing to cancel.
    NotBusy = 0x29, "NOT_BUSY";
    /// No outstanding operation.
    NoOperationPending = 0x2A, "NO_OPERATION_PENDING";
    /// An option is not supported.
    UnsupportedOption = 0x2B, "UNSUPPORTED_OPTION";
    /// An option is not valid for this command.
    InvalidOption = 0x2C, "INVALID_OPTION";
    /// The pending request was cancelled (CTAPHID_CANCEL).
    KeepaliveCancel = 0x2D, "KEEPALIVE_CANCEL";
    /// No matching credential.
    NoCredentials = 0x2E, "NO_CREDENTIALS";
    /// Nobody touched the key in time.
    UserActionTimeout = 0x2F, "USER_ACTION_TIMEOUT";
    /// Not allowed now (a PIN already set, no enumeration in progress, …).
    NotAllowed = 0x30, "NOT_ALLOWED";
    /// Wrong PIN.
    PinInvalid = 0x31, "PIN_INVALID";
    /// The PIN's retries are used up.
    PinBlocked = 0x32, "PIN_BLOCKED";
    /// The pinUvAuthParam does not verify.
    PinAuthInvalid = 0x33, "PIN_AUTH_INVALID";
    /// Three wrong PINs in a row: blocked until the key is re-inserted.
    PinAuthBlocked = 0x34, "PIN_AUTH_BLOCKED";
    /// No PIN is set.
    PinNotSet = 0x35, "PIN_NOT_SET";
    /// A pinUvAuthToken is required (CTAP 2.0 calls it PIN_REQUIRED).
    PinRequired = 0x36, "PUAT_REQUIRED";
    /// The PIN breaks the PIN policy.
    PinPolicyViolation = 0x37, "PIN_POLICY_VIOLATION";
    /// The pinUvAuthToken expired.
    PinTokenExpired = 0x38, "PIN_TOKEN_EXPIRED";
    /// The request is too large.
    RequestTooLarge = 0x39, "REQUEST_TOO_LARGE";
    /// The operation timed out.
    ActionTimeout = 0x3A, "ACTION_TIMEOUT";
    /// User presence is required.
    UpRequired = 0x3B, "UP_REQUIRED";
    /// Built-in user verification is disabled.
    UvBlocked = 0x3C, "UV_BLOCKED";
    /// A checksum did not match.
    IntegrityFailure = 0x3D, "INTEGRITY_FAILURE";
    /// Unknown subcommand.
    InvalidSubcommand = 0x3E, "INVALID_SUBCOMMAND";
    /// Built-in user verification failed.
    UvInvalid = 0x3F, "UV_INVALID";
    /// A permission the authenticator does not grant.
    UnauthorizedPermission = 0x40, "UNAUTHORIZED_PERMISSION";
    /// Anything else.
    Other = 0x7F, "CTAP1_ERR_OTHER";
}

impl From<CtapStatus> for u8 {
    fn from(s: CtapStatus) -> u8 {
        s.code()
    }
}

impl std::fmt::Display for CtapStatus {
    /// `0x31 PIN_INVALID`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#04x} {}", self.code(), self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::CtapStatus;

    #[test]
    fn every_byte_round_trips_and_named_codes_have_their_own_variant() {
        for code in 0u8..=0xFF {
            let s = CtapStatus::from(code);
            assert_eq!(s.code(), code);
            assert_eq!(u8::from(s), code);
            let unnamed = matches!(
                s,
                CtapStatus::Extension(_) | CtapStatus::Vendor(_) | CtapStatus::Unknown(_)
            );
            assert_eq!(
                unnamed,
                s.name() == "UNKNOWN" || code >= 0xE0,
                "{code:#04x}"
            );
        }
        assert_eq!(CtapStatus::from(0x31), CtapStatus::PinInvalid);
        assert_eq!(CtapStatus::PinInvalid.name(), "PIN_INVALID");
        assert_eq!(CtapStatus::from(0x36).name(), "PUAT_REQUIRED");
        assert_eq!(CtapStatus::from(0xE3).name(), "CTAP2_ERR_EXTENSION");
        assert_eq!(CtapStatus::from(0x99), CtapStatus::Unknown(0x99));
        assert_eq!(
            CtapStatus::KeepaliveCancel.to_string(),
            "0x2d KEEPALIVE_CANCEL"
        );
    }

    #[test]
    fn names_are_distinct() {
        let mut names: Vec<&str> = (0u8..0xE0)
            .map(|c| CtapStatus::from(c).name())
            .filter(|n| *n != "UNKNOWN")
            .collect();
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n);
    }
}
