//! Generates the test attestation PKI of the virtual keys (ATTESTATION.md §6) into
//! `tests/fixtures/attest/`: `cargo run --example attest_fixtures [-- --new-keys]`.
//!
//! Keys (PKCS#8 PEM, `keys/`) are kept when present, so a run only re-derives the certificates,
//! byte for byte (deterministic ECDSA, fixed names, serials and dates); `--new-keys` replaces
//! them. Certificates: `roots/test-root.pem`, `roots/test-fido-ca.pem` (the `--roots` directory)
//! and `piv-f9.pem`; sample batch certificates `fido-batch-fw5.4.3.pem` and
//! `fido-batch-fw5.7.4.pem` (what `attest::testing::FidoBatch::certificate` makes at run time,
//! for `openssl verify`). After `--new-keys`, rebuild: the keys are compiled into
//! `breakglass::attest::testing`.

use std::path::Path;

use breakglass::attest::testing;
use breakglass::attest::FirmwareVersion;

fn main() {
    if let Err(e) = run() {
        eprintln!("attest_fixtures: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let new_keys = std::env::args().any(|a| a == "--new-keys");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/attest");
    std::fs::create_dir_all(dir.join("keys")).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(dir.join("roots")).map_err(|e| e.to_string())?;
    let mut keys = Vec::new();
    for name in ["test-root", "test-fido-ca", "fido-batch", "piv-f9"] {
        let path = dir.join(format!("keys/{name}.key.pem"));
        let existing = std::fs::read_to_string(&path).unwrap_or_default();
        let pem = if new_keys || existing.trim().is_empty() {
            let pem = testing::new_key_pem()?;
            std::fs::write(&path, &pem).map_err(|e| format!("{}: {e}", path.display()))?;
            println!("new key   {}", path.display());
            pem
        } else {
            existing
        };
        keys.push(testing::load_key_pem(&pem)?);
    }
    let [root, fido_ca, f9] = testing::build_fixture_certificates(&keys[0], &keys[1], &keys[3])?;
    for (name, pem) in [
        ("roots/test-root.pem", root),
        ("roots/test-fido-ca.pem", fido_ca),
        ("piv-f9.pem", f9),
    ] {
        write(&dir.join(name), &pem)?;
    }
    // Sample batch certificates, made the way the simulators make them at run time. Only
    // meaningful once the library was built with the keys above (a second run after
    // --new-keys).
    if let Ok(batch) = testing::FidoBatch::fixture() {
        for fw in [FirmwareVersion::new(5, 4, 3), FirmwareVersion::new(5, 7, 4)] {
            let der = batch.certificate(&breakglass::token::sim::SIM_AAGUID, Some(fw))?;
            let pem = der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, &der)
                .map_err(|e| e.to_string())?;
            write(&dir.join(format!("fido-batch-fw{fw}.pem")), &pem)?;
        }
    }
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    let same = std::fs::read_to_string(path).is_ok_and(|old| old == text);
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    println!(
        "{} {}",
        if same { "unchanged" } else { "written  " },
        path.display()
    );
    Ok(())
}
