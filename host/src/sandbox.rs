//! `Sandbox`: a Python session in its own instance. Every call runs under
//! the configured limits; a fault (timeout, trap, interrupt, output cap)
//! kills the instance, so the sandbox re-creates it at once and restores
//! the last good state — the session outlives the fault.
use crate::builder::{SandboxBuilder, Settings};
use crate::error::{fault_message, trap, Error};
use crate::execution::Execution;
use crate::instance::{instantiate, Anchors, Fault, Live};
use crate::stack::{self, Stacks};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::Trap;

/// Extra time a blocking host call (e.g. guest `time.sleep`) gets past the
/// timeout before the whole call is abandoned. Running guest code is stopped
/// by the epoch deadline within a tick (`engine::TICK`); a few ticks of
/// grace let that path (which knows the fault precisely) win when both apply.
const GRACE: Duration = Duration::from_millis(50);

/// How a call into the guest failed on the host side.
#[derive(Debug)]
enum Failure {
    /// The whole call outlived timeout + grace (a blocking host call).
    Elapsed,
    /// wasmtime stopped it: what happened in user terms, and the trap.
    Engine(String, Option<Trap>),
    /// The guest ended its process: `os._exit(n)` / WASI `proc_exit(n)`.
    Exit(i32),
}

/// Stops the sandbox's current call from another task or thread (Ctrl-C).
#[derive(Clone)]
pub struct InterruptHandle(Arc<AtomicBool>);

impl InterruptHandle {
    /// Interrupt the running call: it fails with [`Error::Interrupted`]
    /// and the session keeps its last good state.
    pub fn interrupt(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// A Python sandbox: one isolated CPython with a persistent namespace (a
/// session: variables, functions and imports survive between calls, and
/// survive faults too).
pub struct Sandbox {
    settings: Settings,
    live: Option<Live>,
    last_good: Option<Vec<u8>>,
    anchors: Anchors,
}

impl Sandbox {
    /// Start configuring a sandbox.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }

    pub(crate) async fn start(settings: Settings) -> Result<Sandbox, Error> {
        let anchors = Anchors::new(&settings);
        let live = instantiate(&settings, &anchors).await?;
        Ok(Sandbox {
            settings,
            live: Some(live),
            last_good: None,
            anchors,
        })
    }

    /// A handle that can interrupt this sandbox's running call.
    pub fn interrupt_handle(&self) -> InterruptHandle {
        InterruptHandle(self.anchors.interrupt.clone())
    }

    /// The live instance, re-created (with the last good state) if needed.
    async fn live(&mut self) -> Result<&mut Live, Error> {
        if self.live.is_none() {
            let mut live = instantiate(&self.settings, &self.anchors).await?;
            if let Some(state) = &self.last_good {
                live.store.data().sink.set_muted(true);
                let stacks = live.store.data().stacks.clone();
                let call = live.f.restore.call_async(&mut live.store, (state.clone(),));
                let _ = stack::owned(&stacks, call).await;
                live.store.data().sink.set_muted(false);
            }
            self.live = Some(live);
        }
        Ok(self.live.as_mut().expect("live instance"))
    }

    /// Arm the limits for one call.
    fn arm(&mut self) -> Result<&mut Live, Error> {
        let settings = &self.settings;
        let live = self.live.as_mut().expect("live instance");
        let d = live.store.data_mut();
        d.deadline = settings.timeout.map(|t| Instant::now() + t);
        d.fault = None;
        d.exit_status = None;
        d.limiter.hit = false;
        d.interrupt.store(false, Ordering::SeqCst);
        d.callbacks.reset();
        if let Some(f) = settings.fuel {
            live.store.set_fuel(f).map_err(trap)?;
        }
        Ok(live)
    }

    /// Run one call future under the wall-clock limit; once it is over,
    /// give back the stack pages a deep call left resident.
    async fn bounded<T>(
        timeout: Option<Duration>,
        stacks: Arc<Stacks>,
        fut: impl Future<Output = wasmtime::Result<T>>,
    ) -> Result<T, Failure> {
        let fut = stack::owned(&stacks, fut);
        let engine = |e: wasmtime::Error| match e.downcast_ref::<wasmtime_wasi::I32Exit>() {
            Some(exit) => Failure::Exit(exit.0),
            None => Failure::Engine(fault_message(&e), e.downcast_ref::<Trap>().copied()),
        };
        let r = match timeout {
            Some(t) => match tokio::time::timeout(t + GRACE, fut).await {
                Ok(r) => r,
                // Abandoned mid-call: the instance is dropped, stacks too.
                Err(_) => return Err(Failure::Elapsed),
            },
            None => fut.await,
        };
        stacks.trim();
        r.map_err(engine)
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
            (_, Failure::Exit(code)) => Error::Exit(exit_status.unwrap_or(code.into())),
            (_, Failure::Engine(_, Some(Trap::OutOfFuel))) => Error::FuelExhausted,
            (_, Failure::Engine(msg, _)) if memory_hit => Error::MemoryLimit(msg),
            (_, Failure::Engine(msg, _)) => Error::Trap(msg),
        };
        self.live = None;
        if let Err(e) = self.live().await {
            return Error::Trap(format!("{err}; re-creating the sandbox failed: {e}"));
        }
        err
    }

    /// After a call that left the instance healthy: remember the state.
    async fn checkpoint(&mut self) {
        if !self.settings.keep_state {
            return;
        }
        if let Some(live) = self.live.as_mut() {
            live.store.data().sink.set_muted(true);
            if self.settings.fuel.is_some() {
                // Internal bookkeeping is not charged to the user's budget.
                let _ = live.store.set_fuel(u64::MAX);
            }
            let stacks = live.store.data().stacks.clone();
            let call = live.f.snapshot.call_async(&mut live.store, ());
            if let Ok((Ok(bytes),)) = stack::owned(&stacks, call).await {
                self.last_good = Some(bytes);
            }
            stacks.trim();
            live.store.data().sink.set_muted(false);
        }
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
        let error = self.call_execute(code).await.err();
        let (stdout, stderr, truncated_bytes) = self.anchors.sink.take();
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
        }
    }

