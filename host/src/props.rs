//! The property tests' runner (unit tests only): one place that decides how
//! many cases a property runs and from which seed, so every property in
//! `vfs::props` and `net::props` is reproducible. See docs/proofs.md,
//! "Property tests".
//!
//! - cases: `ERYX_PROPTEST_CASES` (default [`DEFAULT_CASES`], what
//!   `cargo test` runs in CI; the nightly-style run sets 10 000);
//! - seed: fixed ([`DEFAULT_SEED`]), or `ERYX_PROPTEST_SEED` to explore
//!   others; it is printed with every failure, with the shrunk input;
//! - no failure-persistence files (nothing is written into the repository).
use proptest::strategy::Strategy;
use proptest::test_runner::{Config, RngAlgorithm, RngSeed, TestCaseError, TestError, TestRunner};
use std::fmt::Debug;

/// Cases per property when `ERYX_PROPTEST_CASES` is not set.
pub const DEFAULT_CASES: u32 = 1024;
/// The RNG seed when `ERYX_PROPTEST_SEED` is not set.
pub const DEFAULT_SEED: u64 = 0x6572_7978_5052_4f50;

fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    Some(
        v.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
    )
}

/// The cases and seed in force.
pub fn settings() -> (u32, u64) {
    let cases = env_u64("ERYX_PROPTEST_CASES").map_or(DEFAULT_CASES, |n| n as u32);
    (cases, env_u64("ERYX_PROPTEST_SEED").unwrap_or(DEFAULT_SEED))
}

/// Run property `name`: `test` on `cases` values of `strategy`, from the
/// fixed seed. A failure panics with the seed, the case count and the
/// shrunk counterexample.
pub fn check<S>(name: &str, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S: Strategy,
    S::Value: Debug,
{
    let (cases, seed) = settings();
    let config = Config {
        cases,
        failure_persistence: None,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(seed),
        // Shrinking a long op sequence can take many steps; bounded.
        max_shrink_iters: 4096,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    match runner.run(&strategy, test) {
        Ok(()) => {}
        Err(TestError::Fail(why, input)) => panic!(
            "property {name} failed (ERYX_PROPTEST_SEED={seed}, ERYX_PROPTEST_CASES={cases}): \
             {why}\nminimal input: {input:#?}"
        ),
        Err(TestError::Abort(why)) => {
            panic!("property {name} aborted (ERYX_PROPTEST_SEED={seed}): {why}")
        }
    }
}
