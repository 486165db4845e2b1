//! Command-line entry point: composition root only.

fn main() {
    println!("awala-gateway");
}
