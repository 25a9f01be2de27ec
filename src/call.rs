//! The call context (`cx`) handed to every wit-dylib intrinsic: a LIFO stack
//! of WIT values plus the memory that must outlive the call (popped strings
//! and lists whose pointers were given to the canonical ABI, and deferred
//! frees). Safe code; the raw-pointer side lives in `ffi::abi`.

use std::collections::VecDeque;

/// One WIT value on the call stack.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// bool, integers, char and handles, widened.
    Int(i64),
    /// f32 / f64, widened.
    Float(f64),
    /// A string (UTF-8).
    Str(String),
    /// A list whose canonical form is plain bytes (`list<u8>`).
    Bytes(Vec<u8>),
    /// A `list<u8>` result lent straight from a Python `bytes` (no copy:
    /// a session's checkpoint can be hundreds of MiB).
    PyBytes(crate::ffi::py::HeldBytes),
    /// A `list<u8>` import argument in memory the caller keeps alive and
    /// unchanged through the call: (address, length).
    Lent(usize, usize),
    /// Any other list, or a map (as a list of 2-tuples), or a record/tuple.
    List(Vec<Value>),
    /// A variant, option or result: discriminant and optional payload.
    Case(u32, Option<Box<Value>>),
    /// An in-progress `pop_list` iteration.
    Iter(VecDeque<Value>),
}

/// A call context: the value stack and what must stay alive with it.
#[derive(Debug, Default)]
pub struct CallCx {
    stack: Vec<Value>,
    /// Values whose memory was lent to the canonical ABI by a pop.
    lent: Vec<Value>,
    /// Allocations (`cabi_realloc`) to free when the context is dropped.
    pub deferred: Vec<usize>,
}

impl CallCx {
    /// A fresh, empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// Push a value.
    pub fn push(&mut self, v: Value) {
        self.stack.push(v);
    }

    /// Pop the top value; an empty stack is an ABI violation by the bindings.
    pub fn pop(&mut self) -> Value {
        self.stack
            .pop()
            .expect("eryx runtime: wit-dylib popped from an empty stack")
    }

    /// Number of values on the stack.
    pub fn len(&self) -> usize {
        self.stack.len()
    }

    /// Mutable access to the top value.
    pub fn top_mut(&mut self) -> &mut Value {
        self.stack
            .last_mut()
            .expect("eryx runtime: wit-dylib inspected an empty stack")
    }

    /// Keep `v` alive until this context is dropped and return a reference
    /// to it (its heap buffers do not move when `lent` grows).
    pub fn lend(&mut self, v: Value) -> &Value {
        self.lent.push(v);
        self.lent.last().unwrap()
    }

    /// Pop `n` values and return them in push order.
    pub fn pop_n(&mut self, n: usize) -> Vec<Value> {
        let at = self.stack.len().checked_sub(n).expect("stack underflow");
        self.stack.split_off(at)
    }

    /// Pop a string (for export parameters).
    pub fn pop_str(&mut self) -> String {
        match self.pop() {
            Value::Str(s) => s,
            other => panic!("eryx runtime: expected a string, found {other:?}"),
        }
    }

    /// Pop a byte list (for export parameters).
    pub fn pop_bytes(&mut self) -> Vec<u8> {
        match self.pop() {
            Value::Bytes(b) => b,
            Value::List(items) => items
                .into_iter()
                .map(|v| match v {
                    Value::Int(i) => i as u8,
                    other => panic!("eryx runtime: expected u8, found {other:?}"),
                })
                .collect(),
            other => panic!("eryx runtime: expected a byte list, found {other:?}"),
        }
    }

    /// Push a `result<T, E>` whose payload has already been built.
    pub fn push_result(&mut self, r: Result<Option<Value>, Option<Value>>) {
        let v = match r {
            Ok(p) => Value::Case(0, p.map(Box::new)),
            Err(p) => Value::Case(1, p.map(Box::new)),
        };
        self.push(v);
    }
}

impl Value {
    /// The value as an integer (bool/ints/char/handles).
    pub fn as_int(&self) -> i64 {
        match self {
            Value::Int(i) => *i,
            other => panic!("eryx runtime: expected an integer, found {other:?}"),
        }
    }
}
