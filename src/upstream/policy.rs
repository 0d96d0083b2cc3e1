//! Which addresses an upstream request may reach. A remote repository is a way to make arca send requests,
//! so every address it would connect to (the remote URL's, each redirect's, the outbound proxy's) is
//! classified here first. Pure: no I/O.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What an address is, as far as the policy cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressClass {
    Public,
    /// `127.0.0.0/8`, `::1`.
    Loopback,
    /// RFC 1918, `fc00::/7` (and the deprecated site-local `fec0::/10`), `192.0.0.0/24`, the
    /// benchmarking `198.18.0.0/15` and the local-use NAT64 prefix: networks of one site, not the Internet.
    Private,
    /// `100.64.0.0/10`, carrier-grade NAT: inside a provider's network.
    SharedCgnat,
    /// `169.254.0.0/16`, `fe80::/10`: where cloud metadata services answer.
    LinkLocal,
    /// Metadata services that live outside link-local: AWS's IPv6 `fd00:ec2::254`, Alibaba's
    /// `100.100.100.200`, Oracle's `192.0.0.192`.
    CloudMetadata,
    /// `0.0.0.0/8`, `::`: "this host" to most stacks.
    Unspecified,
    Multicast,
    Broadcast,
    /// `192.0.2.0/24`, `198.51.100.0/24`, `203.0.113.0/24`, `2001:db8::/32`, `3fff::/20`.
    Documentation,
    /// `240.0.0.0/4`, the 6to4 relay anycast, the discard prefix `100::/64`, Teredo `2001::/32`.
    Reserved,
}

impl AddressClass {
    /// Refused unless private networks are allowed; every other non-public class is always refused.
    pub fn is_private(self) -> bool {
        matches!(
            self,
            AddressClass::Loopback | AddressClass::Private | AddressClass::SharedCgnat
        )
    }

    pub fn describe(self) -> &'static str {
        match self {
            AddressClass::Public => "a public address",
            AddressClass::Loopback => "a loopback address",
            AddressClass::Private => "a private network address",
            AddressClass::SharedCgnat => "a shared (carrier-grade NAT) address",
            AddressClass::LinkLocal => {
                "a link-local address (where cloud metadata services answer)"
            }
            AddressClass::CloudMetadata => "a cloud metadata service address",
            AddressClass::Unspecified => "an unspecified address",
            AddressClass::Multicast => "a multicast address",
            AddressClass::Broadcast => "the broadcast address",
            AddressClass::Documentation => "a documentation address",
            AddressClass::Reserved => "a reserved address",
        }
    }
}

/// The deny list in force: link-local and the other special ranges always, loopback and private networks
/// unless `allow_private_networks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressPolicy {
    pub allow_private_networks: bool,
}

impl AddressPolicy {
    pub fn check(self, ip: IpAddr) -> Result<(), AddressClass> {
        match classify(ip) {
            AddressClass::Public => Ok(()),
            class if class.is_private() && self.allow_private_networks => Ok(()),
            class => Err(class),
        }
    }
}

/// Classifies an address after undoing the IPv6 forms that carry an IPv4 address a stack would reach
/// (`::ffff:169.254.169.254` is link-local, whatever its spelling).
pub fn classify(ip: IpAddr) -> AddressClass {
    match canonical(ip) {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

/// IPv4-mapped (`::ffff:a.b.c.d`), IPv4-translated (`::ffff:0:a.b.c.d`), IPv4-compatible (`::a.b.c.d`,
/// deprecated but still routed by some stacks) and NAT64 well-known-prefix (`64:ff9b::a.b.c.d`) addresses
/// become the IPv4 address they reach. `::` and `::1` stay IPv6's own.
pub fn canonical(ip: IpAddr) -> IpAddr {
    let IpAddr::V6(v6) = ip else { return ip };
    let s = v6.segments();
    let embedded = Ipv4Addr::from(((s[6] as u32) << 16) | s[7] as u32);
    let carries_v4 = match s[..6] {
        [0, 0, 0, 0, 0, 0xffff] | [0, 0, 0, 0, 0xffff, 0] | [0x64, 0xff9b, 0, 0, 0, 0] => true,
        [0, 0, 0, 0, 0, 0] => !(v6.is_unspecified() || v6.is_loopback()),
        _ => false,
    };
    if carries_v4 {
        IpAddr::V4(embedded)
    } else {
        ip
    }
}

const METADATA_V4: [Ipv4Addr; 2] = [
    Ipv4Addr::new(100, 100, 100, 200),
    Ipv4Addr::new(192, 0, 0, 192),
];
const METADATA_V6: [Ipv6Addr; 1] = [Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)];

fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    if METADATA_V4.contains(&ip) {
        return AddressClass::CloudMetadata;
    }
    match ip.octets() {
        [0, ..] => AddressClass::Unspecified,
        [127, ..] => AddressClass::Loopback,
        [169, 254, ..] => AddressClass::LinkLocal,
        [10, ..] | [192, 168, ..] | [192, 0, 0, _] | [198, 18 | 19, ..] => AddressClass::Private,
        [172, b, ..] if (16..=31).contains(&b) => AddressClass::Private,
        [100, b, ..] if (64..=127).contains(&b) => AddressClass::SharedCgnat,
        [192, 0, 2, _] | [198, 51, 100, _] | [203, 0, 113, _] => AddressClass::Documentation,
        [192, 88, 99, _] => AddressClass::Reserved,
        [255, 255, 255, 255] => AddressClass::Broadcast,
        [224..=239, ..] => AddressClass::Multicast,
        [240..=255, ..] => AddressClass::Reserved,
        _ => AddressClass::Public,
    }
}

fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    if METADATA_V6.contains(&ip) {
        return AddressClass::CloudMetadata;
    }
    if ip.is_unspecified() {
        return AddressClass::Unspecified;
    }
    if ip.is_loopback() {
        return AddressClass::Loopback;
    }
    let s = ip.segments();
    match s[0] {
        x if x & 0xffc0 == 0xfe80 => return AddressClass::LinkLocal,
        x if x & 0xffc0 == 0xfec0 => return AddressClass::Private,
        x if x & 0xfe00 == 0xfc00 => return AddressClass::Private,
        x if x & 0xff00 == 0xff00 => return AddressClass::Multicast,
        _ => {}
    }
    match s {
        [0x2001, 0x0db8, ..] => AddressClass::Documentation,
        [0x3fff, b, ..] if b < 0x1000 => AddressClass::Documentation,
        [0x0064, 0xff9b, 0x0001, ..] => AddressClass::Private,
        [0x0100, 0, 0, 0, ..] => AddressClass::Reserved,
        [0x2001, 0, ..] => AddressClass::Reserved,
        // 6to4 reaches the IPv4 address in bits 16..48; it is as good as that address.
        [0x2002, hi, lo, ..] => {
            match classify_v4(Ipv4Addr::from(((hi as u32) << 16) | lo as u32)) {
                AddressClass::Public => AddressClass::Public,
                class => class,
            }
        }
        _ => AddressClass::Public,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(s: &str) -> AddressClass {
        classify(s.parse().unwrap())
    }

    #[test]
    fn ranges_are_classified() {
        use AddressClass::*;
        let table = [
            ("8.8.8.8", Public),
            ("1.1.1.1", Public),
            ("172.32.0.1", Public),
            ("172.15.255.255", Public),
            ("100.63.255.255", Public),
            ("100.128.0.0", Public),
            ("169.253.255.255", Public),
            ("2606:4700:4700::1111", Public),
            ("2a00:1450:4001::200e", Public),
            ("127.0.0.1", Loopback),
            ("127.255.255.254", Loopback),
            ("::1", Loopback),
            ("10.0.0.1", Private),
            ("172.16.0.1", Private),
            ("172.31.255.255", Private),
            ("192.168.1.1", Private),
            ("198.18.0.1", Private),
            ("fc00::1", Private),
            ("fd12:3456::1", Private),
            ("fec0::1", Private),
            ("64:ff9b:1::a", Private),
            ("100.64.0.1", SharedCgnat),
            ("100.127.255.255", SharedCgnat),
            ("169.254.169.254", LinkLocal),
            ("169.254.0.1", LinkLocal),
            ("fe80::1", LinkLocal),
            ("febf::1", LinkLocal),
            ("fd00:ec2::254", CloudMetadata),
            ("100.100.100.200", CloudMetadata),
            ("192.0.0.192", CloudMetadata),
            ("0.0.0.0", Unspecified),
            ("0.1.2.3", Unspecified),
            ("::", Unspecified),
            ("224.0.0.1", Multicast),
            ("239.255.255.250", Multicast),
            ("ff02::1", Multicast),
            ("255.255.255.255", Broadcast),
            ("240.0.0.1", Reserved),
            ("100::1", Reserved),
            ("2001::1", Reserved),
            ("192.0.2.10", Documentation),
            ("198.51.100.1", Documentation),
            ("203.0.113.7", Documentation),
            ("2001:db8::1", Documentation),
            ("3fff::1", Documentation),
        ];
        for (address, expected) in table {
            assert_eq!(class(address), expected, "{address}");
        }
    }

    #[test]
    fn ipv6_spellings_of_ipv4_addresses_are_undone() {
        use AddressClass::*;
        for (address, expected) in [
            ("::ffff:169.254.169.254", LinkLocal),
            ("::ffff:a9fe:a9fe", LinkLocal),
            ("::ffff:0:169.254.169.254", LinkLocal),
            ("::169.254.169.254", LinkLocal),
            ("64:ff9b::169.254.169.254", LinkLocal),
            ("2002:a9fe:a9fe::1", LinkLocal),
            ("::ffff:127.0.0.1", Loopback),
            ("::127.0.0.1", Loopback),
            ("2002:7f00:1::", Loopback),
            ("::ffff:10.1.2.3", Private),
            ("::ffff:0.0.0.0", Unspecified),
            ("::ffff:8.8.8.8", Public),
            ("64:ff9b::8.8.8.8", Public),
            ("2002:808:808::1", Public),
        ] {
            assert_eq!(class(address), expected, "{address}");
        }
        // `::1` and `::` are IPv6's own loopback and unspecified, not 0.0.0.1 and 0.0.0.0.
        assert_eq!(
            canonical("::1".parse().unwrap()),
            "::1".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn the_switch_opens_private_ranges_only() {
        let strict = AddressPolicy {
            allow_private_networks: false,
        };
        let open = AddressPolicy {
            allow_private_networks: true,
        };
        for private in ["127.0.0.1", "::1", "10.0.0.1", "fd00::1", "100.64.0.1"] {
            let ip = private.parse().unwrap();
            assert!(strict.check(ip).is_err(), "{private}");
            assert!(open.check(ip).is_ok(), "{private}");
        }
        for never in [
            "169.254.169.254",
            "::ffff:169.254.169.254",
            "fe80::1",
            "fd00:ec2::254",
            "100.100.100.200",
            "0.0.0.0",
            "::",
            "224.0.0.1",
            "255.255.255.255",
            "192.0.2.1",
        ] {
            assert!(open.check(never.parse().unwrap()).is_err(), "{never}");
        }
        assert!(strict.check("93.184.215.14".parse().unwrap()).is_ok());
    }
}
