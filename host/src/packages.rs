//! Packages a sandbox can import. Every `SandboxBuilder::package` input — a
//! site-packages style directory, a package directory (one holding
//! `__init__.py`), a wheel, a single `.py` module or a single WASI `.so` — is
//! scanned, checked (every `.so` must be a WASI shared library, see
//! `extension`) and merged into one site directory in the cache, keyed by
//! its content hash. The guest mounts it read-only at `/site-packages`, which
//! is on `sys.path` after the stdlib. The extension modules in it are what
//! `link` adds to the component, each named by the absolute guest path that
//! Python passes to `dlopen`; they also key the compiled component.
use crate::{cache, embedded, extension, wheel};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

/// Guest mount point of the merged packages (the guest runtime's
/// `PACKAGES_GUEST_PATH`).
pub const GUEST_PATH: &str = "/site-packages";

/// How deep a package directory may nest (guards against symlink loops).
const MAX_DEPTH: usize = 48;

/// A WASI extension module to link into the component (dl-openable).
pub struct Extension {
    /// Absolute guest path, e.g. `/site-packages/pkg/_mod.cpython-314-wasm32-wasi.so`.
    pub guest_path: String,
    /// Its copy in the merged site directory.
    pub host_path: PathBuf,
    /// Hex sha256 of its bytes.
    pub sha256: String,
}

/// The packages of one sandbox configuration, ready to mount and link.
pub struct Prepared {
    /// Host directory to mount at [`GUEST_PATH`] (`None`: no packages).
    pub site: Option<PathBuf>,
    /// Extension modules, sorted by guest path.
    pub extensions: Vec<Extension>,
    /// Key of the compiled component: the embedded artefacts' hash, plus
    /// every extension's guest path and hash when there are extensions.
    pub component_key: String,
}

impl Default for Prepared {
    fn default() -> Self {
        Prepared::none()
    }
}

impl Prepared {
    /// No packages: nothing mounted, the default component.
    pub fn none() -> Prepared {
        Prepared {
            site: None,
            extensions: Vec::new(),
            component_key: embedded::CONTENT_HASH.to_string(),
        }
    }

    /// (guest path, bytes) of every extension module, for `link::link`.
    pub fn load_extensions(&self) -> Result<Vec<(String, Vec<u8>)>, String> {
        self.extensions
            .iter()
            .map(|e| {
                fs::read(&e.host_path)
                    .map(|b| (e.guest_path.clone(), b))
                    .map_err(|err| format!("{}: {err}", e.host_path.display()))
            })
            .collect()
    }
}

enum Content {
    File(PathBuf),
    Bytes(Vec<u8>),
}

/// One file of the merged tree.
struct Item {
    /// Where it came from (for messages).
    origin: String,
    content: Content,
    sha: [u8; 32],
}

/// Relative `/`-separated path → file.
type Tree = BTreeMap<String, Item>;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// sha256 of a file, remembered per (path, length, mtime) for this process.
fn hash_file(path: &Path) -> Result<[u8; 32], String> {
    type Memo = HashMap<(PathBuf, u64, SystemTime), [u8; 32]>;
    static MEMO: Mutex<Option<Memo>> = Mutex::new(None);
    let meta = fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let key = (
        path.to_path_buf(),
        meta.len(),
        meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
    );
    if let Some(h) = MEMO
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get_or_insert_default()
        .get(&key)
    {
        return Ok(*h);
    }
    let bytes = fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let h: [u8; 32] = Sha256::digest(&bytes).into();
    MEMO.lock()
        .unwrap_or_else(|p| p.into_inner())
        .get_or_insert_default()
        .insert(key, h);
    Ok(h)
}

/// The first bytes of a file (enough to classify a `.so`).
fn head(path: &Path) -> Result<Vec<u8>, String> {
    let mut buf = Vec::with_capacity(64);
    fs::File::open(path)
        .and_then(|f| f.take(64).read_to_end(&mut buf))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(buf)
}

/// Add one file, rejecting non-WASI `.so` files and conflicting duplicates.
fn add(tree: &mut Tree, rel: String, item: Item) -> Result<(), String> {
    if rel.ends_with(".so") {
        let head = match &item.content {
            Content::File(p) => head(p)?,
            Content::Bytes(b) => b[..b.len().min(64)].to_vec(),
        };
        extension::check(&head).map_err(|why| format!("{} {why}", item.origin))?;
    }
    match tree.get(&rel) {
        Some(old) if old.sha != item.sha => Err(format!(
            "{} and {} both provide {rel} (with different contents)",
            old.origin, item.origin
        )),
        Some(_) => Ok(()),
        None => {
            tree.insert(rel, item);
            Ok(())
        }
    }
}

fn utf8_name(path: &Path) -> Result<&str, String> {
    path.file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| format!("{}: file names must be UTF-8", path.display()))
}

/// Whether a path component is left out of the sandbox (caches, dotfiles).
fn skipped(name: &str) -> bool {
    name.starts_with('.') || name == "__pycache__" || name.ends_with(".pyc")
}

