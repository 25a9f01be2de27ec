//! Properties of the network policy (`policy.rs`): for generated rules
//! (names, `*.suffix` wildcards, literal IPv4/IPv6 addresses, with or
//! without `:PORT`, written in varied case, with trailing dots, brackets,
//! IPv4-mapped and uncompressed IPv6 forms) and generated connection
//! targets (names and addresses, written the same varied ways, resolved to
//! generated addresses), the policy's decision equals a reference written
//! here from the documented rules (docs/network.md, docs/proofs.md
//! "Addresses the guest never reaches"), with its own CIDR table. Also:
//! parsing any text as a rule never panics.
use crate::net::policy::{blocked_range, normalize, NetworkLimits, Rule, Rules};
use crate::props::check;
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A host name, as lower-case labels (never an address: every label has a
/// letter).
type Name = Vec<&'static str>;

/// What a generated rule means.
#[derive(Clone, Debug)]
enum Pat {
    Name(Name),
    /// `*.` and the suffix's labels.
    Wild(Name),
    Ip(IpAddr),
}

/// A connection target.
#[derive(Clone, Debug)]
enum Target {
    Name(Name),
    Ip(IpAddr),
}

const LABELS: [&str; 5] = ["a", "b", "x1", "example", "com"];

fn name() -> impl Strategy<Value = Name> {
    prop::collection::vec(prop::sample::select(LABELS.to_vec()), 1..4)
}

/// Addresses near every range boundary the policy knows, and some others.
fn ipv4() -> impl Strategy<Value = Ipv4Addr> {
    let edges: Vec<u32> = [
        [0, 0, 0, 0],
        [0, 255, 255, 255],
        [1, 0, 0, 0],
        [9, 255, 255, 255],
        [10, 0, 0, 1],
        [11, 0, 0, 0],
        [93, 184, 216, 34],
        [100, 63, 255, 255],
        [100, 64, 0, 0],
        [100, 127, 255, 255],
        [100, 128, 0, 0],
        [126, 255, 255, 255],
        [127, 0, 0, 1],
        [128, 0, 0, 0],
        [169, 253, 255, 255],
        [169, 254, 169, 254],
        [169, 255, 0, 0],
        [172, 15, 255, 255],
        [172, 16, 0, 0],
        [172, 31, 255, 255],
        [172, 32, 0, 0],
        [192, 0, 0, 8],
        [192, 0, 1, 0],
        [192, 0, 2, 1],
        [192, 0, 3, 0],
        [192, 167, 255, 255],
        [192, 168, 1, 1],
        [192, 169, 0, 0],
        [198, 17, 255, 255],
        [198, 18, 0, 1],
        [198, 19, 255, 255],
        [198, 20, 0, 0],
        [198, 51, 100, 7],
        [198, 51, 101, 0],
        [203, 0, 113, 9],
        [203, 0, 114, 0],
        [223, 255, 255, 255],
        [224, 0, 0, 1],
        [239, 255, 255, 255],
        [240, 0, 0, 1],
        [255, 255, 255, 255],
    ]
    .iter()
    .map(|o| u32::from_be_bytes(*o))
    .collect();
    prop_oneof![
        3 => prop::sample::select(edges),
        1 => any::<u32>(),
    ]
    .prop_map(Ipv4Addr::from)
}

/// IPv6 addresses: plain ones near the blocked ranges, and the transition
/// forms that embed an IPv4 address (mapped, NAT64, 6to4, Teredo,
/// IPv4-compatible).
fn ipv6() -> impl Strategy<Value = Ipv6Addr> {
    let plain: Vec<u128> = [
        "::",
        "::1",
        "::2",
        "fbff:ffff::1",
        "fc00::1",
        "fdff::1",
        "fe00::1",
        "fe7f::1",
        "fe80::1",
        "febf::1",
        "fec0::1",
        "ff00::1",
        "ff02::1",
        "2001:db8::1",
        "2001:1::1",
        "2003::1",
        "64:ff9b:1::1",
        "64:ff9b:2::1",
        "64:ff9a::1",
        "2606:4700::1111",
    ]
    .iter()
    .map(|s| u128::from(s.parse::<Ipv6Addr>().unwrap()))
    .collect();
    let v4 = || ipv4().prop_map(|a| u32::from(a) as u128);
    prop_oneof![
        2 => prop::sample::select(plain),
        1 => any::<u128>(),
        // ::ffff:a.b.c.d, 64:ff9b::a.b.c.d, ::a.b.c.d
        1 => v4().prop_map(|a| (0xffff << 32) | a),
        1 => v4().prop_map(|a| (0x0064_ff9b << 96) | a),
        1 => v4().prop_map(|a| a),
        // 2002:AABB:CCDD::/48
        1 => (v4(), any::<u64>()).prop_map(|(a, low)| (0x2002 << 112) | (a << 80) | low as u128),
        // Teredo: 2001:0:SERVER:flags:port:~CLIENT
        1 => (v4(), any::<u32>(), v4())
            .prop_map(|(s, mid, c)| (0x2001 << 112) | (s << 64) | ((mid as u128) << 32) | (!c & 0xffff_ffff)),
    ]
    .prop_map(Ipv6Addr::from)
}

fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![ipv4().prop_map(IpAddr::V4), ipv6().prop_map(IpAddr::V6)]
}

