//! Classifier and device-selection tests. The error strings are the exact shapes
//! `ctap-hid-fido2` 3.6.1 produces: `ctaphid.rs` formats a failed status as
//! `format!("response_status err = {}", ctapdef::get_ctap_status_message(status))`, and
//! `get_ctap_status_message` is the table below (copied verbatim from `ctapdef.rs`; codes it
//! has no text for come out as `format!("0x{:X}", status)`, e.g. `0x7`, `0xE1`).

use crate::diagnostic::Diagnostic;
use std::time::Duration;

use ctap_hid_fido2::fidokey::credential_management::credential_management_params::{
    Credential, CredentialProtectionPolicy,
};
use ctap_hid_fido2::fidokey::get_assertion::get_assertion_params::Assertion as CrateAssertion;
use ctap_hid_fido2::public_key::PublicKeyType;

use super::answers::{assertion_from, cose_of, cred_protect_level, cred_protect_policy};
use super::classify::STATUS_PREFIX;
use super::*;
use crate::ssh::sk;
use crate::token::CtapStatus;

/// Every status code of REFERENCE.md §5.5 with the crate's `get_ctap_status_message` text.
const CRATE_STATUS: &[(u8, &str)] = &[
    (0x00, "0x00 CTAP1_ERR_SUCCESS Indicates successful response."),
    (0x14, "0x14 CTAP2_ERR_MISSING_PARAMETER Missing non - optional parameter."),
    (0x19, "0x19 CTAP2_ERR_CREDENTIAL_EXCLUDED   Valid credential found in the exclude list."),
    (0x26, "0x26 CTAP2_ERR_UNSUPPORTED_ALGORITHM Authenticator does not support requested algorithm."),
    (0x27, "0x27 CTAP2_ERR_OPERATION_DENIED  Not authorized for requested operation."),
    (0x28, "0x28 CTAP2_ERR_KEY_STORE_FULL    Internal key storage is full."),
    (0x2B, "0x2B CTAP2_ERR_UNSUPPORTED_OPTION Unsupported option."),
    (0x2C, "0x2C CTAP2_ERR_INVALID_OPTION Not a valid option for current operation."),
    (0x2E, "0x2E CTAP2_ERR_NO_CREDENTIALS    No valid credentials provided."),
    (0x2F, "0x2F CTAP2_ERR_USER_ACTION_TIMEOUT   Timeout waiting for user interaction."),
    (0x30, "0x30 CTAP2_ERR_NOT_ALLOWED   Continuation command, such as, authenticatorGetNextAssertion not allowed."),
    (0x31, "0x31 CTAP2_ERR_PIN_INVALID   PIN Invalid."),
    (0x32, "0x32 CTAP2_ERR_PIN_BLOCKED PIN Blocked."),
    (0x33, "0x33 CTAP2_ERR_PIN_AUTH_INVALID PIN authentication, pinAuth, verification failed."),
    (0x34, "0x34 CTAP2_ERR_PIN_AUTH_BLOCKED PIN authentication, pinAuth, blocked.Requires power recycle to reset."),
    (0x35, "0x35 CTAP2_ERR_PIN_NOT_SET No PIN has been set."),
    (0x36, "0x36 CTAP2_ERR_PIN_REQUIRED  PIN is required for the selected operation."),
    (0x37, "0x37 CTAP2_ERR_PIN_POLICY_VIOLATION  PIN policy violation.Currently only enforces minimum length."),
    (0x3A, "0x3A CTAP2_ERR_ACTION_TIMEOUT The current operation has timed out."),
    (0x3B, "0x3B CTAP2_ERR_UP_REQUIRED User presence is required for the requested operation."),
    (0x3C, "0x3C CTAP2_ERR_UV_BLOCKED built-in user verification is disabled."),
    (0x3F, "0x3F CTAP2_ERR_UV_INVALID built-in user verification unsuccessful. The platform should retry."),
    (0x01, "0x01 CTAP1_ERR_INVALID_COMMAND The command is not a valid CTAP command."),
    (0x02, "0x02 CTAP1_ERR_INVALID_PARAMETER The command included an invalid parameter."),
    (0x03, "0x03 CTAP1_ERR_INVALID_LENGTH Invalid message or item length."),
    (0x04, "0x04 CTAP1_ERR_INVALID_SEQ Invalid message sequencing."),
    (0x05, "0x05 CTAP1_ERR_TIMEOUT Message timed out."),
    (0x06, "0x06 CTAP1_ERR_CHANNEL_BUSY Channel busy."),
    (0x07, "0x7"),
    (0x08, "0x8"),
    (0x09, "0x9"),
    (0x0A, "0x0A CTAP1_ERR_LOCK_REQUIRED Command requires channel lock."),
    (0x0B, "0x0B CTAP1_ERR_INVALID_CHANNEL Command not allowed on this cid."),
    (0x7F, "0x7F CTAP1_ERR_OTHER Other unspecified error."),
    (0x11, "0x11 CTAP2_ERR_CBOR_UNEXPECTED_TYPE Invalid/ unexpected CBOR error."),
    (0x12, "0x12 CTAP2_ERR_INVALID_CBOR Error when parsing CBOR."),
    (0x15, "0x15 CTAP2_ERR_LIMIT_EXCEEDED Limit for number of items exceeded."),
    (0x16, "0x16 CTAP2_ERR_UNSUPPORTED_EXTENSION Unsupported extension."),
    (0x17, "0x17 CTAP2_ERR_FP_DATABASE_FULL Fingerprint data base is full, e.g., during enrollment."),
    (0x18, "0x18 CTAP2_ERR_LARGE_BLOB_STORAGE_FULL Large blob storage is full."),
    (0x21, "0x21 CTAP2_ERR_PROCESSING    Processing(Lengthy operation is in progress)."),
    (0x22, "0x22 CTAP2_ERR_INVALID_CREDENTIAL    Credential not valid for the authenticator."),
    (0x23, "0x23 CTAP2_ERR_USER_ACTION_PENDING   Authentication is waiting for user interaction."),
    (0x24, "0x24 CTAP2_ERR_OPERATION_PENDING Processing, lengthy operation is in progress."),
    (0x25, "0x25 CTAP2_ERR_NO_OPERATIONS No request is pending."),
    (0x29, "0x29 CTAP2_ERR_NOT_BUSY  Authenticator cannot cancel as it is not busy."),
    (0x2A, "0x2A CTAP2_ERR_NO_OPERATION_PENDING No outstanding operations."),
    (0x2D, "0x2D CTAP2_ERR_KEEPALIVE_CANCEL  Pending keep alive was cancelled."),
    (0x38, "0x38 CTAP2_ERR_PIN_TOKEN_EXPIRED pinToken expired on authenticator."),
    (0x39, "0x39 CTAP2_ERR_REQUEST_TOO_LARGE Authenticator cannot handle this request due to memory constraints."),
    (0x3D, "0x3D CTAP2_ERR_INTEGRITY_FAILURE A checksum did not match."),
    (0x3E, "0x3E CTAP2_ERR_INVALID_SUBCOMMAND The requested subcommand is either invalid or not implemented."),
    (0x40, "0x40 CTAP2_ERR_UNAUTHORIZED_PERMISSION The permissions parameter contains an unauthorized permission."),
    (0xE0, "0xE0 CTAP2_ERR_EXTENSION_FIRST Extension specific error."),
    (0xE1, "0xE1"),
    (0xE2, "0xE2"),
    (0xE3, "0xE3"),
    (0xE4, "0xE4"),
    (0xE5, "0xE5"),
    (0xE6, "0xE6"),
    (0xE7, "0xE7"),
    (0xE8, "0xE8"),
    (0xE9, "0xE9"),
    (0xEA, "0xEA"),
    (0xEB, "0xEB"),
    (0xEC, "0xEC"),
    (0xED, "0xED"),
    (0xEE, "0xEE"),
    (0xEF, "0xEF CTAP2_ERR_EXTENSION_LAST Extension specific error."),
    (0xF0, "0xF0 CTAP2_ERR_VENDOR_FIRST Vendor specific error."),
    (0xF1, "0xF1"),
    (0xF2, "0xF2"),
    (0xF3, "0xF3"),
    (0xF4, "0xF4"),
    (0xF5, "0xF5"),
    (0xF6, "0xF6"),
    (0xF7, "0xF7"),
    (0xF8, "0xF8"),
    (0xF9, "0xF9"),
    (0xFA, "0xFA"),
    (0xFB, "0xFB"),
    (0xFC, "0xFC"),
    (0xFD, "0xFD"),
    (0xFE, "0xFE"),
    (0xFF, "0xFF CTAP2_ERR_VENDOR_LAST   Vendor specific error."),
];

