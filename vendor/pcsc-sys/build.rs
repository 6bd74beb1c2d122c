use std::env;

fn main() {
    let target_os = env::var("CARGO_CFG_TARGET_OS")
        .expect(r#"The CARGO_CFG_TARGET_OS environment is not set in the build script."#);

    // Prefer the built-in service/library if available, otherwise try
    // libpcsclite.
    match &*target_os {
        "windows" => {
            // Note we also have to specify this above the extern {} for
            // some reason (see comment there).
            println!("cargo:rustc-link-lib=dylib=winscard");
        }

        "macos" => {
            println!("cargo:rustc-link-lib=framework=PCSC");
        }

        // breakglass patch: nothing is linked on the other systems; src/dlopen.rs opens
        // libpcsclite.so.1 on the first call, so a program built with this crate starts where
        // PC/SC is not installed (BREAKGLASS-PATCH.md). The published build linked libpcsclite
        // found by pkg-config (or PCSC_LIB_DIR and PCSC_LIB_NAME), and printed how to install it.
        _ => {}
    };
}