/// How to write a name or address: upper-casing mask, trailing dots,
/// brackets, the IPv6 form.
#[derive(Clone, Copy, Debug)]
struct Style {
    upper: u32,
    dots: u8,
    bracket: bool,
    v6_form: u8,
    spaces: bool,
}

fn style() -> impl Strategy<Value = Style> {
    (
        any::<u32>(),
        0u8..3,
        any::<bool>(),
        0u8..5,
        prop::bool::weighted(0.1),
    )
        .prop_map(|(upper, dots, bracket, v6_form, spaces)| Style {
            upper,
            dots,
            bracket,
            v6_form,
            spaces,
        })
}

/// Upper-case the characters the mask picks.
fn case(s: &str, mask: u32) -> String {
    s.chars()
        .enumerate()
        .map(|(i, c)| {
            if mask >> (i % 32) & 1 == 1 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect()
}

/// An IPv6 address in one of several textual forms.
fn v6_text(a: Ipv6Addr, form: u8) -> String {
    let s = a.segments();
    match form {
        0 => a.to_string(),
        1 => s.map(|x| format!("{x:x}")).join(":"),
        2 => s.map(|x| format!("{x:04x}")).join(":"),
        3 => {
            let [p, q, r, t] = Ipv4Addr::from((s[6] as u32) << 16 | s[7] as u32).octets();
            let head = s[..6].iter().map(|x| format!("{x:x}")).collect::<Vec<_>>();
            format!("{}:{p}.{q}.{r}.{t}", head.join(":"))
        }
        _ => a.to_string().to_uppercase(),
    }
}

/// The text of a host (for a rule or a connection).
fn host_text(t: &Target, st: Style) -> String {
    let text = match t {
        Target::Name(labels) => {
            let mut s = case(&labels.join("."), st.upper);
            s.push_str(&".".repeat(st.dots as usize));
            s
        }
        Target::Ip(IpAddr::V4(a)) => {
            let mut s = a.to_string();
            s.push_str(&".".repeat(st.dots.min(1) as usize));
            s
        }
        Target::Ip(IpAddr::V6(a)) => case(&v6_text(*a, st.v6_form), st.upper),
    };
    if st.spaces {
        format!(" {text} ")
    } else {
        text
    }
}

fn rule_text(p: &Pat, port: Option<u16>, st: Style) -> String {
    let inner = Style {
        spaces: false,
        ..st
    };
    let host = match p {
        Pat::Name(n) => host_text(&Target::Name(n.clone()), inner),
        Pat::Wild(n) => format!("*.{}", host_text(&Target::Name(n.clone()), inner)),
        Pat::Ip(ip) => host_text(&Target::Ip(*ip), inner),
    };
    let v6 = matches!(p, Pat::Ip(IpAddr::V6(_)));
    let spec = match port {
        Some(n) if v6 => format!("[{host}]:{n}"),
        Some(n) => format!("{host}:{n}"),
        None if v6 && st.bracket => format!("[{host}]"),
        None => host,
    };
    if st.spaces {
        format!(" {spec}\t")
    } else {
        spec
    }
}

// --- the reference -----------------------------------------------------

/// An IPv4-mapped address is its IPv4 address.
fn canon(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(a) if u128::from(a) >> 32 == 0xffff => {
            IpAddr::V4(Ipv4Addr::from(u128::from(a) as u32))
        }
        other => other,
    }
}

fn in_v4(a: u32, net: [u8; 4], len: u32) -> bool {
    let net = u32::from_be_bytes(net);
    len == 0 || a >> (32 - len) == net >> (32 - len)
}

fn in_v6(a: u128, net: u128, len: u32) -> bool {
    a >> (128 - len) == net >> (128 - len)
}

/// The documented IPv4 table.
fn blocked4(a: Ipv4Addr) -> bool {
    let a = u32::from(a);
    const TABLE: [([u8; 4], u32); 15] = [
        ([127, 0, 0, 0], 8),
        ([10, 0, 0, 0], 8),
        ([172, 16, 0, 0], 12),
        ([192, 168, 0, 0], 16),
        ([169, 254, 0, 0], 16),
        ([0, 0, 0, 0], 8),
        ([100, 64, 0, 0], 10),
        ([192, 0, 0, 0], 24),
        ([192, 0, 2, 0], 24),
        ([198, 51, 100, 0], 24),
        ([203, 0, 113, 0], 24),
        ([198, 18, 0, 0], 15),
        ([240, 0, 0, 0], 4),
        ([224, 0, 0, 0], 4),
        ([255, 255, 255, 255], 32),
    ];
    TABLE.iter().any(|(net, len)| in_v4(a, *net, *len))
}

/// The documented IPv6 table, and the IPv4 addresses its transition forms
/// carry.
fn blocked(ip: IpAddr) -> bool {
    let a = match canon(ip) {
        IpAddr::V4(a) => return blocked4(a),
        IpAddr::V6(a) => u128::from(a),
    };
    let v4 = |bits: u128| Ipv4Addr::from(bits as u32);
    let table: [(u128, u32); 6] = [
        (1, 128),
        (0, 128),
        (0xfc00 << 112, 7),
        (0xfe80 << 112, 10),
        (0xff00 << 112, 8),
        (0x0064_ff9b_0001 << 80, 48),
    ];
    if table.iter().any(|(net, len)| in_v6(a, *net, *len)) {
        return true;
    }
    let carried: Vec<Ipv4Addr> = if in_v6(a, 0x0064_ff9b << 96, 96) || in_v6(a, 0, 96) {
        vec![v4(a)]
    } else if in_v6(a, 0x2002 << 112, 16) {
        vec![v4(a >> 80)]
    } else if in_v6(a, 0x2001 << 112, 32) {
        vec![v4(a >> 64), v4(!a)]
    } else {
        vec![]
    };
    carried.into_iter().any(blocked4)
}

fn pat_matches(p: &Pat, t: &Target) -> bool {
    match (p, t) {
        (Pat::Name(n), Target::Name(h)) => n == h,
        (Pat::Wild(suffix), Target::Name(h)) => h.len() > suffix.len() && h.ends_with(suffix),
        (Pat::Ip(a), Target::Ip(b)) => canon(*a) == canon(*b),
        _ => false,
    }
}

fn port_matches(rule: Option<u16>, port: u16) -> bool {
    rule.map_or(port == 80 || port == 443, |p| p == port)
}

/// May the guest, asking for `t` on `port`, connect to `addr`?
fn reference(rules: &[(Pat, Option<u16>)], t: &Target, port: u16, addr: IpAddr) -> bool {
    let named = rules
        .iter()
        .any(|(p, rp)| port_matches(*rp, port) && pat_matches(p, t));
    let literal = rules.iter().any(|(p, rp)| {
        port_matches(*rp, port) && matches!(p, Pat::Ip(a) if canon(*a) == canon(addr))
    });
    named && (!blocked(addr) || literal)
}

// --- the properties ----------------------------------------------------

fn pat() -> impl Strategy<Value = Pat> {
    prop_oneof![
        name().prop_map(Pat::Name),
        name().prop_map(Pat::Wild),
        ip().prop_map(Pat::Ip),
    ]
}

fn port() -> impl Strategy<Value = u16> {
    prop::sample::select(vec![80u16, 443, 8080, 8443, 1, 65535])
}

fn rules() -> impl Strategy<Value = Vec<(Pat, Option<u16>, Style)>> {
    prop::collection::vec((pat(), prop::option::of(port()), style()), 0..5)
}

/// The other ways to write an address: IPv4-mapped (the same address to
/// the policy) and IPv4-compatible (another one).
fn aliases(a: IpAddr) -> Vec<IpAddr> {
    match a {
        IpAddr::V4(v4) => vec![
            IpAddr::V6(v4.to_ipv6_mapped()),
            IpAddr::V6(Ipv6Addr::from(u32::from(v4) as u128)),
        ],
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => vec![IpAddr::V4(v4)],
            None => vec![],
        },
    }
}

