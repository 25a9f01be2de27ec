//! Native stack pages a deep call touched are given back after the call
//! (docs/stacks.md). Its own test binary: the figure is process-wide.
use eryx::Sandbox;

#[tokio::test]
async fn a_deep_call_leaves_no_deep_stack_resident() {
    let mut sb = Sandbox::builder().build().await.expect("sandbox");
    sb.execute("x = 1").await.unwrap();
    let idle = eryx::bench_support::stack_resident_bytes();
    // C recursion down to CPython's guard: several MiB of native stack.
    let deep = "l = []\nfor _ in range(10**6):\n    l = [l]\n\
                try:\n    repr(l)\nexcept RecursionError:\n    print('guarded')";
    assert_eq!(sb.execute(deep).await.unwrap(), "guarded\n");
    let after = eryx::bench_support::stack_resident_bytes();
    assert!(
        after <= idle + (512 << 10),
        "native stack resident: {idle} idle, {after} after the deep call"
    );
    assert_eq!(sb.execute("print(x)").await.unwrap(), "1\n");
}
