//! Compiles every .proto under the workspace's `proto/` in pure Rust (protox: no protoc needed) and
//! writes the encoded descriptor set next to the generated code, for server reflection and for
//! the scopes each method names.

use std::{env, fs, path::PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    let files = [
        "csc/common/v1/common.proto",
        "csc/frontdoor/v1/frontdoor.proto",
        "csc/finance/v1/finance.proto",
        "csc/protection/v1/protection.proto",
        "csc/placements/v1/placements.proto",
        "csc/reporting/v1/reporting.proto",
        "csc/intake/v1/intake.proto",
    ];
    println!("cargo:rerun-if-changed={}", root.display());
    for f in &files {
        println!("cargo:rerun-if-changed={}", root.join(f).display());
    }
    let mut compiler = protox::Compiler::new([&root])?;
    compiler
        .include_source_info(true)
        .include_imports(true)
        .open_files(files)?;
    let out = PathBuf::from(env::var("OUT_DIR")?);
    // Encoded by the compiler itself, which keeps the methods' custom options (their scopes);
    // prost's own descriptor types would drop them.
    fs::write(
        out.join("csc_descriptor.bin"),
        compiler.encode_file_descriptor_set(),
    )?;
    let fds = compiler.file_descriptor_set();
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(fds)?;
    Ok(())
}
