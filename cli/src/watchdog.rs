//! The time limit of a one-shot run, enforced from outside the sandbox.
//!
//! A one-shot `eryx --timeout S` run (no prompt, no `--save-state`) has
//! nothing to keep after a timeout: the process ends anyway. So it runs on
//! the engine without interruption checks (`interruptible(false)`, ~20-30%
//! faster on CPU-bound code) and this watchdog thread ends the process
//! when a call runs past its limit, with the same message and exit status
//! as the in-sandbox timeout. The memory limit is unaffected (the engine's
//! limiter enforces it either way).
use eryx::Error;
use std::io::Write;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Ends the process when an armed deadline passes.
pub struct Watchdog {
    shared: Arc<(Mutex<Option<Instant>>, Condvar)>,
    limit: Duration,
}

impl Watchdog {
    /// A watchdog for calls limited to `limit` each (disarmed until
    /// [`Self::arm`]).
    pub fn start(limit: Duration) -> std::io::Result<Watchdog> {
        let shared = Arc::new((Mutex::new(None::<Instant>), Condvar::new()));
        let theirs = shared.clone();
        std::thread::Builder::new()
            .name("eryx-watchdog".into())
            .spawn(move || watch(&theirs))?;
        Ok(Watchdog { shared, limit })
    }

    /// A call starts now: it must end within the limit.
    pub fn arm(&self) {
        self.set(Some(Instant::now() + self.limit));
    }

    /// The call ended in time.
    pub fn disarm(&self) {
        self.set(None);
    }

    fn set(&self, deadline: Option<Instant>) {
        let (lock, wake) = &*self.shared;
        *lock.lock().unwrap_or_else(|p| p.into_inner()) = deadline;
        wake.notify_one();
    }
}

fn watch(shared: &(Mutex<Option<Instant>>, Condvar)) {
    let (lock, wake) = shared;
    let mut deadline = lock.lock().unwrap_or_else(|p| p.into_inner());
    loop {
        match *deadline {
            None => deadline = wake.wait(deadline).unwrap_or_else(|p| p.into_inner()),
            Some(at) => {
                let now = Instant::now();
                if now >= at {
                    break;
                }
                deadline = wake
                    .wait_timeout(deadline, at - now)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
        }
    }
    let _ = std::io::stdout().flush();
    let e = Error::Timeout;
    eprintln!("eryx: limit exceeded: {e}");
    std::process::exit(e.exit_code());
}
