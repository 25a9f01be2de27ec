//! `Sandbox`: a Python session in its own instance. Every call runs under
//! the configured limits; a fault (timeout, trap, interrupt, output cap)
//! kills the instance, so the sandbox re-creates it at once and restores
//! the last good state — the session outlives the fault.
use crate::builder::{SandboxBuilder, Settings};
use crate::error::{fault_message, trap, Error};
use crate::execution::Execution;
use crate::instance::{self, instantiate, Anchors, Fault, Live};
use crate::output::Stream;
use crate::stack::{self, Stacks};
use crate::vfs::{self, snapshot as files, Tree};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use wasmtime::Trap;

/// Extra time a blocking host call (e.g. guest `time.sleep`) gets past the
/// timeout before the whole call is abandoned. Running guest code is stopped
/// by the epoch deadline within a tick (`engine::TICK`); a few ticks of
/// grace let that path (which knows the fault precisely) win when both apply.
const GRACE: Duration = Duration::from_millis(50);

/// How a call into the guest failed on the host side.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The whole call outlived timeout + grace (a blocking host call).
    Elapsed,
    /// wasmtime stopped it: what happened in user terms, and the trap.
    Engine(String, Option<Trap>),
    /// The guest ended its process: `os._exit(n)` / WASI `proc_exit(n)`.
    Exit(i32),
    /// Interrupted while blocked in a host call (e.g. guest `time.sleep`).
    Interrupted,
}

/// Stops the sandbox's current call from another task or thread (Ctrl-C).
#[derive(Clone)]
pub struct InterruptHandle {
    flag: Arc<AtomicBool>,
    wake: Arc<Notify>,
}

impl InterruptHandle {
    /// Interrupt the running call: it fails with [`Error::Interrupted`]
    /// and the session keeps its last good state. Running guest code stops
    /// at its next epoch check; a call blocked in a host call (guest
    /// `time.sleep`, a slow callback) is abandoned at once.
    pub fn interrupt(&self) {
        self.flag.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }
}

/// Resolves while `flag` is set (an interrupt no epoch check consumed).
async fn interrupted(flag: &AtomicBool, wake: &Notify) {
    while !flag.load(Ordering::SeqCst) {
        wake.notified().await;
    }
}

impl Failure {
    /// The failure as an error of an internal call (not the user's code).
    pub(crate) fn into_trap(self) -> Error {
        match self {
            Failure::Elapsed => Error::Timeout,
            Failure::Engine(msg, _) => Error::Trap(msg),
            Failure::Exit(code) => {
                Error::Trap(format!("the interpreter exited with status {code}"))
            }
            Failure::Interrupted => Error::Interrupted,
        }
    }
}

/// One guest call made from a live instance's functions and store.
pub(crate) type GuestCall<'a, T> = Pin<Box<dyn Future<Output = wasmtime::Result<T>> + Send + 'a>>;

impl Live {
    /// One internal guest call (the session's own bookkeeping, not the
    /// user's code): output muted, not charged to a fuel budget, stopped
    /// at `deadline` (also as a wall-clock bound; `None`: no limit), the
    /// stack pages it left resident given back. Interrupts stop it only if
    /// the store takes them (not while `HostState::recovering`).
    pub(crate) async fn internal<T>(
        &mut self,
        deadline: Option<Instant>,
        call: impl for<'a> FnOnce(
            &'a instance::Funcs,
            &'a mut wasmtime::Store<instance::HostState>,
        ) -> GuestCall<'a, T>,
    ) -> Result<T, Failure> {
        if self.store.get_fuel().is_ok() {
            // (Fuel flavor only; budgets are armed per user call.)
            let _ = self.store.set_fuel(u64::MAX);
        }
        let d = self.store.data_mut();
        d.deadline = deadline;
        d.fault = None;
        d.sink.set_muted(true);
        let stacks = d.stacks.clone();
        let timeout = deadline.map(|t| t.saturating_duration_since(Instant::now()));
        let r = Sandbox::bounded(None, timeout, stacks, call(&self.f, &mut self.store)).await;
        let d = self.store.data_mut();
        d.sink.set_muted(false);
        d.deadline = None;
        r
    }
}

/// A Python sandbox: one isolated CPython with a persistent namespace (a
/// session: variables, functions and imports survive between calls, and
/// survive faults too).
pub struct Sandbox {
    pub(crate) settings: Settings,
    pub(crate) live: Option<Live>,
    /// The last recovery checkpoint (shared with forks, not copied).
    pub(crate) last_good: Option<Arc<Vec<u8>>>,
    /// The virtual tree as after the last good call (with `keep_state`),
    /// and the tree generation it was taken at.
    pub(crate) last_good_files: Option<(Tree, u64)>,
    /// The values the last recovery checkpoint left out for its budget
    /// (`"; "`-joined; empty: none).
    pub(crate) left_out: String,
    pub(crate) anchors: Anchors,
}

