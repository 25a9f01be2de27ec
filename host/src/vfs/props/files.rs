//! Properties of the host's files API on the tree (`files.rs`: what
//! `Sandbox::write_file` and the server's files endpoints run on paths from
//! their callers). Generated paths (absolute and relative, `.`, `..`,
//! doubled and trailing slashes, NUL, over-long names) on a laid-out tree
//! with a host mount, and symlinks the guest (or a restored snapshot) left,
//! some into the mount's place holder: `normalise` agrees with a reference;
//! a path that does not normalise, or lies under the mount, is refused; no
//! operation ever puts anything under the mount's place holder, or passes
//! the caps; a write that succeeds reads back, through the API and through
//! the tree; the layout's directories cannot be removed.
use super::super::files::{normalise, Files};
use super::super::tree::{Ino, Kind, Limits, Tree, NAME_MAX, PATH_MAX, ROOT};
use super::super::{lay_out, HOME};
use crate::files::FileErrorKind as K;
use crate::props::check;
use proptest::prelude::*;

const MOUNT: &str = "/mnt/data";

/// The documented normalisation: from the home directory unless absolute;
/// empty and `.` components dropped; `..`, NUL, names over 255 bytes and
/// results over 4096 bytes refused.
fn reference(path: &str) -> Option<String> {
    if path.is_empty() || path.contains('\0') {
        return None;
    }
    let full = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{HOME}/{path}")
    };
    let mut names = Vec::new();
    for c in full.split('/') {
        match c {
            "" | "." => {}
            ".." => return None,
            c if c.len() > NAME_MAX => return None,
            c => names.push(c),
        }
    }
    let out = format!("/{}", names.join("/"));
    (out.len() <= PATH_MAX).then_some(out)
}

fn component() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => prop::sample::select(vec!["tmp", "home", "user", "mnt", "data", "a", "b", "l"])
            .prop_map(String::from),
        1 => Just(".".to_string()),
        1 => Just("..".to_string()),
        1 => Just(String::new()),
        1 => Just("x".repeat(NAME_MAX + 1)),
        1 => Just("a\0b".to_string()),
    ]
}

fn path() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(component(), 0..5),
        prop::bool::weighted(0.7),
        prop::bool::weighted(0.1),
    )
        .prop_map(|(c, absolute, trailing)| {
            let mut p = c.join("/");
            if absolute {
                p.insert(0, '/');
            }
            if trailing {
                p.push('/');
            }
            p
        })
}

#[derive(Clone, Debug)]
enum Op {
    Write(String, Vec<u8>),
    Read(String),
    Remove(String),
    List(String),
    Walk(String),
}

fn op() -> impl Strategy<Value = Op> {
    let data = prop::collection::vec(any::<u8>(), 0..30);
    prop_oneof![
        4 => (path(), data).prop_map(|(p, d)| Op::Write(p, d)),
        2 => path().prop_map(Op::Read),
        2 => path().prop_map(Op::Remove),
        1 => path().prop_map(Op::List),
        1 => path().prop_map(Op::Walk),
    ]
}

/// Symlinks and directories the guest left (absolute link targets inside
/// the tree, relative ones, and ones to the mount or its parent, as only a
/// restored snapshot can hold).
fn guest() -> impl Strategy<Value = Vec<(String, Option<String>)>> {
    let target = prop::sample::select(vec![
        "/mnt/data",
        "/mnt",
        "/tmp",
        "/home/user",
        "..",
        "../..",
        "a",
        "/nowhere",
    ])
    .prop_map(String::from);
    prop::collection::vec((path(), prop::option::weighted(0.6, target)), 0..6)
}

/// Everything below directory `dir` (links not followed), with contents.
fn below(t: &Tree, dir: Ino) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![(dir, String::new())];
    while let Some((d, at)) = todo.pop() {
        let Ok(entries) = t.dir(d) else {
            out.push(format!("{at}: gone"));
            continue;
        };
        for (name, &ino) in entries.iter() {
            let p = format!("{at}/{name}");
            match &t.node(ino).expect("live").kind {
                Kind::Dir(_) => todo.push((ino, p.clone())),
                Kind::File(f) => out.push(format!("{p} {:?}", f.read(0, usize::MAX))),
                Kind::Symlink(s) => out.push(format!("{p} -> {s}")),
                Kind::Null => {}
            }
            out.push(p);
        }
    }
    out
}

