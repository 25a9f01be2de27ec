//! Worker processes (`--isolation workers`): one-shot executes run in a
//! pool of child processes of this binary (`eryx-server --worker`), each
//! under a seccomp filter once it has mapped the sandbox image, so a bug in
//! the engine or in our host code reached by guest code is a bug in a
//! process that holds no sessions, no store credentials, no sockets and
//! cannot open a file. The server keeps the HTTP surface, tenants, store
//! and scheduling. Modules: `proto` (the wire), `child` (the worker's
//! side), `filter` (the syscall filter), `run` (one call on a worker, its
//! deadline, cancellation and callbacks), `held` (the sessions a worker
//! holds), `remote` (the server's side of a session placed in workers).
//! This module: the pool.
pub mod child;
pub mod filter;
pub mod held;
pub mod proto;
pub mod remote;
pub mod run;

use crate::metrics::Metrics;
use proto::FromWorker;
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;

/// How long a new worker may take to say `Ready` (the image is compiled
/// and cached by the server before the pool starts, so this is a load).
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// What the pool starts its workers with.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// How many workers (the server's `--workers`).
    pub size: usize,
    /// Sandboxes without epoch checks; the server kills a worker at the
    /// call's deadline.
    pub uninterruptible: bool,
    /// Start workers that honour test hooks (tests of the filter only).
    pub test_hooks: bool,
}

/// One started worker: its process, its stdin and the frames it sent.
pub struct Worker {
    child: Child,
    stdin: ChildStdin,
    frames: mpsc::UnboundedReceiver<FromWorker>,
    /// Its process id.
    pub pid: u32,
}

impl Worker {
    async fn start(exe: &PathBuf, cfg: &WorkerConfig) -> Result<Worker, String> {
        let mut cmd = Command::new(exe);
        cmd.arg("--worker");
        if cfg.uninterruptible {
            cmd.arg("--worker-uninterruptible");
        }
        if cfg.test_hooks {
            cmd.arg("--worker-test-hooks");
        }
        // The server's own settings (API keys, a store URL with its
        // password) are none of a worker's business.
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("ERYX_SERVER_") {
                cmd.env_remove(k);
            }
        }
        // glibc's malloc reads /sys/devices/system/cpu/online the first
        // time a thread needs a new arena unless the arena count is set;
        // after the filter that read would kill the worker.
        cmd.env("MALLOC_ARENA_MAX", "2");
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start a worker: {e}"))?;
        let pid = child.id().unwrap_or(0);
        let (stdin, mut stdout) = match (child.stdin.take(), child.stdout.take()) {
            (Some(i), Some(o)) => (i, o),
            _ => return Err("a worker has no pipes".into()),
        };
        let (tx, mut frames) = mpsc::unbounded_channel();
        // The reader owns the worker's stdout: a frame is never cut by a
        // cancelled read; the channel closes when the worker does.
        tokio::spawn(async move {
            while let Ok(Some(msg)) = proto::read_async::<FromWorker>(&mut stdout).await {
                if tx.send(msg).is_err() {
                    break;
                }
            }
        });
        match tokio::time::timeout(START_TIMEOUT, frames.recv()).await {
            Ok(Some(FromWorker::Ready)) => Ok(Worker {
                child,
                stdin,
                frames,
                pid,
            }),
            Ok(_) => Err("a worker stopped before it was ready".into()),
            Err(_) => Err("a worker did not get ready in time".into()),
        }
    }

    /// Kill it (if it still runs) and say how it ended: `filter` (killed by
    /// its syscall filter), `killed`, `crashed` or `exited`.
    async fn end(mut self) -> &'static str {
        use std::os::unix::process::ExitStatusExt;
        let status = match self.child.try_wait() {
            Ok(Some(s)) => s,
            _ => {
                let _ = self.child.start_kill();
                match self.child.wait().await {
                    Ok(s) => s,
                    Err(_) => return "killed",
                }
            }
        };
        match status.signal() {
            Some(libc::SIGSYS) => "filter",
            Some(libc::SIGKILL) => "killed",
            Some(_) => "crashed",
            None => "exited",
        }
    }
}