impl Sandbox {
    /// Start configuring a sandbox.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }

    pub(crate) async fn start(settings: Settings) -> Result<Sandbox, Error> {
        let anchors = Anchors::new(&settings);
        let live = instantiate(&settings, &anchors).await?;
        let last_good_files = settings.keep_state.then(|| {
            let tree = vfs::lock(&anchors.vfs);
            (tree.checkpoint(), tree.generation())
        });
        Ok(Sandbox {
            settings,
            live: Some(live),
            last_good: None,
            last_good_files,
            left_out: String::new(),
            anchors,
        })
    }

    /// A handle that can interrupt this sandbox's running call.
    pub fn interrupt_handle(&self) -> InterruptHandle {
        InterruptHandle {
            flag: self.anchors.interrupt.clone(),
            wake: self.anchors.interrupt_wake.clone(),
        }
    }

    /// The live instance, re-created (with the last good state) if needed.
    pub(crate) async fn live(&mut self) -> Result<&mut Live, Error> {
        if self.live.is_none() {
            // The files go back to the last good call too (the dead
            // instance's descriptors are gone with it).
            {
                let mut tree = vfs::lock(&self.anchors.vfs);
                let back = match &self.last_good_files {
                    Some((t, _)) => t.clone(),
                    None => tree.checkpoint(),
                };
                tree.replace_with(back, false);
            }
            let mut live = instantiate(&self.settings, &self.anchors).await?;
            if let Some(state) = self.last_good.clone() {
                if let Err(why) =
                    Self::bring_back(self.settings.timeout, &mut live, state.to_vec()).await
                {
                    // The state's own objects cannot be loaded (e.g. a
                    // `__reduce__` that loops): a poisoned instance must
                    // not be kept, so the session goes on empty, and says so.
                    self.last_good = None;
                    self.live = Some(instantiate(&self.settings, &self.anchors).await?);
                    return Err(Error::State(format!(
                        "the session's last good state could not be restored ({why}); the session starts empty"
                    )));
                }
            }
            self.live = Some(live);
        }
        Ok(self.live.as_mut().expect("live instance"))
    }