/// The node at normalised `p`, following links before the last name.
fn file_at(t: &Tree, p: &str) -> Option<Vec<u8>> {
    let ino = t.resolve(ROOT, p.trim_start_matches('/'), false).ok()?;
    match &t.node(ino).ok()?.kind {
        Kind::File(f) => Some(f.read(0, usize::MAX)),
        _ => None,
    }
}

#[test]
fn normalise_matches_the_reference() {
    check("normalise_matches_the_reference", path(), |p| {
        prop_assert_eq!(normalise(&p).ok(), reference(&p), "{:?}", p);
        Ok(())
    });
}

#[test]
fn files_api_stays_in_the_tree() {
    let limits = (
        prop::sample::select(vec![0u64, 20, 100, 1 << 20]),
        prop::sample::select(vec![6u64, 9, 12, 1000]),
    );
    let case = (limits, guest(), prop::collection::vec(op(), 1..25));
    check(
        "files_api_stays_in_the_tree",
        case,
        |((max_bytes, max_entries), made, ops)| {
            let limits = Limits {
                max_bytes,
                max_entries,
            };
            let mut tree = Tree::new(limits);
            lay_out(&mut tree, &[MOUNT]);
            // What the guest made (links into the mount without the EXDEV
            // check: a restored snapshot may hold them).
            let mounts = std::mem::take(&mut tree.mounts);
            for (p, link) in &made {
                let p = p.trim_start_matches('/');
                let _ = match link {
                    Some(t) => tree.symlink(ROOT, t, p),
                    None => tree.mkdir(ROOT, p),
                };
            }
            tree.mounts = mounts;
            let holder = tree.resolve(ROOT, &MOUNT[1..], false).unwrap();
            let in_mount = below(&tree, holder);
            let mut f = Files {
                tree: &mut tree,
                mounts: &[MOUNT],
            };
            for (i, op) in ops.iter().enumerate() {
                let p = match op {
                    Op::Write(p, _) | Op::Read(p) | Op::Remove(p) | Op::List(p) | Op::Walk(p) => p,
                };
                let norm = reference(p);
                let under = norm
                    .as_deref()
                    .is_some_and(|n| n == MOUNT || n.starts_with(&format!("{MOUNT}/")));
                let err = match op {
                    Op::Write(_, d) => f.write(p, d).err(),
                    Op::Read(_) => f.read(p).err(),
                    Op::Remove(_) => f.remove(p).err(),
                    Op::List(_) => f.list(p).err(),
                    Op::Walk(_) => f.walk(p).err(),
                };
                match (&norm, &err) {
                    (None, e) => prop_assert_eq!(
                        e.as_ref().map(|e| e.kind),
                        Some(K::InvalidPath),
                        "op {} {:?}",
                        i,
                        op
                    ),
                    (Some(_), Some(e)) if under => {
                        prop_assert_eq!(e.kind, K::ReadOnly, "op {} {:?}", i, op)
                    }
                    (Some(n), None) => {
                        prop_assert!(!under, "op {} {:?} reached the mount", i, op);
                        if let Op::Write(_, d) = op {
                            let stored = file_at(&*f.tree, n);
                            prop_assert_eq!(stored.as_ref(), Some(d), "op {} {:?}", i, op);
                            prop_assert_eq!(&f.read(p).unwrap(), d);
                        }
                        let layout = ["/", "/tmp", "/home", HOME];
                        if matches!(op, Op::Remove(_)) {
                            prop_assert!(!layout.contains(&n.as_str()), "removed {}", n);
                        }
                    }
                    _ => {}
                }
                prop_assert_eq!(
                    &below(&*f.tree, holder),
                    &in_mount,
                    "op {} {:?} changed what is under the mount's place holder",
                    i,
                    op
                );
                prop_assert!(f.tree.bytes() <= limits.max_bytes);
                prop_assert!(f.tree.entries() <= limits.max_entries);
            }
            Ok(())
        },
    );
}
