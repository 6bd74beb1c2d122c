//! Prints every FIDO2 (CTAP2) and PIV error breakglass can report, with its message and next
//! step, as a Markdown table: `cargo run --example errors`.

use breakglass::token::TokenError;
use breakglass::Diagnostic;

fn main() {
    println!("| backend | code | message | what to do |\n| --- | --- | --- | --- |");
    for code in [
        0x14u8, 0x19, 0x26, 0x27, 0x28, 0x2B, 0x2C, 0x2E, 0x2F, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35,
        0x36, 0x37, 0x3A, 0x3B, 0x3C, 0x3F, 0x05, 0x06, 0x7F,
    ] {
        let e = TokenError::from_ctap(code, Some(5));
        println!("| FIDO2 | `{code:#04x}` | {e} | {} |", e.hint());
    }
    let e = breakglass::token::select::no_hardware(Some("SHA256:…"));
    println!("| FIDO2 | no device | {e} | {} |", e.hint());
    #[cfg(feature = "piv")]
    {
        use breakglass::token::piv::PivError;
        for e in [
            PivError::NoPcscd,
            PivError::NoReader,
            PivError::NoYubiKey,
            PivError::SeveralYubiKeys(vec![1234567, 7654321]),
            PivError::WrongPin { tries_left: 2 },
            PivError::PinBlocked,
            PivError::SlotEmpty { slot: 0x82 },
            PivError::SlotOccupied { slot: 0x82 },
            PivError::TouchTimeout,
            PivError::ManagementKey("the YubiKey refused it".into()),
        ] {
            let t = breakglass::token::piv_ca::piv_err(e);
            println!("| PIV | {} | {t} | {} |", t.kind(), t.hint());
        }
    }
}