fn crate_error(msg: &str) -> String {
    format!("{STATUS_PREFIX}{msg}")
}

const FAST: Duration = Duration::from_millis(30);
const SLOW: Duration = Duration::from_secs(51);

#[test]
fn every_reference_status_code_in_the_crates_shape() {
    for &(code, msg) in CRATE_STATUS {
        let s = crate_error(msg);
        let got = classify(&s, Some(3));
        if code == 0x00 {
            assert!(matches!(got, TokenError::BadAnswer(_)), "{s}: {got:?}");
            continue;
        }
        assert_eq!(status_in(&s), Some(CtapStatus::from(code)), "{s}");
        assert_eq!(got, TokenError::from_ctap(code, Some(3)), "{s}");
        assert_eq!(got.ctap_status(), Some(CtapStatus::from(code)), "{s}");
        assert_eq!(classify_after(&s, Some(3), FAST), got, "{s}");
        // anyhow's `{:#}` with context in front keeps the shape.
        let wrapped = format!("getAssertion: {s}");
        assert_eq!(classify(&wrapped, Some(3)), got, "{wrapped}");
    }
}

#[test]
fn the_bold_codes_get_their_own_variants() {
    let c = |code: u8| {
        let msg = CRATE_STATUS.iter().find(|(k, _)| *k == code).unwrap().1;
        crate_error(msg)
    };
    assert_eq!(classify(&c(0x27), None), TokenError::OperationDenied);
    assert_eq!(classify(&c(0x28), None), TokenError::KeyStoreFull);
    assert_eq!(classify(&c(0x2E), None), TokenError::NoCredentials);
    assert_eq!(classify(&c(0x2F), None), TokenError::UserActionTimeout);
    assert_eq!(
        classify(&c(0x31), Some(5)),
        TokenError::PinInvalid { tries_left: 5 }
    );
    assert_eq!(
        classify(&c(0x31), None),
        TokenError::PinInvalid { tries_left: 0 }
    );
    assert_eq!(classify(&c(0x32), None), TokenError::PinBlocked);
    assert_eq!(
        classify(&c(0x34), None),
        TokenError::PinAuthBlocked { simulated: false }
    );
    assert_eq!(classify(&c(0x35), None), TokenError::PinNotSet);
    assert_eq!(classify(&c(0x36), None), TokenError::PinRequired);
    assert_eq!(classify(&c(0x37), None), TokenError::PinPolicy);
    assert_eq!(
        classify(&c(0x06), None),
        TokenError::Ctap(CtapStatus::ChannelBusy)
    );
    assert_eq!(
        classify(&c(0x7F), None),
        TokenError::Ctap(CtapStatus::Other)
    );
    // Unnamed codes come as "0x7" / "0xE1".
    assert_eq!(
        classify(&crate_error("0x7"), None).ctap_status(),
        Some(CtapStatus::Unknown(0x07))
    );
    assert_eq!(
        classify(&crate_error("0xE1"), None),
        TokenError::Ctap(CtapStatus::Extension(0xE1))
    );
}

