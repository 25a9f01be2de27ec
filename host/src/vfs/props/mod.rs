//! Property tests of the virtual tree (unit tests only; see docs/proofs.md,
//! "Property tests"): `snapshot` decodes arbitrary and mutated snapshot
//! bytes and round-trips generated trees; `ops` runs generated operation
//! sequences on the tree and on `model`, a reference POSIX tree, and
//! compares every result and the whole state after each step; `files` runs
//! the host's files API on caller-given paths.
mod files;
mod model;
mod ops;
mod snapshot;
