//! Bootstrap test for the committed CogRPC code (house style, "Generated code").
//!
//! The tonic/prost code under `src/protocols/cogrpc/generated/` is generated from `proto/` by
//! the small generator below and committed, so building the crate needs neither a build script
//! nor `protoc`. This test regenerates it into a temporary directory and fails if it differs
//! from the committed files. After editing a `.proto` file (or upgrading tonic/prost), refresh
//! the committed code with:
//!
//! ```text
//! AWALA_REGENERATE=1 cargo test --test cogrpc_codegen
//! ```

use std::fs;
use std::path::{Path, PathBuf};

/// Proto files, relative to `proto/`.
const PROTOS: [&str; 2] = ["cogrpc.proto", "awala_cogrpc.proto"];

/// Files prost writes, one per proto package.
const GENERATED: [&str; 2] = ["relaynet.cogrpc.rs", "awala.cogrpc.rs"];

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Compile the protos with protox (pure Rust) and generate tonic server and client code.
fn generate(out_dir: &Path) {
    let proto_dir = manifest_dir().join("proto");
    let descriptors = protox::compile(PROTOS, [&proto_dir]).expect("proto files compile");
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        // No `connect()` helpers: they need tonic's `transport` feature, which the codec layer
        // does not enable; callers build clients from their own channel.
        .build_transport(false)
        .out_dir(out_dir)
        .compile_fds(descriptors)
        .expect("code generation succeeds");
}

fn first_difference(expected: &str, actual: &str) -> String {
    let line = expected
        .lines()
        .zip(actual.lines())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
    format!(
        "first difference at line {}:\n  generated: {:?}\n  committed: {:?}",
        line + 1,
        expected.lines().nth(line).unwrap_or("<end of file>"),
        actual.lines().nth(line).unwrap_or("<end of file>"),
    )
}

#[test]
fn committed_cogrpc_code_matches_the_protos() {
    let scratch = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cogrpc_codegen");
    // A leftover directory from an earlier run is fine to lose.
    let _ = fs::remove_dir_all(&scratch);
    fs::create_dir_all(&scratch).expect("scratch directory");
    generate(&scratch);

    let mut produced: Vec<String> = fs::read_dir(&scratch)
        .expect("scratch directory is readable")
        .map(|entry| {
            entry
                .expect("directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    produced.sort();
    let mut expected_names = GENERATED.map(String::from).to_vec();
    expected_names.sort();
    assert_eq!(
        produced, expected_names,
        "the generator's output files changed"
    );

    let committed_dir = manifest_dir().join("src/protocols/cogrpc/generated");
    let regenerate = std::env::var("AWALA_REGENERATE").is_ok_and(|value| value == "1");
    let mut stale = Vec::new();
    for name in GENERATED {
        let generated = fs::read_to_string(scratch.join(name)).expect("generated file");
        let committed_path = committed_dir.join(name);
        if regenerate {
            fs::write(&committed_path, &generated).expect("write committed file");
            continue;
        }
        let committed = fs::read_to_string(&committed_path).unwrap_or_default();
        if committed != generated {
            stale.push(format!(
                "{name}: {}",
                first_difference(&generated, &committed)
            ));
        }
    }
    assert!(
        stale.is_empty(),
        "committed CogRPC code is out of date; run \
         `AWALA_REGENERATE=1 cargo test --test cogrpc_codegen` and commit the result\n{}",
        stale.join("\n")
    );
}