#[test]
fn names_without_the_prefix_still_map() {
    assert_eq!(
        classify("0x31 CTAP2_ERR_PIN_INVALID   PIN Invalid.", Some(7)),
        TokenError::PinInvalid { tries_left: 7 }
    );
    assert_eq!(
        classify("device said CTAP2_ERR_PIN_INVALID", Some(2)),
        TokenError::PinInvalid { tries_left: 2 }
    );
    assert_eq!(
        classify("CTAP2_ERR_PIN_REQUIRED", None),
        TokenError::PinRequired
    );
    assert_eq!(
        classify("CTAP2_ERR_PUAT_REQUIRED", None),
        TokenError::PinRequired
    );
    assert_eq!(
        classify("CTAP2_ERR_KEY_STORE_FULL", None),
        TokenError::KeyStoreFull
    );
    assert_eq!(
        classify("CTAP1_ERR_OTHER", None).ctap_status(),
        Some(CtapStatus::Other)
    );
    assert_eq!(
        classify("CTAP1_ERR_CHANNEL_BUSY", None).ctap_status(),
        Some(CtapStatus::ChannelBusy)
    );
    for code in 0u8..0xE0 {
        let name = CtapStatus::from(code).name();
        if name == "UNKNOWN" || name == "CTAP2_OK" {
            continue;
        }
        let spelled = if name.starts_with("CTAP1_ERR_") {
            name.to_string()
        } else {
            format!("CTAP2_ERR_{name}")
        };
        assert_eq!(
            status_for_name(&spelled),
            Some(CtapStatus::from(code)),
            "{spelled}"
        );
    }
}

