//! Snapshot / restore / clear of the session state.
mod common;
use common::{expect_py_err, recording_sandbox, sandbox, text_of};
use eryx::{Error, Stream};

const SESSION: &str = "\
import math
g = 10
def outer(a):
    def inner(b):
        return a + b + g
    return inner
add5 = outer(5)
sq = lambda x: x * x
class Base:
    def hello(self):
        return 'base'
class Foo(Base):
    k = 3
    def __init__(self, v):
        self.v = v
    def hello(self):
        return 'foo+' + super().hello()
    @staticmethod
    def s():
        return 's'
    @property
    def p(self):
        return self.v * 2
foo = Foo(21)
nothing = None
def fact(n):
    return 1 if n <= 1 else n * fact(n - 1)
shared = [1]
pair = (shared, shared)
data = {'a': [1, 2.5, 'x'], 'b': (None, True)}
";

#[tokio::test]
async fn round_trip_into_a_fresh_sandbox() {
    let mut a = sandbox().await;
    a.execute(SESSION).await.unwrap();
    let snap = a.snapshot().await.unwrap();
    let mut b = sandbox().await;
    b.restore(&snap).await.unwrap();
    let out = b
        .execute(
            "print(add5(1), sq(4), foo.hello(), foo.p, Foo.s(), nothing, fact(5))\n\
             print(round(math.pi, 2), pair[0] is pair[1], isinstance(foo, Foo), data)\n\
             g = 20\nprint(add5(1))",
        )
        .await
        .unwrap();
    assert_eq!(
        out,
        "16 16 foo+base 42 s None 120\n3.14 True True {'a': [1, 2.5, 'x'], 'b': (None, True)}\n26\n"
    );
}

#[tokio::test]
async fn unpicklable_values_are_skipped_with_a_warning() {
    let (mut sb, log) = recording_sandbox().await;
    sb.execute("gen = (i for i in range(3))\nf = open('/lib/python3.14/os.py')\nkeep = 5")
        .await
        .unwrap();
    let snap = sb.snapshot().await.unwrap();
    let warning = text_of(&log, Stream::Stderr);
    assert!(
        warning.contains("gen (generator") && warning.contains("f (TextIOWrapper"),
        "{warning}"
    );
    let mut fresh = sandbox().await;
    fresh.restore(&snap).await.unwrap();
    assert_eq!(fresh.execute("print(keep)").await.unwrap(), "5\n");
    expect_py_err(fresh.execute("gen").await, "NameError");
}

#[tokio::test]
async fn garbage_bytes_are_an_error_and_state_survives() {
    let mut sb = sandbox().await;
    sb.execute("x = 'precious'").await.unwrap();
    let good = sb.snapshot().await.unwrap();
    let bad_inputs: Vec<Vec<u8>> = vec![
        vec![],
        b"garbage".to_vec(),
        b"ERYXSNAP\x09rest".to_vec(),
        good[..good.len() / 2].to_vec(),
        (0..=255u8).cycle().take(4096).collect(),
    ];
    for bad in bad_inputs {
        match sb.restore(&bad).await {
            Err(Error::State(msg)) => assert!(msg.contains("restore-state failed"), "{msg}"),
            other => panic!(
                "expected a state error for {} bytes, got {other:?}",
                bad.len()
            ),
        }
        assert_eq!(sb.execute("print(x)").await.unwrap(), "precious\n");
    }
    let err = sb.restore(b"ERYXSNAP\x09rest").await.unwrap_err();
    assert!(
        err.to_string()
            .contains("unsupported eryx snapshot version 9"),
        "{err}"
    );
}

#[tokio::test]
async fn snapshot_clear_restore() {
    let mut sb = sandbox().await;
    sb.execute("value = 42").await.unwrap();
    let snap = sb.snapshot().await.unwrap();
    sb.clear().await.unwrap();
    expect_py_err(sb.execute("value").await, "NameError");
    assert_eq!(
        sb.execute("print(sorted(dir()))").await.unwrap(),
        "['__builtins__', '__name__']\n"
    );
    sb.restore(&snap).await.unwrap();
    assert_eq!(sb.execute("print(value)").await.unwrap(), "42\n");
}

#[tokio::test]
async fn checkpoints_keep_no_reference_to_session_objects() {
    // Every successful call is followed by a checkpoint that pickles the
    // namespace with a reused pickler: it must not keep objects alive.
    let mut sb = sandbox().await;
    sb.execute("import gc, weakref\nclass C: pass\nc = C()\nr = weakref.ref(c)")
        .await
        .unwrap();
    let out = sb
        .execute("del c\ngc.collect()\nprint(r() is None)")
        .await
        .unwrap();
    assert_eq!(out, "True\n");
    // And the checkpoint still works afterwards (a later fault recovers it).
    sb.execute("x = [1, 2, 3]").await.unwrap();
    let snap = sb.snapshot().await.unwrap();
    sb.clear().await.unwrap();
    sb.restore(&snap).await.unwrap();
    assert_eq!(sb.execute("print(x)").await.unwrap(), "[1, 2, 3]\n");
}
