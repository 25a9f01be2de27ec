//! Property tests of the network policy's pure parts (unit tests only; see
//! docs/proofs.md, "Property tests"): `policy` compares allowed-host and
//! blocked-address decisions with a reference written from the documented
//! rules; `secrets` compares the stream [`Rewriter`](super::secrets::Rewriter)
//! over arbitrary chunkings with a one-shot replacement and checks that a
//! secret's value never crosses in the direction it must not.
mod policy;
mod secrets;
