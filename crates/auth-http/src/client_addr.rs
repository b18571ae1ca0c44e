//! The client address the throttles count: the connection's peer, or what
//! a trusted reverse proxy says it forwarded for.

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};

use http::HeaderMap;

use crate::config::LiveAuth;

/// Most `X-Forwarded-For` entries walked; a longer chain is cut there.
const MAX_FORWARDED_HOPS: usize = 32;

impl LiveAuth {
    /// The client address of a request from `peer` (`None` when the server
    /// does not record it): the peer itself, or, only when the peer is a
    /// trusted proxy, the right-most `X-Forwarded-For` entry that is not
    /// one. See [`LiveAuthBuilder::with_trusted_proxies`](crate::LiveAuthBuilder::with_trusted_proxies).
    pub fn client_address(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let Some(peer) = peer else {
            self.inner.warnings.no_peer_address();
            return None;
        };
        Some(client_address(peer, headers, &self.inner.trusted_proxies))
    }
}

/// Walking right to left, each entry was added by the hop after it; the
/// first entry not added by a trusted proxy is where the trusted chain
/// starts, so it is the client. An entry that is not an address stops the
/// walk at the last address vouched for.
fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &BTreeSet<IpAddr>) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.contains(&ip.to_canonical());
    let mut current = peer.to_canonical();
    if !is_trusted(current) {
        return current;
    }
    let mut hops = 0;
    for value in headers.get_all("x-forwarded-for").iter().rev() {
        let Ok(value) = value.to_str() else {
            return current;
        };
        for entry in value.rsplit(',') {
            hops += 1;
            let Some(ip) = parse_hop(entry.trim()) else {
                return current;
            };
            if !is_trusted(ip) || hops >= MAX_FORWARDED_HOPS {
                return ip;
            }
            current = ip;
        }
    }
    current
}

/// One `X-Forwarded-For` entry: an address, optionally with a port.
fn parse_hop(entry: &str) -> Option<IpAddr> {
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|addr| addr.ip()))
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let peer: IpAddr = "203.0.113.9".parse().unwrap();
        let headers = forwarded(&["198.51.100.1"]);
        assert_eq!(client_address(peer, &headers, &BTreeSet::new()), peer);
    }

    #[test]
    fn behind_trusted_proxies_the_first_untrusted_hop_from_the_right_wins() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let inner: IpAddr = "10.0.0.2".parse().unwrap();
        let trusted = BTreeSet::from([proxy, inner]);
        let headers = forwarded(&["6.6.6.6, 198.51.100.7", "10.0.0.2"]);
        assert_eq!(
            client_address(proxy, &headers, &trusted),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        let garbage = forwarded(&["nonsense", "10.0.0.2"]);
        assert_eq!(client_address(proxy, &garbage, &trusted), inner);
        let ported = forwarded(&["198.51.100.7:4000"]);
        assert_eq!(
            client_address(proxy, &ported, &trusted),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
    }
}
