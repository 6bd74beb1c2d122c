//! AAGUID → model and firmware range, for FIDO2 attestations whose certificate has no firmware
//! extension (ATTESTATION.md §5: the YubiKey 5 at 5.1 has none).
//!
//! Yubico's table "YubiKey Hardware FIDO2 AAGUIDs" (<https://yubi.co/aaguids>), as mirrored in
//! `JMarkstrom/aaguids` `aaguids.csv` (commit 1e4c8190, 2025-11-08; 86 rows, 50 AAGUIDs). Rows
//! that share an AAGUID are merged: the models are listed together and the firmware range is
//! their union. A range is "5.1" = 5.1.0 up to (not including) 5.2.0, "5.2 / 5.4" = 5.2.0 up to
//! 5.5.0, and so on; an AAGUID not listed means "firmware unknown". The list is offline by
//! design (the FIDO Metadata Service needs the network); check it against Yubico's page when
//! updating.

use super::policy::FirmwareVersion;

/// What an AAGUID says about the authenticator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AaguidInfo {
    /// The model (or models sharing the AAGUID).
    pub model: &'static str,
    /// Firmware range `[from, below)`, when the table gives one.
    pub firmware: Option<(FirmwareVersion, FirmwareVersion)>,
}

/// The AAGUID of breakglass's simulated key (`token::sim::SIM_AAGUID`, vfido-hid): named as
/// SIMULATED, with no firmware of its own (its attestation certificate carries one).
pub const SIM_AAGUID: [u8; 16] = *b"breakglass-sim\x00\x01";

/// One row: AAGUID, model(s), firmware from (major, minor), firmware below (major, minor).
type Row = (&'static str, &'static str, (u8, u8), (u8, u8));

const fn e(aaguid: &'static str, model: &'static str, from: (u8, u8), below: (u8, u8)) -> Row {
    (aaguid, model, from, below)
}

