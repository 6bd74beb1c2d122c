//! The command line as a user sees it, pinned: every `--help` and each user-facing message, with
//! its exact stdout, stderr and exit code. One case per `tests/cmd/*/*.toml` (trycmd, as rage
//! does). Each case runs in its own sandbox copy of its `.in/` directory (a simulated key and CA
//! files where it needs them), with the clock fixed by `BREAKGLASS_NOW` (honoured by debug
//! builds only) and `BREAKGLASS_SIM_DIR`/`BREAKGLASS_AUDIT_LOG` inside the sandbox.
//!
//! After a deliberate change of a message: `TRYCMD=overwrite cargo test --test cmd`, then read
//! the diff. The fixtures in `tests/cmd/fixtures/` are copied into the `.in/` directories by
//! `tests/cmd/fixtures/refresh.sh`.

#[test]
fn cli_cases() {
    let t = trycmd::TestCases::new();
    t.register_bin(
        "breakglass",
        std::path::Path::new(env!("CARGO_BIN_EXE_breakglass")),
    )
    .case("tests/cmd/*/*.toml");
    #[cfg(not(feature = "wormhole"))]
    t.skip("tests/cmd/handoff/*.toml");
}
