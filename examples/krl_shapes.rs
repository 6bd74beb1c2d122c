//! Writes every hostile KRL shape of tests/krl_memory.rs at MB megabytes (default 22) into DIR,
//! for measuring `breakglass revoke --list` by hand:
//! `cargo run --example krl_shapes -- /tmp/shapes 22`, then
//! `/usr/bin/time -f %M target/release/breakglass revoke --list /tmp/shapes/key-ids`.

#[path = "../tests/krl_shapes/mod.rs"]
mod krl_shapes;

fn main() {
    let mut args = std::env::args_os().skip(1);
    let Some(dir) = args.next() else {
        eprintln!("usage: krl_shapes DIR [MB]");
        std::process::exit(2);
    };
    let mb: u64 = args
        .next()
        .and_then(|v| v.to_str()?.parse().ok())
        .unwrap_or(22);
    std::fs::create_dir_all(&dir).expect("create DIR");
    for (name, _) in krl_shapes::SHAPES {
        let len = krl_shapes::write_shape(&std::path::Path::new(&dir).join(name), name, mb << 20);
        println!("{name}: {len} bytes");
    }
}
