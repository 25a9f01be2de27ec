//! Empty: the crate's dependencies' build scripts are the point (Cargo.toml).
