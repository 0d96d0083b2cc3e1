//! IP allow-list rules: a single address (IPv4 or IPv6) or a network in CIDR form, and whether an
//! account's rules let a client address in.

use std::net::IpAddr;

use ipnet::IpNet;

/// A rule's value read as a network: an address is a network of one. The host bits of a CIDR value are
/// cleared (`10.1.2.3/8` is `10.0.0.0/8`). None for anything else (names, ranges, masks, zones).
pub fn parse(value: &str) -> Option<IpNet> {
    let value = value.trim();
    if value.contains('/') {
        return value.parse::<IpNet>().ok().map(|net| net.trunc());
    }
    value.parse::<IpAddr>().ok().map(IpNet::from)
}

/// How a rule is stored and answered: an address alone, or `network/prefix`.
pub fn normalised(net: &IpNet) -> String {
    if net.prefix_len() == net.max_prefix_len() {
        net.addr().to_string()
    } else {
        net.to_string()
    }
}

/// The rule's `type` as the API answers it: `ip` for one address, `cidr` for a network.
pub fn kind(net: &IpNet) -> &'static str {
    if net.prefix_len() == net.max_prefix_len() {
        "ip"
    } else {
        "cidr"
    }
}

/// Whether `client` may reach an account with these rules: anyone when there are none (as in CodeArts),
/// else an address some rule covers. An IPv4 client seen on an IPv6 socket (`::ffff:a.b.c.d`) is matched
/// as the IPv4 address it is.
pub fn admits(rules: &[IpNet], client: IpAddr) -> bool {
    rules.is_empty() || rules.iter().any(|net| net.contains(&client.to_canonical()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(values: &[&str]) -> Vec<IpNet> {
        values.iter().map(|v| parse(v).unwrap()).collect()
    }

    #[test]
    fn values_are_addresses_or_networks() {
        assert_eq!(normalised(&parse("10.1.2.3/8").unwrap()), "10.0.0.0/8");
        assert_eq!(normalised(&parse(" 192.0.2.7 ").unwrap()), "192.0.2.7");
        assert_eq!(normalised(&parse("192.0.2.7/32").unwrap()), "192.0.2.7");
        assert_eq!(
            normalised(&parse("2001:db8::1/48").unwrap()),
            "2001:db8::/48"
        );
        assert_eq!(kind(&parse("::1").unwrap()), "ip");
        assert_eq!(kind(&parse("fd00::/8").unwrap()), "cidr");
        for bad in [
            "",
            "example.com",
            "10.0.0.0/33",
            "10.0.0.1-10.0.0.9",
            "1.2.3",
            "fe80::1%eth0",
            "10.0.0.0/255.0.0.0",
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn rules_admit_the_addresses_they_cover() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(admits(&[], ip("203.0.113.9")), "no rules: everyone");
        let rules = nets(&["127.0.0.1", "10.0.0.0/8", "2001:db8::/32"]);
        assert!(admits(&rules, ip("127.0.0.1")));
        assert!(!admits(&rules, ip("127.0.0.2")));
        assert!(admits(&rules, ip("10.200.0.1")));
        assert!(admits(&rules, ip("::ffff:10.0.0.1")), "IPv4-mapped");
        assert!(admits(&rules, ip("2001:db8:1::5")));
        assert!(!admits(&rules, ip("2001:db9::5")));
        assert!(!admits(&rules, ip("::1")));
    }
}