/// A target, mostly one near what a rule names: the name itself, a
/// subdomain of it, a wildcard's suffix bare and with a label, an address
/// and its aliases.
fn target(rules: &[(Pat, Option<u16>, Style)]) -> BoxedStrategy<Target> {
    let mut near: Vec<Target> = Vec::new();
    for (p, _, _) in rules {
        match p {
            Pat::Name(n) | Pat::Wild(n) => {
                near.push(Target::Name(n.clone()));
                near.push(Target::Name([&["a"][..], &n[..]].concat()));
                near.push(Target::Name([&["x1", "b"][..], &n[..]].concat()));
            }
            Pat::Ip(a) => {
                near.push(Target::Ip(*a));
                near.extend(aliases(*a).into_iter().map(Target::Ip));
            }
        }
    }
    let fresh = prop_oneof![name().prop_map(Target::Name), ip().prop_map(Target::Ip)];
    if near.is_empty() {
        fresh.boxed()
    } else {
        prop_oneof![1 => fresh, 3 => prop::sample::select(near)].boxed()
    }
}

/// Addresses a name resolves to: any, or one a rule lists (or its alias).
fn resolved(rules: &[(Pat, Option<u16>, Style)]) -> BoxedStrategy<Vec<IpAddr>> {
    let mut listed: Vec<IpAddr> = Vec::new();
    for (p, _, _) in rules {
        if let Pat::Ip(a) = p {
            listed.push(*a);
            listed.extend(aliases(*a));
        }
    }
    let one = if listed.is_empty() {
        ip().boxed()
    } else {
        prop_oneof![ip(), prop::sample::select(listed)].boxed()
    };
    prop::collection::vec(one, 1..4).boxed()
}