#[test]
fn keepalive_exhaustion_is_a_touch_timeout() {
    // After 500 CTAPHID_KEEPALIVE packets the crate reports the keep-alive status byte
    // (2 = up-needed, 1 = processing) through the same formatter as a CTAP status.
    let up_needed =
        crate_error("0x02 CTAP1_ERR_INVALID_PARAMETER The command included an invalid parameter.");
    let processing =
        crate_error("0x01 CTAP1_ERR_INVALID_COMMAND The command is not a valid CTAP command.");
    for s in [&up_needed, &processing] {
        assert!(is_keepalive_exhaustion(s, SLOW));
        assert_eq!(classify_after(s, None, SLOW), TokenError::UserActionTimeout);
        // The same text at once is a genuine CTAP1 error.
        assert!(!is_keepalive_exhaustion(s, FAST));
        assert!(matches!(
            classify_after(s, None, FAST),
            TokenError::Ctap(CtapStatus::InvalidCommand | CtapStatus::InvalidParameter)
        ));
    }
    // Other codes after a long wait keep their meaning.
    let pin = crate_error("0x31 CTAP2_ERR_PIN_INVALID   PIN Invalid.");
    assert_eq!(
        classify_after(&pin, Some(4), SLOW),
        TokenError::PinInvalid { tries_left: 4 }
    );
    let timeout =
        crate_error("0x2F CTAP2_ERR_USER_ACTION_TIMEOUT   Timeout waiting for user interaction.");
    assert_eq!(
        classify_after(&timeout, None, SLOW),
        TokenError::UserActionTimeout
    );
    // A name-only string is not the crate's keep-alive shape.
    assert!(!is_keepalive_exhaustion(
        "CTAP1_ERR_INVALID_PARAMETER",
        SLOW
    ));
}

#[test]
fn device_not_found_and_transport_errors() {
    for s in [
        "FIDO device not found.",
        "Failed to open device.",
        // read failure: the crate formats status 0xfe, which it has no text for.
        "read err = 0xFE",
        "write error",
        "read error",
    ] {
        let e = classify(s, None);
        assert_eq!(e.kind(), "no-device", "{s}: {e:?}");
        assert_eq!(e.ctap_status(), None, "{s}");
    }
    assert_eq!(
        classify("Multiple FIDO devices found.", None).kind(),
        "no-device"
    );
}

#[test]
fn garbage_is_a_bad_answer() {
    let long = "x".repeat(10_000);
    for s in [
        "",
        "ciborium parse error",
        "ciborium parse error: Value is not a Map",
        "Cast Error: Value is not Bytes.",
        "Nonce verification failed",
        "u2f response size error?",
        "response size error",
        "response_status err = 0x",
        "response_status err = 0x123",
        "response_status err = zz",
        "response_status err = 0x00 CTAP1_ERR_SUCCESS Indicates successful response.",
        "0x31",
        "0x31CTAP2_ERR",
        "CTAP2_ERR_NO_SUCH_THING",
        "\u{1b}[31mCTAP\u{7}",
        long.as_str(),
    ] {
        match classify(s, Some(1)) {
            TokenError::BadAnswer(t) => {
                assert!(t.chars().count() <= 201, "unbounded: {}", t.len());
                assert!(!t.chars().any(|c| c.is_control()), "{t:?}");
            }
            other => panic!("{s:?} -> {other:?}"),
        }
    }
    assert_eq!(classify("pin not set", None), TokenError::PinPolicy);
}

#[test]
fn no_device_here_is_clean() {
    // This machine has no /dev/hidraw: enumeration is empty (or NoDevice), never a panic.
    match list_devices() {
        Ok(devs) => {
            if devs.is_empty() {
                let e = open(None).unwrap_err();
                assert_eq!(e.kind(), "no-device");
                assert!(
                    matches!(e, TokenError::NoDevice { ref backend, .. } if backend == "FIDO2")
                );
                assert!(e.hint().contains("Insert"));
                let e = open(Some("/dev/hidraw99")).unwrap_err();
                assert_eq!(e.kind(), "no-device");
            }
        }
        Err(e) => assert_eq!(e.kind(), "no-device"),
    }
}

fn dev(path: &str, product: &str, serial: Option<&str>) -> Fido2DeviceInfo {
    Fido2DeviceInfo {
        path: path.into(),
        product: product.into(),
        serial: serial.map(Into::into),
        vid: 0x1050,
        pid: 0x0407,
    }
}

