//! The two sandboxes under test behind one interface: eryx through its
//! public API (`eryx::Sandbox`), and the componentize-py build of the same
//! world through the raw host. Also how each is loaded (built, compiled or
//! taken from the compiled-code cache).
use crate::raw::{RawHost, RawSandbox};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A live sandbox session.
pub(crate) trait Session {
    /// Run `code`; stdout, or the error as text.
    async fn execute(&mut self, code: &str) -> Result<String, String>;
    /// `snapshot-state`: the serialised namespace.
    async fn snapshot(&mut self) -> Result<Vec<u8>, String>;
    /// `restore-state`.
    async fn restore(&mut self, state: &[u8]) -> Result<(), String>;
}

/// Something that creates sessions.
pub(crate) trait Factory {
    /// The session type.
    type S: Session;
    /// Create a fresh session.
    async fn create(&self) -> Result<Self::S, String>;
}

/// eryx, through `eryx::Sandbox::builder().build()`: with default settings,
/// or without the per-call checkpoint snapshot (`keep_state_on_fault(false)`),
/// or without interruption checks (`interruptible(false)`).
pub struct Eryx {
    /// `keep_state_on_fault`.
    pub checkpoint: bool,
    /// `interruptible`.
    pub interruptible: bool,
}

/// eryx with default settings.
pub const ERYX: Eryx = Eryx {
    checkpoint: true,
    interruptible: true,
};

/// eryx without the per-call checkpoint.
pub const ERYX_NO_CHECKPOINT: Eryx = Eryx {
    checkpoint: false,
    interruptible: true,
};

/// eryx without interruption checks (what the CLI uses for one-shot runs).
pub const ERYX_UNINTERRUPTIBLE: Eryx = Eryx {
    checkpoint: true,
    interruptible: false,
};

fn text(e: eryx::Error) -> String {
    e.to_string()
}

impl Session for eryx::Sandbox {
    async fn execute(&mut self, code: &str) -> Result<String, String> {
        eryx::Sandbox::execute(self, code).await.map_err(text)
    }

    async fn snapshot(&mut self) -> Result<Vec<u8>, String> {
        eryx::Sandbox::snapshot(self).await.map_err(text)
    }

    async fn restore(&mut self, state: &[u8]) -> Result<(), String> {
        eryx::Sandbox::restore(self, state).await.map_err(text)
    }
}

impl Factory for Eryx {
    type S = eryx::Sandbox;
    async fn create(&self) -> Result<eryx::Sandbox, String> {
        eryx::Sandbox::builder()
            .keep_state_on_fault(self.checkpoint)
            .interruptible(self.interruptible)
            .build()
            .await
            .map_err(text)
    }
}

impl Session for RawSandbox {
    async fn execute(&mut self, code: &str) -> Result<String, String> {
        RawSandbox::execute(self, code).await
    }

    async fn snapshot(&mut self) -> Result<Vec<u8>, String> {
        RawSandbox::snapshot(self).await
    }

    async fn restore(&mut self, state: &[u8]) -> Result<(), String> {
        RawSandbox::restore(self, state.to_vec()).await
    }
}

impl Factory for RawHost {
    type S = RawSandbox;
    async fn create(&self) -> Result<RawSandbox, String> {
        self.instantiate().await
    }
}

/// The host directory holding the unpacked CPython stdlib (eryx's copy:
/// both eryx and componentize-py take it from the componentize-py 0.25.1
/// wheel, byte for byte).
pub fn stdlib_dir() -> Result<PathBuf, String> {
    eryx::bench_support::stdlib_dir().map_err(|e| format!("unpacking the stdlib: {e}"))
}

/// Guest path where componentize-py's pre-initialised CPython looks for the
/// stdlib (its build-time `PYTHONHOME`/`sys.path` entry `/python`).
pub const CPY_STDLIB_GUEST_PATH: &str = "python";

/// Build (if needed) the componentize-py component with
/// scripts/build-componentize-py.sh; returns its path.
pub fn build_cpy() -> Result<PathBuf, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let script = root.join("scripts/build-componentize-py.sh");
    let out = Command::new("bash")
        .arg(&script)
        .output()
        .map_err(|e| format!("could not run {}: {e}", script.display()))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err.lines().rev().take(5).collect();
        return Err(format!(
            "{} failed: {}",
            script.display(),
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        ));
    }
    let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Ok(PathBuf::from(path))
}

/// The compiled-code cache key for the component at `path` (its sha256).
pub fn cpy_key(path: &Path) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let hash = Sha256::digest(&bytes);
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("componentize-py-{hex}"))
}

/// Load the componentize-py component (compiled once, then from eryx's
/// compiled-code cache under `key`) and link it in the raw host.
pub fn cpy_host(
    path: &Path,
    key: &str,
    stdlib: PathBuf,
    progress: bool,
) -> Result<RawHost, String> {
    let read = || std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()));
    let component = eryx::bench_support::load(key, read, progress)?;
    RawHost::new(
        &component,
        vec![(stdlib, CPY_STDLIB_GUEST_PATH.to_string())],
    )
}
