//! Client addresses as throttle keys: one IPv6 host can hold a whole /64,
//! so IPv6 addresses are counted per network prefix.

use std::net::{IpAddr, Ipv6Addr};

/// The default length of the IPv6 prefix clients are grouped by: a /64 is
/// what one subscriber line or one cloud host is handed.
pub const DEFAULT_IPV6_PREFIX: u8 = 64;

/// The group a client address is counted in: an IPv4 address (also written
/// as an IPv4-mapped IPv6 address) is a group of its own; an IPv6 address
/// shares its group with every address that has the same first
/// `ipv6_prefix` bits (1 to 128; larger values count as 128).
///
/// ```
/// use std::net::IpAddr;
/// use auth_local_idp::address_group;
///
/// let one: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
/// let same_host: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
/// assert_eq!(address_group(one, 64), address_group(same_host, 64));
/// assert_eq!(address_group(one, 64), "2001:db8:1:2::/64");
///
/// let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
/// assert_eq!(address_group(mapped, 64), "192.0.2.7");
/// ```
pub fn address_group(ip: IpAddr, ipv6_prefix: u8) -> String {
    let v6 = match ip {
        IpAddr::V4(v4) => return v4.to_string(),
        IpAddr::V6(v6) => v6,
    };
    if let Some(v4) = v6.to_ipv4_mapped() {
        return v4.to_string();
    }
    let prefix = ipv6_prefix.clamp(1, 128);
    let mask = u128::MAX << (128 - u32::from(prefix));
    let network = Ipv6Addr::from(u128::from(v6) & mask);
    format!("{network}/{prefix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(ip: &str, prefix: u8) -> String {
        address_group(ip.parse().expect("an address"), prefix)
    }

    #[test]
    fn prefixes_group_exactly_their_bits() {
        assert_eq!(group("2001:db8::1", 128), "2001:db8::1/128");
        assert_eq!(group("2001:db8:ffff::1", 32), "2001:db8::/32");
        assert_ne!(group("2001:db8:0:1::1", 64), group("2001:db8:0:2::1", 64));
        assert_eq!(group("2001:db8:0:1::1", 48), group("2001:db8:0:2::1", 48));
        assert_eq!(group("ffff::1", 1), "8000::/1");
        assert_eq!(group("ffff::1", 0), "8000::/1");
        assert_eq!(group("ffff::1", 200), "ffff::1/128");
    }

    #[test]
    fn ipv4_is_never_grouped() {
        assert_eq!(group("192.0.2.7", 8), "192.0.2.7");
        assert_ne!(group("192.0.2.7", 64), group("192.0.2.8", 64));
        assert_eq!(group("::ffff:192.0.2.7", 64), group("192.0.2.7", 64));
    }
}