#[test]
fn decisions_match_the_reference() {
    let case = rules().prop_flat_map(|rules| {
        let t = target(&rules);
        let addrs = resolved(&rules);
        (Just(rules), t, style(), port(), addrs)
    });
    check(
        "decisions_match_the_reference",
        case,
        |(specs, t, st, port, resolved)| {
            let texts: Vec<String> = specs.iter().map(|(p, n, s)| rule_text(p, *n, *s)).collect();
            let parsed: Result<Vec<Rule>, String> = texts.iter().map(|s| Rule::parse(s)).collect();
            let parsed = parsed.map_err(TestCaseError::fail)?;
            let policy = Rules {
                rules: parsed,
                limits: NetworkLimits::default(),
            };
            let meaning: Vec<(Pat, Option<u16>)> =
                specs.iter().map(|(p, n, _)| (p.clone(), *n)).collect();
            // As conn.rs: normalise, check the host, then each address (a
            // literal address is the one address).
            let mut text = host_text(&t, st);
            if matches!(t, Target::Ip(IpAddr::V6(_))) && st.bracket {
                text = format!("[{}]", text.trim());
            }
            let host = normalize(&text);
            let addrs = match t {
                Target::Ip(a) => vec![a],
                Target::Name(_) => resolved,
            };
            for addr in addrs {
                let got = policy.check(&host, port).is_ok()
                    && policy.check_address(&host, addr, port).is_ok();
                let want = reference(&meaning, &t, port, addr);
                prop_assert_eq!(
                    got,
                    want,
                    "rules {:?}, host {:?} (port {}), address {}",
                    texts,
                    host,
                    port,
                    addr
                );
            }
            Ok(())
        },
    );
}

/// The blocked-range table alone, over every address form.
#[test]
fn blocked_ranges_match_the_reference() {
    check("blocked_ranges_match_the_reference", ip(), |addr| {
        prop_assert_eq!(blocked_range(addr).is_some(), blocked(addr), "{}", addr);
        Ok(())
    });
}

/// Any text either parses as a rule or is refused with a message; what
/// parses is a name, a wildcard over a name, or an address.
#[test]
fn parsing_any_text_never_panics() {
    let text = prop_oneof![
        any::<String>(),
        "[\\[\\]*.:a-zA-Z0-9 _-]{0,24}",
        "\\[?[0-9a-fA-F:.]{0,30}\\]?(:[0-9+]{0,6})?",
        " ?\\*\\.[a-z .*_~-]{0,10}(:[0-9]{1,5})?",
    ];
    check("parsing_any_text_never_panics", text, |s| {
        if let Ok(rule) = Rule::parse(&s) {
            let _ = rule.allows(&normalize(&s), 443);
            let host = normalize(rule.text.rsplit_once(':').map_or(&s[..], |(h, _)| h));
            let name_ok = |h: &str| {
                !h.is_empty()
                    && h.chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
            };
            let ok = host.parse::<IpAddr>().is_ok()
                || normalize(&s).parse::<IpAddr>().is_ok()
                || name_ok(host.strip_prefix("*.").unwrap_or(&host));
            prop_assert!(ok, "accepted {:?}", s);
        }
        Ok(())
    });
}
