//! Property tests of the virtual tree (unit tests only; see docs/proofs.md,
//! "Property tests"): `snapshot` decodes arbitrary and mutated snapshot
//! bytes and round-trips generated trees; `ops` runs generated operation
//! sequences on the tree and on `model`, a reference POSIX tree, and
//! compares every result and the whole state after each step; `files` runs
//! the host's files API on caller-given paths.
mod files;
mod model;
mod ops;
mod snapshot;

use super::tree::{Ino, Node, Tree, ROOT};
use std::collections::HashMap;

/// Every name of tree `t` in pre-order (a directory before its entries,
/// entries in name order), with its node, or for a further name of a node
/// (a hard link) the path of the node's first name: what the properties'
/// dumps of a tree are made from.
fn each_name(t: &Tree, out: &mut dyn FnMut(&str, Result<&Node, &str>)) {
    fn walk(
        t: &Tree,
        dir: Ino,
        at: &str,
        seen: &mut HashMap<Ino, String>,
        out: &mut dyn FnMut(&str, Result<&Node, &str>),
    ) {
        for (name, &ino) in t.dir(dir).expect("a directory").iter() {
            let p = format!("{at}/{name}");
            if let Some(first) = seen.get(&ino) {
                out(&p, Err(first));
                continue;
            }
            seen.insert(ino, p.clone());
            let n = t.node(ino).expect("a live node");
            out(&p, Ok(n));
            if n.is_dir() {
                walk(t, ino, &p, seen, out);
            }
        }
    }
    walk(t, ROOT, "", &mut HashMap::new(), out)
}