/// The pool of idle workers.
pub struct Pool {
    idle: Mutex<Vec<Worker>>,
    exe: PathBuf,
    cfg: WorkerConfig,
    /// The server's metrics (executes, lost workers).
    pub metrics: Arc<Metrics>,
    /// Sessions each worker (by pid) holds a copy of that it no longer
    /// needs (deleted, or moved to another worker): told when it is next
    /// taken.
    forgets: Mutex<HashMap<u32, Vec<String>>>,
}

impl Pool {
    /// Start `cfg.size` workers of this executable.
    pub async fn start(cfg: WorkerConfig, metrics: Arc<Metrics>) -> Result<Arc<Pool>, String> {
        // The very binary this server runs, even if the file on disk was
        // replaced since (an upgrade in place): its workers must speak
        // its wire.
        let exe = PathBuf::from("/proc/self/exe");
        if !exe.exists() {
            return Err("worker processes need /proc (Linux)".into());
        }
        let mut idle = Vec::new();
        for _ in 0..cfg.size.max(1) {
            idle.push(Worker::start(&exe, &cfg).await?);
        }
        Ok(Arc::new(Pool {
            idle: Mutex::new(idle),
            exe,
            cfg,
            metrics,
            forgets: Mutex::default(),
        }))
    }

    /// How many times a job lost before a worker took it is tried again:
    /// once per worker of the pool (all may have died while idle, and
    /// each is found dead only when taken), after which `take` starts a
    /// new one.
    pub fn retries(&self) -> usize {
        self.cfg.size.max(1)
    }

    /// Whether workers run sandboxes without epoch checks.
    pub fn uninterruptible(&self) -> bool {
        self.cfg.uninterruptible
    }

    /// An idle worker, `prefer` if it is idle (a new one if none is idle:
    /// one was lost and its replacement is still starting), told the
    /// sessions it may forget. A worker that died while idle is replaced
    /// here, not given to the call.
    pub async fn take(self: &Arc<Self>, prefer: Option<u32>) -> Result<Worker, String> {
        loop {
            let w = {
                let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
                let at = prefer.and_then(|pid| idle.iter().position(|w| w.pid == pid));
                match at {
                    Some(i) => Some(idle.swap_remove(i)),
                    None => idle.pop(),
                }
            };
            let Some(mut w) = w else {
                return Worker::start(&self.exe, &self.cfg).await;
            };
            if !matches!(w.child.try_wait(), Ok(None)) {
                self.lost(w).await;
                continue;
            }
            let gone = (self.forgets.lock().unwrap_or_else(|p| p.into_inner())).remove(&w.pid);
            if let Some(ids) = gone {
                let forget = proto::ToWorker::Forget(ids);
                if proto::write_async(&mut w.stdin, &forget).await.is_err() {
                    self.lost(w).await;
                    continue;
                }
            }
            return Ok(w);
        }
    }

    /// Worker `pid` may drop its copy of session `id`.
    pub fn forget(&self, pid: u32, id: &str) {
        let mut f = self.forgets.lock().unwrap_or_else(|p| p.into_inner());
        f.entry(pid).or_default().push(id.to_string());
    }

    /// A worker back after a call that left it healthy.
    pub fn give(&self, w: Worker) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < self.cfg.size.max(1) {
            idle.push(w);
        } else {
            // One too many (started while all were busy): it ends here.
            (self.forgets.lock().unwrap_or_else(|p| p.into_inner())).remove(&w.pid);
        }
    }

    /// A worker that died or had to be killed: reap it, count it, start
    /// its replacement in the background. Returns how it ended.
    pub async fn lost(self: &Arc<Self>, w: Worker) -> &'static str {
        let pid = w.pid;
        let reason = w.end().await;
        (self.forgets.lock().unwrap_or_else(|p| p.into_inner())).remove(&pid);
        tracing::warn!(pid, reason, "worker lost; starting a new one");
        self.metrics.worker_lost(reason);
        let pool = self.clone();
        tokio::spawn(async move {
            match Worker::start(&pool.exe, &pool.cfg).await {
                Ok(w) => pool.give(w),
                Err(e) => tracing::error!(error = %e, "starting a worker failed"),
            }
        });
        reason
    }
}
