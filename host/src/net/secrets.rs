//! Secrets the guest can use but never read: the guest's environment holds
//! an opaque placeholder; bytes sent to one of the secret's hosts carry the
//! real value instead, bytes received carry the placeholder instead of the
//! real value, and both are scrubbed from output. [`Rewriter`] does the
//! stream replacement across chunk boundaries.
use super::policy::Rule;

/// What output shows instead of a secret or its placeholder.
pub(crate) const REDACTED: &str = "[REDACTED]";

/// One secret.
#[derive(Clone, Debug)]
pub(crate) struct Secret {
    pub value: Vec<u8>,
    pub placeholder: Vec<u8>,
    /// Host patterns (as `allow_host`; any port unless one is given) that
    /// receive the value.
    pub hosts: Vec<Rule>,
}

impl Secret {
    /// A secret with a fresh random placeholder of the value's length
    /// (so a substitution never changes a `Content-Length` or any other
    /// length-prefixed framing): `ERYX_` and random letters and digits.
    pub fn new(value: &str, hosts: Vec<Rule>) -> Secret {
        const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let value = value.as_bytes().to_vec();
        let prefix: &[u8] = if value.len() >= 16 { b"ERYX_" } else { b"" };
        loop {
            let mut raw = vec![0u8; value.len() - prefix.len()];
            getrandom::fill(&mut raw).expect("the system's random number generator");
            let mut placeholder = prefix.to_vec();
            placeholder.extend(raw.iter().map(|b| ALNUM[*b as usize % ALNUM.len()]));
            if placeholder != value {
                return Secret {
                    value,
                    placeholder,
                    hosts,
                };
            }
        }
    }

    /// May the real value go to `host` (normalised) on `port`?
    pub fn allowed_for(&self, host: &str, port: u16) -> bool {
        self.hosts.iter().any(|r| r.matches_secret_host(host, port))
    }
}

/// Replaces byte patterns in a stream. A tail that may be the start of a
/// pattern is held back until more data (or [`Rewriter::flush`]) decides.
#[derive(Default, Debug)]
pub(crate) struct Rewriter {
    pairs: Vec<(Vec<u8>, Vec<u8>)>,
    held: Vec<u8>,
}

impl Rewriter {
    /// Replace each `from` by its `to` (empty `from`s are ignored).
    pub fn new(pairs: Vec<(Vec<u8>, Vec<u8>)>) -> Rewriter {
        Rewriter {
            pairs: pairs.into_iter().filter(|(f, _)| !f.is_empty()).collect(),
            held: Vec::new(),
        }
    }

    /// Nothing to replace: data passes untouched.
    pub fn is_identity(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Bytes are being held back.
    pub fn holding(&self) -> bool {
        !self.held.is_empty()
    }

    /// Feed `data`; returns what can be passed on now.
    pub fn feed(&mut self, data: &[u8]) -> Vec<u8> {
        if self.is_identity() {
            return data.to_vec();
        }
        let mut buf = std::mem::take(&mut self.held);
        buf.extend_from_slice(data);
        self.scan(&buf, false)
    }

    /// Pass on whatever is held back (end of stream, or the peer must see
    /// it), replaced as at the end of the stream: a pattern inside the held
    /// tail is still replaced.
    pub fn flush(&mut self) -> Vec<u8> {
        let held = std::mem::take(&mut self.held);
        self.scan(&held, true)
    }

    /// Replace in `buf` from the left: at each position the first pair (in
    /// order) whose `from` starts there. Unless at the `end`, a position
    /// where an earlier pair's `from` may still start (the bytes so far are
    /// a prefix of it) is held with the rest, so feeding in pieces gives
    /// what one replacement of the whole stream gives.
    fn scan(&mut self, buf: &[u8], end: bool) -> Vec<u8> {
        let mut out = Vec::with_capacity(buf.len());
        let mut i = 0;
        'scan: while i < buf.len() {
            let rest = &buf[i..];
            for (from, to) in &self.pairs {
                if rest.starts_with(from) {
                    out.extend_from_slice(to);
                    i += from.len();
                    continue 'scan;
                }
                if !end && rest.len() < from.len() && from.starts_with(rest) {
                    self.held = rest.to_vec();
                    return out;
                }
            }
            out.push(buf[i]);
            i += 1;
        }
        out
    }
}

/// Replace every secret value and placeholder in `text` by [`REDACTED`].
pub(crate) fn scrub(text: &str, needles: &[String]) -> String {
    let mut t = text.to_string();
    for n in needles {
        if !n.is_empty() && t.contains(n.as_str()) {
            t = t.replace(n.as_str(), REDACTED);
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(r: &mut Rewriter, chunks: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for c in chunks {
            out.extend(r.feed(c));
        }
        out.extend(r.flush());
        out
    }

    #[test]
    fn replaces_across_chunk_boundaries() {
        let pairs = vec![(b"PLACEHOLDER".to_vec(), b"s3cret".to_vec())];
        let text = b"Authorization: Bearer PLACEHOLDER\r\nX: PLACE\r\nPLACEHOLDER";
        for split in 0..text.len() {
            let mut r = Rewriter::new(pairs.clone());
            let out = run(&mut r, &[&text[..split], &text[split..]]);
            assert_eq!(
                out, b"Authorization: Bearer s3cret\r\nX: PLACE\r\ns3cret",
                "split {split}"
            );
        }
        let mut r = Rewriter::new(pairs.clone());
        let bytes: Vec<&[u8]> = text.chunks(1).collect();
        assert_eq!(
            run(&mut r, &bytes),
            b"Authorization: Bearer s3cret\r\nX: PLACE\r\ns3cret"
        );
    }

    #[test]
    fn holds_only_possible_prefixes() {
        let mut r = Rewriter::new(vec![(b"ABC".to_vec(), b"x".to_vec())]);
        assert_eq!(r.feed(b"zzA"), b"zz");
        assert!(r.holding());
        assert_eq!(r.feed(b"D"), b"AD");
        assert!(!r.holding());
        assert_eq!(r.feed(b"AB"), b"");
        assert_eq!(r.flush(), b"AB");
    }

    #[test]
    fn scrubs_all_needles() {
        let n = vec!["s3cret".to_string(), "PH".to_string()];
        assert_eq!(scrub("a s3cret PH b", &n), "a [REDACTED] [REDACTED] b");
    }
}