#[test]
fn device_selection() {
    let a = dev("/dev/hidraw1", "YubiKey OTP+FIDO+CCID", Some("12345678"));
    let b = dev("/dev/hidraw4", "YubiKey OTP+FIDO+CCID", None);
    let c = dev("/dev/hidraw7", "Nitrokey 3", None);
    assert_eq!(select_device(&[], None).unwrap_err().kind(), "no-device");
    assert_eq!(select_device(std::slice::from_ref(&a), None).unwrap(), a);
    let two = [a.clone(), b.clone(), c.clone()];
    let e = select_device(&two, None).unwrap_err();
    let hint = e.hint();
    assert!(e.to_string().contains("single FIDO2"), "{e}");
    assert!(
        hint.contains("/dev/hidraw1") && hint.contains("/dev/hidraw4"),
        "{hint}"
    );
    assert!(hint.contains("--device"), "{hint}");
    assert_eq!(select_device(&two, Some("/dev/hidraw4")).unwrap(), b);
    assert_eq!(select_device(&two, Some("12345678")).unwrap(), a);
    assert_eq!(select_device(&two, Some("nitrokey 3")).unwrap(), c);
    let e = select_device(&two, Some("YubiKey OTP+FIDO+CCID")).unwrap_err();
    assert!(e.hint().contains("Pass the HID path"));
    let e = select_device(&two, Some("/dev/hidraw9")).unwrap_err();
    assert!(e.hint().contains("No connected FIDO2 key matches"));
    assert!(select_device(&two, Some("")).is_err());
    assert_eq!(a.label(), "YubiKey OTP+FIDO+CCID (FIDO2, serial 12345678)");
    assert_eq!(b.label(), "YubiKey OTP+FIDO+CCID (FIDO2, /dev/hidraw4)");
    assert_eq!(
        dev("/dev/hidraw2", " ", None).label(),
        "FIDO2 key (FIDO2, /dev/hidraw2)"
    );
}

#[test]
fn serial_from_the_crates_info_line() {
    // hid/mod.rs: "product=… usage_page=… usage=… [serial_number=…] path=\"…\""
    let with = "product=YubiKey OTP+FIDO+CCID usage_page=61904 usage=1 serial_number=0012345 path=\"/dev/hidraw3\"";
    assert_eq!(serial_from_info(with).as_deref(), Some("0012345"));
    let without = "product=YubiKey OTP+FIDO+CCID usage_page=61904 usage=1 path=\"/dev/hidraw3\"";
    assert_eq!(serial_from_info(without), None);
    let empty = "product=X usage_page=61904 usage=1 serial_number= path=\"/dev/hidraw3\"";
    assert_eq!(serial_from_info(empty), None);
}

#[test]
fn keep_alive_message_is_off_and_would_go_to_stderr() {
    let cfg = quiet_cfg();
    assert!(!cfg.enable_keep_alive_msg);
    assert!(cfg.keep_alive_msg.is_empty());
    assert!(cfg.keep_alive_msg_to_stderr);
    assert!(!cfg.enable_log);
    // Guard nests and restores without panicking.
    {
        let _a = StdoutToStderr::new();
        let _b = StdoutToStderr::default();
    }
}

#[test]
fn attestation_key_is_found_in_a_certificate() {
    let point = {
        let sk = p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap();
        let ep = sk.verifying_key().to_sec1_point(false);
        let mut p = [0u8; 65];
        p.copy_from_slice(ep.as_bytes());
        p
    };
    let mut cert = vec![0x30, 0x82, 0x01, 0x00, 0xa0, 0x03, 0x02, 0x01, 0x02];
    cert.extend_from_slice(&[
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08,
        0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
    ]);
    cert.extend_from_slice(&point);
    cert.extend_from_slice(&[0x30, 0x0a, 0x06, 0x08]);
    assert_eq!(p256_point_in_cert(&cert), Some(point));
    assert_eq!(p256_point_in_cert(&cert[..cert.len() - 40]), None);
    assert_eq!(p256_point_in_cert(&[0x30, 0x00]), None);
}

