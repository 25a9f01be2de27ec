//! Scheduling of executes: a fixed number of worker slots (a fair
//! semaphore), a bounded queue in front of them (past it: 429), and the
//! per-tenant cap on concurrent executes.
use crate::api::ApiError;
use crate::metrics::Metrics;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The worker slots and their queue.
pub struct Scheduler {
    slots: Arc<Semaphore>,
    waiting: AtomicUsize,
    max_queue: usize,
    metrics: Arc<Metrics>,
}

/// A held worker slot (counted as running until dropped).
pub struct Slot {
    _permit: OwnedSemaphorePermit,
    metrics: Arc<Metrics>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.metrics.running.dec();
    }
}

/// Leaves the queue when the waiting request is served or dropped.
struct InQueue<'a>(&'a Scheduler);

impl Drop for InQueue<'_> {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::SeqCst);
        self.0.metrics.queue_depth.dec();
    }
}

impl Scheduler {
    /// `workers` slots, at most `max_queue` requests waiting.
    pub fn new(workers: usize, max_queue: usize, metrics: Arc<Metrics>) -> Scheduler {
        Scheduler {
            slots: Arc::new(Semaphore::new(workers)),
            waiting: AtomicUsize::new(0),
            max_queue,
            metrics,
        }
    }

    fn slot(&self, permit: OwnedSemaphorePermit) -> Slot {
        self.metrics.running.inc();
        Slot {
            _permit: permit,
            metrics: self.metrics.clone(),
        }
    }

    /// A worker slot: at once if one is free, else after waiting in the
    /// queue (FIFO); 429 when the queue is full. Dropping the future
    /// leaves the queue.
    pub async fn acquire(&self) -> Result<Slot, ApiError> {
        if let Ok(p) = self.slots.clone().try_acquire_owned() {
            return Ok(self.slot(p));
        }
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.max_queue {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            self.metrics.reject("queue_full");
            return Err(ApiError::saturated(
                "all workers are busy and the queue is full; retry later",
            ));
        }
        self.metrics.queue_depth.inc();
        let _in_queue = InQueue(self);
        let permit = self
            .slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ApiError::not_ready("the server is shutting down"))?;
        Ok(self.slot(permit))
    }
}

/// A tenant with its live-state: the cap on its concurrent executes.
pub struct TenantState {
    /// Its configuration.
    pub tenant: crate::config::Tenant,
    concurrent: Arc<Semaphore>,
}

impl TenantState {
    /// State for `tenant`.
    pub fn new(tenant: crate::config::Tenant) -> TenantState {
        TenantState {
            concurrent: Arc::new(Semaphore::new(tenant.caps.max_concurrent)),
            tenant,
        }
    }

    /// One of the tenant's concurrent-execute permits, or 429.
    pub fn permit(&self, metrics: &Metrics) -> Result<OwnedSemaphorePermit, ApiError> {
        self.concurrent.clone().try_acquire_owned().map_err(|_| {
            metrics.reject("tenant_concurrency");
            ApiError::saturated(format!(
                "tenant {} already runs its maximum of {} concurrent executes",
                self.tenant.name, self.tenant.caps.max_concurrent
            ))
        })
    }
}