const YUBICO: [Row; 50] = [
    e(
        "cb69481e-8ff7-4039-93ec-0a2729a154a8",
        "YubiKey 5, 5 Nano, 5C Nano or 5C",
        (5, 1),
        (5, 2),
    ),
    e(
        "ee882879-721c-4913-9775-3dfcce97072a",
        "YubiKey 5, 5 Nano, 5 Nano CSPN, 5C Nano, 5C Nano CSPN, 5C or 5C CSPN",
        (5, 2),
        (5, 5),
    ),
    e(
        "fa2b99dc-9e39-4257-8f92-4a30d23c4118",
        "YubiKey 5 NFC",
        (5, 1),
        (5, 2),
    ),
    e(
        "2fc0579f-8113-47ea-b116-bb5a8db9202a",
        "YubiKey 5 NFC, 5C NFC or 5C NFC CSPN",
        (5, 2),
        (5, 5),
    ),
    e(
        "a25342c0-3cdc-4414-8e46-f4807fca511c",
        "YubiKey 5 NFC or 5C NFC",
        (5, 7),
        (5, 8),
    ),
    e(
        "d7781e5d-e353-46aa-afe2-3ca49f13332a",
        "YubiKey 5 NFC or 5C NFC",
        (5, 7),
        (5, 8),
    ),
    e(
        "c1f9a0bc-1dd2-404a-b27f-8e29047a43fd",
        "YubiKey 5 NFC CSPN, 5 NFC FIPS or 5C NFC FIPS",
        (5, 4),
        (5, 5),
    ),
    e(
        "fcc0118f-cd45-435b-8da1-9782b2da0715",
        "YubiKey 5 NFC FIPS or 5C NFC FIPS",
        (5, 7),
        (5, 8),
    ),
    e(
        "79f3c8ba-9e35-484b-8f47-53a5a0f5c630",
        "YubiKey 5 NFC FIPS or 5C NFC FIPS",
        (5, 7),
        (5, 8),
    ),
    e(
        "1ac71f64-468d-4fe0-bef1-0e5f2f551f18",
        "YubiKey 5 NFC or 5C NFC",
        (5, 7),
        (5, 8),
    ),
    e(
        "6ab56fad-881f-4a43-acb2-0be065924522",
        "YubiKey 5 NFC, 5C NFC or Security Key NFC Enterprise Ed.",
        (5, 7),
        (5, 8),
    ),
    e(
        "662ef48a-95e2-4aaa-a6c1-5b9c40375824",
        "YubiKey 5 NFC EPIN or 5C NFC EPIN",
        (5, 7),
        (5, 8),
    ),
    e(
        "19083c3d-8383-4b18-bc03-8f1c9ab2fd1b",
        "YubiKey 5 Nano, 5C Nano or 5C",
        (5, 7),
        (5, 8),
    ),
    e(
        "ff4dac45-ede8-4ec2-aced-cf66103f4335",
        "YubiKey 5 Nano, 5C Nano or 5C",
        (5, 7),
        (5, 8),
    ),
    e(
        "73bb0cd4-e502-49b8-9c6f-b59445bf720b",
        "YubiKey 5 Nano FIPS, 5C Nano FIPS or 5C FIPS",
        (5, 4),
        (5, 5),
    ),
    e(
        "57f7de54-c807-4eab-b1c6-1c9be7984e92",
        "YubiKey 5 Nano FIPS, 5C Nano FIPS or 5C FIPS",
        (5, 7),
        (5, 8),
    ),
    e(
        "905b4cb4-ed6f-4da9-92fc-45e0d4e9b5c7",
        "YubiKey 5 Nano FIPS, 5C Nano FIPS or 5C FIPS",
        (5, 7),
        (5, 8),
    ),
    e(
        "20ac7a17-c814-4833-93fe-539f0d5e3389",
        "YubiKey 5 Nano, 5C Nano or 5C",
        (5, 7),
        (5, 8),
    ),
    e(
        "4599062e-6926-4fe7-9566-9e8fb1aedaa0",
        "YubiKey 5 Nano, 5C Nano or 5C",
        (5, 7),
        (5, 8),
    ),
    e(
        "c5ef55ff-ad9a-4b9f-b580-adebafe026d0",
        "YubiKey 5Ci or 5Ci CSPN",
        (5, 2),
        (5, 5),
    ),
    e(
        "a02167b9-ae71-4ac7-9a07-06432ebb6f1c",
        "YubiKey 5Ci",
        (5, 7),
        (5, 8),
    ),
    e(
        "24673149-6c86-42e7-98d9-433fb5b73296",
        "YubiKey 5Ci",
        (5, 7),
        (5, 8),
    ),
    e(
        "85203421-48f9-4355-9bc8-8a53846e5083",
        "YubiKey 5Ci FIPS",
        (5, 4),
        (5, 5),
    ),
    e(
        "7b96457d-e3cd-432b-9ceb-c9fdd7ef7432",
        "YubiKey 5Ci FIPS",
        (5, 7),
        (5, 8),
    ),
    e(
        "3a662962-c6d4-4023-bebb-98ae92e78e20",
        "YubiKey 5Ci FIPS",
        (5, 7),
        (5, 8),
    ),
    e(
        "b90e7dc1-316e-4fee-a25a-56a666a670fe",
        "YubiKey 5Ci",
        (5, 7),
        (5, 8),
    ),
    e(
        "3b24bf49-1d45-4484-a917-13175df0867b",
        "YubiKey 5Ci",
        (5, 7),
        (5, 8),
    ),
    e(
        "d8522d9f-575b-4866-88a9-ba99fa02f35b",
        "YubiKey Bio FIDO Ed.",
        (5, 5),
        (5, 7),
    ),
    e(
        "83c47309-aabb-4108-8470-8be838b573cb",
        "YubiKey Bio FIDO Ed.",
        (5, 6),
        (5, 7),
    ),
    e(
        "dd86a2da-86a0-4cbe-b462-4bd31f57bc6f",
        "YubiKey Bio FIDO Ed.",
        (5, 7),
        (5, 8),
    ),
    e(
        "7409272d-1ff9-4e10-9fc9-ac0019c124fd",
        "YubiKey Bio FIDO Ed.",
        (5, 7),
        (5, 8),
    ),
    e(
        "8c39ee86-7f9a-4a95-9ba3-f6b097e5c2ee",
        "YubiKey Bio FIDO Ed.",
        (5, 7),
        (5, 8),
    ),
    e(
        "ad08c78a-4e41-49b9-86a2-ac15b06899e2",
        "YubiKey Bio FIDO Ed.",
        (5, 7),
        (5, 8),
    ),
    e(
        "7d1351a6-e097-4852-b8bf-c9ac5c9ce4a3",
        "YubiKey Bio MPE",
        (5, 6),
        (5, 7),
    ),
    e(
        "90636e1f-ef82-43bf-bdcf-5255f139d12f",
        "YubiKey Bio MPE",
        (5, 7),
        (5, 8),
    ),
    e(
        "34744913-4f57-4e6e-a527-e9ec3c4b94e6",
        "YubiKey Bio MPE",
        (5, 7),
        (5, 8),
    ),
    e(
        "97e6a830-c952-4740-95fc-7c78dc97ce47",
        "YubiKey Bio MPE",
        (5, 7),
        (5, 8),
    ),
    e(
        "6ec5cff2-a0f9-4169-945b-f33b563f7b99",
        "YubiKey Bio MPE",
        (5, 7),
        (5, 8),
    ),
    e(
        "f8a011f3-8c0a-4d15-8006-17111f9edc7d",
        "Security Key",
        (5, 1),
        (5, 2),
    ),
    e(
        "b92c3f9a-c014-4056-887f-140a2501163b",
        "Security Key",
        (5, 2),
        (5, 5),
    ),
    e(
        "6d44ba9b-f6ec-2e49-b930-0c8fe920cb73",
        "Security Key NFC",
        (5, 1),
        (5, 2),
    ),
    e(
        "149a2021-8ef6-4133-96b8-81f8d5b7f1f5",
        "Security Key NFC",
        (5, 2),
        (5, 5),
    ),
    e(
        "a4e9fc6d-4cbe-4758-b8ba-37598bb5bbaa",
        "Security Key NFC",
        (5, 4),
        (5, 5),
    ),
    e(
        "e77e3c64-05e3-428b-8824-0cbeb04b829d",
        "Security Key NFC",
        (5, 7),
        (5, 8),
    ),
    e(
        "b7d3f68e-88a6-471e-9ecf-2df26d041ede",
        "Security Key NFC",
        (5, 7),
        (5, 8),
    ),
    e(
        "0bb43545-fd2c-4185-87dd-feb0b2916ace",
        "Security Key NFC Enterprise Ed.",
        (5, 4),
        (5, 5),
    ),
    e(
        "47ab2fb4-66ac-4184-9ae1-86be814012d5",
        "Security Key NFC Enterprise Ed.",
        (5, 7),
        (5, 8),
    ),
    e(
        "ed042a3a-4b22-4455-bb69-a267b652ae7e",
        "Security Key NFC Enterprise Ed.",
        (5, 7),
        (5, 8),
    ),
    e(
        "9ff4cc65-6154-4fff-ba09-9e2af7882ad2",
        "Security Key NFC Enterprise Ed.",
        (5, 7),
        (5, 8),
    ),
    e(
        "72c6b72d-8512-4c66-8359-9d3d10d9222f",
        "Security Key NFC Enterprise Ed.",
        (5, 7),
        (5, 8),
    ),
];