#[test]
fn listed_keys_become_cose() {
    use ctap_hid_fido2::public_key::PublicKey;
    let sk = p256::ecdsa::SigningKey::from_slice(&[9u8; 32]).unwrap();
    let point = sk.verifying_key().to_sec1_point(false).as_bytes().to_vec();
    let mut c = Credential {
        public_key: PublicKey::with_der(&point, PublicKeyType::Ecdsa256),
        ..Default::default()
    };
    let cose = cose_of(&c).unwrap();
    let (p, used) = sk::cose_es256_to_point(&cose).unwrap();
    assert_eq!(p.as_slice(), point.as_slice());
    assert_eq!(used, cose.len());
    c.public_key = PublicKey::with_der(&[5u8; 32], PublicKeyType::Ed25519);
    let cose = cose_of(&c).unwrap();
    assert_eq!(cose.len(), 42);
    assert!(sk::cose_es256_to_point(&cose).is_err());
    c.public_key = PublicKey::with_der(&[4u8; 10], PublicKeyType::Ecdsa256);
    assert!(matches!(cose_of(&c), Err(TokenError::BadAnswer(_))));
    assert_eq!(cred_protect_level(CredentialProtectionPolicy::Unknown), 1);
    for l in 1..=3u8 {
        assert_eq!(cred_protect_level(cred_protect_policy(l).unwrap()), l);
    }
    assert!(cred_protect_policy(0).is_none());
}

#[test]
fn assertion_answers_are_checked() {
    let good = CrateAssertion {
        auth_data: vec![0; 37],
        signature: vec![0x30, 0x06],
        ..Default::default()
    };
    let id = vec![1u8, 2, 3];
    // Omitted credential with a one-element allow list: that one.
    let a = assertion_from(good.clone(), std::slice::from_ref(&id)).unwrap();
    assert_eq!(a.credential_id, id);
    // Omitted with no allow list: cannot tell.
    assert!(assertion_from(good.clone(), &[]).is_err());
    // A credential that was not asked for.
    let mut other = good.clone();
    other.credential_id = vec![9];
    assert!(assertion_from(other, std::slice::from_ref(&id)).is_err());
    // Empty authData.
    let mut empty = good;
    empty.auth_data.clear();
    assert!(assertion_from(empty, std::slice::from_ref(&id)).is_err());
}

/// Answers of a device as ctap-hid-fido2 reassembles them (its `read_response`, patched out of
/// `ctaphid_cbormsg` for fuzz/fuzz_targets/ctaphid_client.rs): 64-byte reports in, no panic.
fn reassemble(command: u8, reports: &[Vec<u8>]) -> Result<Vec<u8>, String> {
    let mut it = reports.iter().cloned();
    let mut read = || it.next().ok_or_else(|| anyhow::anyhow!("no more reports"));
    ctap_hid_fido2::ctaphid_read_response(command, false, &mut read, &mut |_| {})
        .map_err(|e| e.to_string())
}

fn report(cid: u32, cmd: u8, bcnt: u16, data: &[u8]) -> Vec<u8> {
    let mut r = cid.to_be_bytes().to_vec();
    r.push(cmd);
    r.extend_from_slice(&bcnt.to_be_bytes());
    r.extend_from_slice(data);
    r.resize(64, 0);
    r
}

#[test]
fn ctaphid_answers_reassemble_and_odd_ones_are_errors_not_panics() {
    const CBOR: u8 = 0x90;
    let c = 0x0100_0000;
    // One packet; a keep-alive first; two packets.
    assert_eq!(
        reassemble(CBOR, &[report(c, CBOR, 3, &[0, 0xa1, 1])]),
        Ok(vec![0xa1, 1])
    );
    assert_eq!(
        reassemble(
            CBOR,
            &[report(c, 0xbb, 1, &[2]), report(c, CBOR, 2, &[0, 7])]
        ),
        Ok(vec![7])
    );
    let body: Vec<u8> = (0..100).collect();
    let mut cont = c.to_be_bytes().to_vec();
    cont.push(0);
    cont.extend_from_slice(&body[56..]);
    cont.resize(64, 0);
    let mut first = vec![0u8];
    first.extend_from_slice(&body);
    assert_eq!(
        reassemble(CBOR, &[report(c, CBOR, 101, &first[..57]), cont]),
        Ok(body.clone())
    );
    // A byte count larger than what follows.
    assert!(reassemble(CBOR, &[report(c, CBOR, 0xffff, &[0])]).is_err());
    // Found while writing the fuzz target: an answer that is neither CBOR nor a keep-alive,
    // with a zero status byte (an unknown command, CTAPHID_ERROR 0, a keep-alive that never
    // ends), indexed an empty first packet and panicked.
    for cmd in [0xbf, 0x81, 0x00] {
        let got = reassemble(CBOR, &[report(c, cmd, 1, &[0])]);
        assert!(got.is_err(), "{cmd:#x}: {got:?}");
    }
    let keepalives = vec![report(c, 0xbb, 1, &[0]); 500];
    assert!(reassemble(CBOR, &keepalives).is_err());
}
