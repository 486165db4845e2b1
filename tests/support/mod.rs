//! Code shared by the black-box and interop tests.
#![allow(dead_code)]

pub mod gateway;
pub mod harness;
pub mod manifest;
pub mod node;
pub mod rust_vectors;
pub mod wait;