/// Looks up an AAGUID.
pub fn lookup(aaguid: &[u8; 16]) -> Option<AaguidInfo> {
    if *aaguid == SIM_AAGUID {
        return Some(AaguidInfo {
            model: "breakglass simulated key (SIMULATED)",
            firmware: None,
        });
    }
    let text = format_aaguid(aaguid);
    YUBICO
        .iter()
        .find(|(a, ..)| *a == text)
        .map(|&(_, model, from, below)| AaguidInfo {
            model,
            firmware: Some((
                FirmwareVersion::new(from.0, from.1, 0),
                FirmwareVersion::new(below.0, below.1, 0),
            )),
        })
}

/// The canonical 8-4-4-4-12 lowercase form.
pub fn format_aaguid(a: &[u8; 16]) -> String {
    let h = crate::hex::encode(a);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> [u8; 16] {
        let h: String = s.chars().filter(|c| *c != '-').collect();
        crate::hex::decode(&h).unwrap().try_into().unwrap()
    }

    #[test]
    fn the_table_is_well_formed_and_has_no_duplicates() {
        let mut seen = std::collections::HashSet::new();
        for (a, model, from, below) in YUBICO {
            assert_eq!(format_aaguid(&parse(a)), a, "{a} is not canonical");
            assert!(seen.insert(a), "{a} twice");
            assert!(from < below, "{a}");
            assert!(model.starts_with("YubiKey") || model.starts_with("Security Key"));
        }
    }

    #[test]
    fn attestation_md_examples_resolve() {
        // ATTESTATION.md §5's examples.
        let yk5 = lookup(&parse("cb69481e-8ff7-4039-93ec-0a2729a154a8")).unwrap();
        assert!(yk5.model.starts_with("YubiKey 5,"), "{}", yk5.model);
        assert_eq!(
            yk5.firmware,
            Some((FirmwareVersion::new(5, 1, 0), FirmwareVersion::new(5, 2, 0)))
        );
        let nfc57 = lookup(&parse("a25342c0-3cdc-4414-8e46-f4807fca511c")).unwrap();
        assert_eq!(nfc57.firmware.unwrap().0, FirmwareVersion::new(5, 7, 0));
        // The host-side tests' YubiKey is this one.
        assert_eq!(
            lookup(&crate::attest::testing::YUBIKEY_5_NFC_57_AAGUID),
            Some(nfc57)
        );
        let nfc54 = lookup(&parse("2fc0579f-8113-47ea-b116-bb5a8db9202a")).unwrap();
        assert_eq!(nfc54.firmware.unwrap().1, FirmwareVersion::new(5, 5, 0));
        let fips = lookup(&parse("73bb0cd4-e502-49b8-9c6f-b59445bf720b")).unwrap();
        assert!(fips.model.contains("FIPS"));
        assert!(lookup(&[0u8; 16]).is_none());
        assert!(lookup(&SIM_AAGUID).unwrap().model.contains("SIMULATED"));
    }

    #[test]
    fn the_simulated_aaguid_is_the_simulators() {
        assert_eq!(SIM_AAGUID, crate::token::sim::SIM_AAGUID);
    }
}