    /// Load the last good `state` into the fresh instance `live` (not yet
    /// armed, so not stopped by interrupts: `HostState::recovering`),
    /// bounded by the timeout; why it failed.
    async fn bring_back(
        timeout: Option<Duration>,
        live: &mut Live,
        state: Vec<u8>,
    ) -> Result<(), String> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let r = live
            .internal(deadline, |f, store| {
                Box::pin(f.restore.call_async(store, (state,)))
            })
            .await;
        let timed_out = live.store.data().fault == Some(Fault::Timeout);
        const SLOW: &str = "loading it took longer than the timeout";
        match r {
            Ok((Ok(()),)) => Ok(()),
            Ok((Err(e),)) => Err(e),
            Err(Failure::Elapsed) => Err(SLOW.into()),
            Err(_) if timed_out => Err(SLOW.into()),
            // (The engine's report went to the debug log.)
            Err(_) => Err("loading it stopped the interpreter".into()),
        }
    }

    /// Arm the limits for one call.
    fn arm(&mut self) -> Result<&mut Live, Error> {
        let settings = &self.settings;
        let live = self.live.as_mut().expect("live instance");
        let d = live.store.data_mut();
        d.deadline = settings.timeout.map(|t| Instant::now() + t);
        d.recovering = false;
        d.fault = None;
        d.exit_status = None;
        d.limiter.hit = false;
        d.interrupt.store(false, Ordering::SeqCst);
        d.callbacks.reset();
        d.net.start_call();
        if let Some(f) = settings.fuel {
            live.store.set_fuel(f).map_err(trap)?;
        }
        Ok(live)
    }

    /// Run one call future under the wall-clock limit, abandoning it if
    /// an interrupt of `interrupts` is left unconsumed (the guest is
    /// blocked in a host call; `None`: interrupts are not for this call);
    /// once it is over, give back the stack pages a deep call left
    /// resident.
    async fn bounded<T>(
        interrupts: Option<&Anchors>,
        timeout: Option<Duration>,
        stacks: Arc<Stacks>,
        fut: impl Future<Output = wasmtime::Result<T>>,
    ) -> Result<T, Failure> {
        let fut = stack::owned(&stacks, fut);
        let engine = |e: wasmtime::Error| match e.downcast_ref::<wasmtime_wasi::I32Exit>() {
            Some(exit) => Failure::Exit(exit.0),
            None => Failure::Engine(fault_message(&e), e.downcast_ref::<Trap>().copied()),
        };
        let limited = async {
            match timeout {
                Some(t) => match tokio::time::timeout(t + GRACE, fut).await {
                    Ok(r) => r.map_err(engine),
                    // Abandoned mid-call: the instance is dropped, stacks too.
                    Err(_) => Err(Failure::Elapsed),
                },
                None => fut.await.map_err(engine),
            }
        };
        let r = match interrupts {
            Some(a) => tokio::select! {
                biased;
                r = limited => r,
                _ = interrupted(&a.interrupt, &a.interrupt_wake) => Err(Failure::Interrupted),
            },
            None => limited.await,
        };
        stacks.trim();
        r
    }

    /// Turn a failed call into an error, drop the dead instance and bring
    /// up a fresh one with the last good state.
    async fn fault(&mut self, f: Failure) -> Error {
        let (fault, memory_hit, exit_status) = match &self.live {
            Some(l) => {
                let d = l.store.data();
                (d.fault, d.limiter.hit, d.exit_status)
            }
            None => (None, false, None),
        };
        let err = match (fault, f) {
            (Some(Fault::Interrupted), _) => Error::Interrupted,
            (Some(Fault::OutputLimit), _) => Error::OutputLimit,
            (Some(Fault::Timeout), _) | (_, Failure::Elapsed) => Error::Timeout,
            (_, Failure::Interrupted) => Error::Interrupted,
            (_, Failure::Exit(code)) => Error::Exit(exit_status.unwrap_or(code.into())),
            (_, Failure::Engine(_, Some(Trap::OutOfFuel))) => Error::FuelExhausted,
            (_, Failure::Engine(msg, _)) if memory_hit => Error::MemoryLimit(msg),
            (_, Failure::Engine(msg, _)) => Error::Trap(msg),
        };
        // The interrupt (if any) was for the failed call; the restore into
        // the fresh instance does not take it either (`bring_back`).
        self.anchors.interrupt.store(false, Ordering::SeqCst);
        self.live = None;
        match self.live().await {
            Ok(_) => err,
            // The fault is reported with what became of the state.
            Err(Error::State(lost)) => Error::State(format!("{err}; {lost}")),
            Err(e) => Error::Trap(format!("{err}; re-creating the sandbox failed: {e}")),
        }
    }

    /// After a call that left the instance healthy: remember the state.
    /// A checkpoint that fails in Python (say, a `__reduce__` that raises)
    /// keeps the older one and says so on stderr; one that is stopped (the
    /// call's deadline, an interrupt) or traps (the guest ran out of its
    /// address space pickling) poisons the instance, so the session goes
    /// back to its last good state, and that is the call's error.
    pub(crate) async fn checkpoint(&mut self) -> Result<(), Error> {
        if !self.settings.keep_state {
            return Ok(());
        }
        let Some(live) = self.live.as_mut() else {
            return Ok(());
        };
        // Under what is left of the call's own deadline.
        let deadline = live.store.data().deadline;
        let budget = self.settings.checkpoint_budget();
        // The guest streams the bytes (`state-write`), within the budget.
        let d = live.store.data_mut();
        d.checkpoint = Vec::new();
        d.checkpoint_cap = usize::try_from(budget).unwrap_or(usize::MAX);
        let r = live
            .internal(deadline, |f, store| {
                Box::pin(f.checkpoint.call_async(store, (budget,)))
            })
            .await;
        let d = live.store.data_mut();
        d.checkpoint_cap = 0;
        let streamed = std::mem::take(&mut d.checkpoint);
        let warning = match r {
            Ok((Ok((returned, left_out)),)) => {
                let bytes = if returned.is_empty() { streamed } else { returned };
                self.last_good = Some(Arc::new(bytes));
                // Said once, when what is left out changes.
                let say = !left_out.is_empty() && left_out != self.left_out;
                let warning = say.then(|| format!(
                    "eryx: warning: a fault would lose these values, left out of the session's recovery checkpoint: {left_out}\n"
                ));
                self.left_out = left_out;
                warning
            }
            Ok((Err(e),)) => Some(format!(
                "eryx: warning: the session's recovery checkpoint failed ({e}); a fault would bring back the state of an earlier call\n"
            )),
            Err(f) => {
                // The files go back with the namespace (`live`).
                self.live = None;
                return Err(match f.into_trap() {
                    Error::Trap(why) => Error::State(format!(
                        "the call finished, but keeping its state failed ({why}); the session is back at its state before the call"
                    )),
                    stopped => stopped,
                });
            }
        };
        if let Some(warning) = warning {
            let _ = self.anchors.sink.write(Stream::Stderr, &warning);
        }
        let tree = vfs::lock(&self.anchors.vfs);
        let generation = tree.generation();
        if self.last_good_files.as_ref().map(|(_, g)| *g) != Some(generation) {
            self.last_good_files = Some((tree.checkpoint(), generation));
        }
        Ok(())
    }

    /// Run `code` (top-level `await` allowed); returns everything it wrote
    /// to stdout, including writes straight to fd 1. [`Sandbox::run`] gives
    /// the whole [`Execution`] (stderr, duration, memory, ...).
    pub async fn execute(&mut self, code: &str) -> Result<String, Error> {
        self.run(code).await.into_result()
    }

    /// Run `code` and report everything about it. This never fails itself:
    /// a Python exception, a limit or a fault is the result's `error`, and
    /// the session keeps its last good state.
    pub async fn run(&mut self, code: &str) -> Execution {
        let start = Instant::now();
        self.anchors.sink.start_call();
        let sink = self.anchors.sink.clone();
        let error = (self.call_execute(code).await.err()).map(|e| e.redact(|t| sink.scrub(t)));
        let (stdout, stderr, truncated_bytes) = self.anchors.sink.take();
        let outputs = self.anchors.sink.take_displays();
        let (peak_memory, callback_invocations) = match &self.live {
            Some(l) => (l.store.data().limiter.size, l.store.data().callbacks.used()),
            None => (0, 0),
        };
        Execution {
            stdout,
            stderr,
            error,
            duration: start.elapsed(),
            peak_memory,
            callback_invocations,
            truncated_bytes,
            outputs,
        }
    }

    async fn call_execute(&mut self, code: &str) -> Result<(), Error> {
        self.live().await?;
        let timeout = self.settings.timeout;
        let anchors = self.anchors.clone();
        let live = self.arm()?;
        let stacks = live.store.data().stacks.clone();
        let fut = live
            .f
            .execute
            .call_async(&mut live.store, (code.to_string(),));
        let r = match Self::bounded(Some(&anchors), timeout, stacks, fut).await {
            Ok((r,)) => r,
            Err(f) => return Err(self.fault(f).await),
        };
        let live = self.live.as_mut().expect("live instance");
        if live.store.data().limiter.hit && r.is_err() {
            // The memory cap was hit: roll back to the last good state in a
            // fresh instance (linear memory never shrinks otherwise).
            let text = r.err().unwrap_or_default();
            self.live = None;
            self.live().await?;
            return Err(Error::MemoryLimit(text));
        }
        self.checkpoint().await?;
        r.map(|_| ()).map_err(Error::from_guest)
    }

    /// Serialise the session: its variables, functions, classes and
    /// imports, and the files of its virtual tree (versioned format, see
    /// `vfs/snapshot.rs`).
    pub async fn snapshot(&mut self) -> Result<Vec<u8>, Error> {
        self.live().await?;
        let timeout = self.settings.timeout;
        let anchors = self.anchors.clone();
        let live = self.arm()?;
        let stacks = live.store.data().stacks.clone();
        let fut = live.f.snapshot.call_async(&mut live.store, ());
        match Self::bounded(Some(&anchors), timeout, stacks, fut).await {
            Ok((r,)) => {
                let namespace = r.map_err(Error::State)?;
                Ok(files::pack(&namespace, &vfs::lock(&self.anchors.vfs)))
            }
            Err(f) => Err(self.fault(f).await),
        }
    }

    /// The state a fault would bring this session back to — the recovery
    /// checkpoint of the last good call, within its budget
    /// ([`crate::SandboxBuilder::checkpoint_budget`]) — in
    /// [`Sandbox::snapshot`]'s format, without running the guest. `None`
    /// before the first checkpoint and with `keep_state_on_fault(false)`.
    /// An embedder that keeps each session's last good state elsewhere
    /// (eryx-server's worker processes) ships this instead of pickling the
    /// namespace a second time.
    pub fn recovery_snapshot(&self) -> Option<Vec<u8>> {
        let namespace = self.last_good.as_ref()?;
        let (tree, _) = self.last_good_files.as_ref()?;
        Some(files::pack(namespace, tree))
    }

    /// Whether the recovery checkpoint holds all that [`Sandbox::snapshot`]
    /// would: nothing was left out for the budget.
    pub fn recovery_is_complete(&self) -> bool {
        self.left_out.is_empty()
    }

    /// Replace the session's state by a snapshot: the namespace and the
    /// files; or, for an exact snapshot ([`Sandbox::snapshot_exact`], the
    /// header says which), the whole guest state. A snapshot from before the virtual tree existed (namespace
    /// only) leaves the files as they are. Invalid bytes, or files beyond
    /// this sandbox's caps, give [`Error::State`] and leave the current
    /// state untouched.
    pub async fn restore(&mut self, snapshot: &[u8]) -> Result<(), Error> {
        if crate::exact::format::is_exact(snapshot) {
            return self.restore_exact(snapshot).await;
        }
        self.live().await?;
        let empty = vfs::lock(&self.anchors.vfs).numbered_after(self.settings.vfs_limits);
        let (namespace, tree) = files::unpack(snapshot, empty)
            .map_err(|e| Error::State(format!("restore-state failed: {e}")))?;
        let timeout = self.settings.timeout;
        let anchors = self.anchors.clone();
        let live = self.arm()?;
        let stacks = live.store.data().stacks.clone();
        let fut = live
            .f
            .restore
            .call_async(&mut live.store, (namespace.to_vec(),));
        match Self::bounded(Some(&anchors), timeout, stacks, fut).await {
            Ok((Ok(()),)) => {
                self.last_good = Some(Arc::new(namespace.to_vec()));
                self.left_out.clear();
                if let Some(mut tree) = tree {
                    instance::lay_out(&self.settings, &mut tree);
                    self.set_files(tree);
                }
                Ok(())
            }
            Ok((Err(e),)) => Err(Error::State(e)),
            Err(f) => Err(self.fault(f).await),
        }
    }

    /// Run `f` on the files API's view of the live tree (see files.rs);
    /// when it changed the tree, the tree as it is now becomes the last
    /// good one, so a file put in survives a later fault of the guest.
    pub(crate) fn with_files<R>(&mut self, f: impl FnOnce(&mut vfs::files::Files<'_>) -> R) -> R {
        let points = instance::mount_points(&self.settings);
        let mut tree = vfs::lock(&self.anchors.vfs);
        let before = tree.generation();
        let r = f(&mut vfs::files::Files {
            tree: &mut tree,
            mounts: &points,
        });
        if tree.generation() != before && self.settings.keep_state {
            self.last_good_files = Some((tree.checkpoint(), tree.generation()));
        }
        r
    }

    /// Put `tree` in place of the live files (the instance goes on) and
    /// make it the last good one.
    fn set_files(&mut self, tree: Tree) {
        let mut live = vfs::lock(&self.anchors.vfs);
        live.replace_with(tree, true);
        self.last_good_files = Some((live.checkpoint(), live.generation()));
    }

    /// Empty the session: its namespace, and its files (the virtual tree
    /// starts over with an empty `/tmp` and home directory).
    pub async fn clear(&mut self) -> Result<(), Error> {
        self.live().await?;
        let timeout = self.settings.timeout;
        let anchors = self.anchors.clone();
        let live = self.arm()?;
        let stacks = live.store.data().stacks.clone();
        let fut = live.f.clear.call_async(&mut live.store, ());
        match Self::bounded(Some(&anchors), timeout, stacks, fut).await {
            Ok(()) => {
                self.last_good = None;
                let fresh = instance::new_tree(&self.settings);
                self.set_files(fresh);
                Ok(())
            }
            Err(f) => Err(self.fault(f).await),
        }
    }

    /// Change the wall-clock limit of the following calls (`None`: no
    /// limit), e.g. per request of a front end that lets callers lower it.
    /// (A sandbox built with `interruptible(false)` cannot stop running
    /// code, so there a limit only bounds calls blocked in the host.)
    pub fn set_timeout(&mut self, timeout: Option<Duration>) {
        self.settings.timeout = timeout;
    }

    /// Replace the handler that receives output live (set first by
    /// [`SandboxBuilder::on_output`]); `None` only collects it. A front end
    /// that streams each call to a different client sets it per call.
    pub fn set_output_handler(&mut self, handler: Option<crate::OutputHandler>) {
        self.anchors.sink.set_handler(handler);
    }

    /// Replace the handler that receives display items live (set first by
    /// [`SandboxBuilder::on_display`]); `None` only collects them.
    pub fn set_display_handler(&mut self, handler: Option<crate::DisplayHandler>) {
        self.anchors.sink.set_display_handler(handler);
    }

    /// Bytes of guest linear memory currently allocated (for leak checks
    /// and monitoring).
    pub fn memory_size(&mut self) -> usize {
        self.live
            .as_ref()
            .map_or(0, |l| l.store.data().limiter.size)
    }
}