fn walk(dir: &Path, prefix: &str, tree: &mut Tree, depth: usize) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!(
            "{}: nested too deeply (a symlink loop?)",
            dir.display()
        ));
    }
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .and_then(|rd| rd.map(|e| e.map(|e| e.path())).collect())
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    entries.sort();
    for path in entries {
        let name = utf8_name(&path)?;
        if skipped(name) {
            continue;
        }
        let rel = format!("{prefix}{name}");
        // Follows symlinks: a link to a file is that file.
        let meta = fs::metadata(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        if meta.is_dir() {
            walk(&path, &format!("{rel}/"), tree, depth + 1)?;
        } else if meta.is_file() {
            let sha = hash_file(&path)?;
            let origin = path.display().to_string();
            add(
                tree,
                rel,
                Item {
                    origin,
                    content: Content::File(path),
                    sha,
                },
            )?;
        }
    }
    Ok(())
}

/// Where a wheel entry goes in site-packages (`None`: not installed).
fn wheel_target(name: &str) -> Option<String> {
    let mut parts = name.splitn(3, '/');
    let first = parts.next()?;
    let rel = if first.ends_with(".data") {
        match (parts.next()?, parts.next()?) {
            ("purelib" | "platlib", rest) => rest.to_string(),
            _ => return None, // scripts, headers, data: not importable
        }
    } else {
        name.to_string()
    };
    (!rel.split('/').any(skipped)).then_some(rel)
}