    async fn call_execute(&mut self, code: &str) -> Result<(), Error> {
        self.live().await?;
        let timeout = self.settings.timeout;
        let live = self.arm()?;
        let stacks = live.store.data().stacks.clone();
        let fut = live
            .f
            .execute
            .call_async(&mut live.store, (code.to_string(),));
        let r = match Self::bounded(timeout, stacks, fut).await {
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
        self.checkpoint().await;
        r.map(|_| ()).map_err(Error::from_guest)
    }

    /// Serialise the session's variables, functions, classes and imports.
    pub async fn snapshot(&mut self) -> Result<Vec<u8>, Error> {
        self.live().await?;
        let timeout = self.settings.timeout;
        let live = self.arm()?;
        let stacks = live.store.data().stacks.clone();
        let fut = live.f.snapshot.call_async(&mut live.store, ());
        match Self::bounded(timeout, stacks, fut).await {
            Ok((r,)) => r.map_err(Error::State),
            Err(f) => Err(self.fault(f).await),
        }
    }

    /// Replace the session's state by a snapshot. Invalid bytes give
    /// [`Error::State`] and leave the current state untouched.
    pub async fn restore(&mut self, snapshot: &[u8]) -> Result<(), Error> {
        self.live().await?;
        let timeout = self.settings.timeout;
        let live = self.arm()?;
        let stacks = live.store.data().stacks.clone();
        let fut = live
            .f
            .restore
            .call_async(&mut live.store, (snapshot.to_vec(),));
        match Self::bounded(timeout, stacks, fut).await {
            Ok((Ok(()),)) => {
                self.last_good = Some(snapshot.to_vec());
                Ok(())
            }
            Ok((Err(e),)) => Err(Error::State(e)),
            Err(f) => Err(self.fault(f).await),
        }
    }

    /// Empty the session's namespace.
    pub async fn clear(&mut self) -> Result<(), Error> {
        self.live().await?;
        let timeout = self.settings.timeout;
        let live = self.arm()?;
        let stacks = live.store.data().stacks.clone();
        let fut = live.f.clear.call_async(&mut live.store, ());
        match Self::bounded(timeout, stacks, fut).await {
            Ok(()) => {
                self.last_good = None;
                Ok(())
            }
            Err(f) => Err(self.fault(f).await),
        }
    }

    /// Replace the handler that receives output live (set first by
    /// [`SandboxBuilder::on_output`]); `None` only collects it. A front end
    /// that streams each call to a different client sets it per call.
    pub fn set_output_handler(&mut self, handler: Option<crate::OutputHandler>) {
        self.anchors.sink.set_handler(handler);
    }

    /// Bytes of guest linear memory currently allocated (for leak checks
    /// and monitoring).
    pub fn memory_size(&mut self) -> usize {
        self.live
            .as_ref()
            .map_or(0, |l| l.store.data().limiter.size)
    }
}
