//! Component-model async plumbing: the canonical built-ins imported from
//! `$root` (waitable sets, subtasks, the task context slot), the codes of
//! the callback ABI, and starting the async `invoke` import.
use super::meta;
use crate::call::{CallCx, Value};
use std::alloc::Layout;
use std::ffi::c_void;

#[link(wasm_import_module = "$root")]
extern "C" {
    #[link_name = "[waitable-set-new]"]
    fn waitable_set_new() -> u32;
    #[link_name = "[waitable-join]"]
    fn waitable_join(waitable: u32, set: u32);
    #[link_name = "[waitable-set-drop]"]
    fn waitable_set_drop(set: u32);
    #[link_name = "[subtask-drop]"]
    fn subtask_drop(subtask: u32);
    #[link_name = "[context-get-0]"]
    fn context_get() -> u32;
    #[link_name = "[context-set-0]"]
    fn context_set(value: u32);
}

/// Callback code: the task is done.
pub const EXIT: u32 = 0;
/// Callback code: wait for an event on waitable set `set`.
pub fn wait_on(set: u32) -> u32 {
    2 | (set << 4)
}
/// Event code: a subtask made progress (payload: its new state).
pub const EVENT_SUBTASK: u32 = 1;
/// Subtask state: returned (its results are written).
pub const SUBTASK_RETURNED: u32 = 2;

/// A new waitable set.
pub fn new_waitable_set() -> u32 {
    // SAFETY: canonical built-in with no preconditions.
    unsafe { waitable_set_new() }
}

/// Drop a waitable set created by `new_waitable_set`.
pub fn drop_waitable_set(set: u32) {
    // SAFETY: `set` is a live set owned by the caller.
    unsafe { waitable_set_drop(set) }
}

/// Store a task-state pointer in the current task's context slot.
pub fn set_task_context(value: usize) {
    // SAFETY: the slot is ours; wasm32 pointers fit in u32.
    unsafe { context_set(value as u32) }
}

/// The current task's context slot.
pub fn task_context() -> usize {
    // SAFETY: canonical built-in with no preconditions.
    unsafe { context_get() as usize }
}

/// An import call that has not returned yet: its call context and ABI area
/// must stay alive until the host answers.
pub struct PendingCall {
    cx: Box<CallCx>,
    area: *mut u8,
    layout: Layout,
    import: usize,
}

impl Drop for PendingCall {
    fn drop(&mut self) {
        // SAFETY: allocated in `start_async_import` with this layout.
        unsafe { std::alloc::dealloc(self.area, self.layout) }
    }
}

/// Outcome of starting an async import.
pub enum Started {
    /// It returned at once with this result value.
    Done(Value),
    /// It is in flight as `subtask` (joined to the given waitable set).
    Pending(u32, PendingCall),
}

/// Start async import `import` with `args` (first argument first); joins
/// the subtask to `set` when it does not finish at once.
pub fn start_async_import(import: usize, args: Vec<Value>, set: u32) -> Started {
    let f = meta::get().import(import);
    let layout =
        Layout::from_size_align(f.async_abi_area_size.max(1), f.async_abi_area_align.max(1))
            .expect("import ABI area layout");
    // SAFETY: non-zero layout.
    let area = unsafe { std::alloc::alloc_zeroed(layout) };
    let mut cx = Box::new(CallCx::new());
    for a in args.into_iter().rev() {
        cx.push(a);
    }
    let call = PendingCall {
        cx,
        area,
        layout,
        import,
    };
    let impl_ = f.async_impl.expect("invoke is not an async import");
    // SAFETY: generated lowering; pops the arguments from cx and writes
    // results into `area` when the call returns.
    let status = unsafe {
        impl_(
            &*call.cx as *const CallCx as *mut c_void,
            area as *mut c_void,
        )
    };
    if status & 0xf == SUBTASK_RETURNED {
        return Started::Done(finish(call));
    }
    let subtask = status >> 4;
    // SAFETY: a fresh subtask handle and a live set.
    unsafe { waitable_join(subtask, set) };
    Started::Pending(subtask, call)
}

/// Lift the results of a returned call.
pub fn finish(mut call: PendingCall) -> Value {
    let f = meta::get().import(call.import);
    let lift = f.async_lift_impl.expect("async import without lift");
    // SAFETY: the call returned, so `area` holds its results.
    unsafe {
        lift(
            &mut *call.cx as *mut CallCx as *mut c_void,
            call.area as *mut c_void,
        )
    };
    call.cx.pop()
}

/// Drop a returned subtask handle.
pub fn drop_subtask(subtask: u32) {
    // SAFETY: the subtask returned and is owned by us.
    unsafe { subtask_drop(subtask) }
}