fn add_wheel(path: &Path, tree: &mut Tree) -> Result<(), String> {
    let bytes = fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let entries = wheel::read(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    for e in entries {
        let Some(rel) = wheel_target(&e.name) else {
            continue;
        };
        let sha = Sha256::digest(&e.data).into();
        let origin = format!("{}!{}", path.display(), e.name);
        add(
            tree,
            rel,
            Item {
                origin,
                content: Content::Bytes(e.data),
                sha,
            },
        )?;
    }
    Ok(())
}

fn add_input(input: &Path, tree: &mut Tree) -> Result<(), String> {
    let meta = fs::metadata(input).map_err(|e| format!("package {}: {e}", input.display()))?;
    let name = utf8_name(input)?;
    if meta.is_dir() {
        // A package directory itself (has __init__.py) lands under its name;
        // any other directory is a site-packages style root.
        let prefix = if input.join("__init__.py").is_file() {
            format!("{name}/")
        } else {
            String::new()
        };
        walk(input, &prefix, tree, 0)
    } else if name.ends_with(".whl") {
        add_wheel(input, tree)
    } else if name.ends_with(".py") || name.ends_with(".so") {
        let sha = hash_file(input)?;
        let origin = input.display().to_string();
        add(
            tree,
            name.to_string(),
            Item {
                origin,
                content: Content::File(input.into()),
                sha,
            },
        )
    } else {
        Err(format!(
            "package {}: expected a directory, a .whl wheel, a .py module or a WASI .so",
            input.display()
        ))
    }
}

/// Write the merged tree into the cache (once per content hash).
fn materialize(tree: &Tree, hash: &str) -> Result<PathBuf, String> {
    let dest = cache::dir().join("packages").join(&hash[..32]);
    if dest.is_dir() {
        cache::use_entry(&dest);
        return Ok(dest);
    }
    let io = |e: std::io::Error| format!("writing packages into {}: {e}", dest.display());
    fs::create_dir_all(dest.parent().unwrap_or(&dest)).map_err(io)?;
    let tmp = cache::tmp_sibling(&dest);
    for (rel, item) in tree {
        let to = tmp.join(rel);
        fs::create_dir_all(to.parent().unwrap_or(&tmp)).map_err(io)?;
        match &item.content {
            Content::File(from) => fs::copy(from, &to).map(|_| ()),
            Content::Bytes(b) => fs::write(&to, b),
        }
        .map_err(io)?;
    }
    fs::create_dir_all(&tmp).map_err(io)?;
    match fs::rename(&tmp, &dest) {
        Ok(()) => {}
        // Another process won the race: use its copy.
        Err(_) if dest.is_dir() => {
            let _ = fs::remove_dir_all(&tmp);
        }
        Err(e) => return Err(io(e)),
    }
    cache::use_entry(&dest);
    cache::enforce_cap();
    Ok(dest)
}

/// Scan, check and merge `inputs` (in order; identical duplicates are
/// fine, conflicting ones an error naming both files).
pub fn prepare(inputs: &[PathBuf]) -> Result<Prepared, String> {
    if inputs.is_empty() {
        return Ok(Prepared::none());
    }
    let memo = memo_key(inputs);
    if let Some(prepared) = memo.as_deref().and_then(recall) {
        return Ok(prepared);
    }
    let mut tree = Tree::new();
    for input in inputs {
        add_input(input, &mut tree)?;
    }
    let mut site_hash = Sha256::new();
    for (rel, item) in &tree {
        site_hash.update(rel.as_bytes());
        site_hash.update([0]);
        site_hash.update(item.sha);
    }
    let site_hash = hex(&site_hash.finalize());
    let site = materialize(&tree, &site_hash)?;
    let extensions: Vec<(String, String)> = tree
        .iter()
        .filter(|(rel, _)| rel.ends_with(".so"))
        .map(|(rel, item)| (rel.clone(), hex(&item.sha)))
        .collect();
    if let Some(key) = &memo {
        remember(key, &site_hash, &extensions);
    }
    Ok(prepared(site, &extensions))
}

/// The merged site directory `site` and its extensions (relative path, hex
/// sha256) as mounted and linked.
fn prepared(site: PathBuf, extensions: &[(String, String)]) -> Prepared {
    let extensions: Vec<Extension> = extensions
        .iter()
        .map(|(rel, sha)| Extension {
            guest_path: format!("{GUEST_PATH}/{rel}"),
            host_path: site.join(rel),
            sha256: sha.clone(),
        })
        .collect();
    let component_key = if extensions.is_empty() {
        embedded::CONTENT_HASH.to_string()
    } else {
        let mut h = Sha256::new();
        h.update(embedded::CONTENT_HASH.as_bytes());
        for e in &extensions {
            h.update([0]);
            h.update(e.guest_path.as_bytes());
            h.update([0]);
            h.update(e.sha256.as_bytes());
        }
        hex(&h.finalize())
    };
    Prepared {
        site: Some(site),
        extensions,
        component_key,
    }
}

/// Key of the inputs' identity (path, length, modification time) when every
/// input is a file (a wheel, `.py` or `.so`), so that a warm run need not
/// unpack and hash them again: a 6 MB wheel (sympy) costs ~150 ms to read.
/// Directories have no such key (a file deep inside may change without
/// the directory's time changing), nor does a file whose time is unknown.
fn memo_key(inputs: &[PathBuf]) -> Option<String> {
    // The wheel cache's files are named by their content's sha256 and
    // written once; their time is the cache's last use, bumped every run.
    let wheels = fs::canonicalize(cache::dir().join("wheels")).ok();
    let mut h = Sha256::new();
    h.update(embedded::CONTENT_HASH.as_bytes());
    for input in inputs {
        let path = fs::canonicalize(input).ok()?;
        let meta = fs::metadata(&path).ok()?;
        if !meta.is_file() {
            return None;
        }
        h.update(path.to_str()?.as_bytes());
        h.update([0]);
        h.update(meta.len().to_le_bytes());
        if !wheels.as_deref().is_some_and(|w| path.starts_with(w)) {
            let mtime = meta
                .modified()
                .ok()?
                .duration_since(SystemTime::UNIX_EPOCH)
                .ok()?;
            h.update(mtime.as_nanos().to_le_bytes());
        }
    }
    Some(hex(&h.finalize()))
}

/// Where the memo of a `memo_key` lives: the site hash on the first line,
/// then `relative path<TAB>sha256` per extension module.
fn memo_path(key: &str) -> PathBuf {
    cache::dir()
        .join("packages")
        .join(format!("inputs-{}", &key[..32]))
}

fn remember(key: &str, site_hash: &str, extensions: &[(String, String)]) {
    let mut text = format!("{site_hash}\n");
    for (rel, sha) in extensions {
        text.push_str(&format!("{rel}\t{sha}\n"));
    }
    // A memo that cannot be written only costs the next run the full scan.
    let _ = cache::write_atomic(&memo_path(key), text.as_bytes());
}

/// The prepared packages a memo records, if its site directory is still
/// in the cache (it may have been evicted).
fn recall(key: &str) -> Option<Prepared> {
    let text = fs::read_to_string(memo_path(key)).ok()?;
    let mut lines = text.lines();
    let site_hash = lines.next()?;
    let site = cache::dir().join("packages").join(site_hash.get(..32)?);
    if !site.is_dir() {
        return None;
    }
    let extensions: Vec<(String, String)> = lines
        .map(|l| {
            l.split_once('\t')
                .map(|(r, s)| (r.to_string(), s.to_string()))
        })
        .collect::<Option<_>>()?;
    if extensions.iter().any(|(rel, _)| !site.join(rel).is_file()) {
        return None;
    }
    cache::use_entry(&site);
    Some(prepared(site, &extensions))
}

#[cfg(test)]
mod tests {
    use super::wheel_target;

    #[test]
    fn wheel_entries_map_to_site_packages() {
        assert_eq!(
            wheel_target("pkg/__init__.py").as_deref(),
            Some("pkg/__init__.py")
        );
        assert_eq!(
            wheel_target("pkg-1.0.data/purelib/pkg/a.py").as_deref(),
            Some("pkg/a.py")
        );
        assert_eq!(
            wheel_target("pkg-1.0.data/platlib/m.so").as_deref(),
            Some("m.so")
        );
        assert_eq!(wheel_target("pkg-1.0.data/scripts/tool"), None);
        assert_eq!(wheel_target("pkg/__pycache__/a.cpython-314.pyc"), None);
    }
}
