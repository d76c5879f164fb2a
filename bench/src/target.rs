//! The server under test: a loopback URL.

use std::net::{Ipv4Addr, SocketAddr};

use crate::BenchError;

/// A parsed, loopback-only target URL (`http://` or `ws://`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Host as written (used in the `Host` header).
    pub host: String,
    /// Address to connect to.
    pub addr: SocketAddr,
    /// Path and query of the page, starting with `/`.
    pub path_and_query: String,
}

impl Target {
    /// Parses `http://host[:port][/path][?query]` (or `ws://…`), refusing hosts other than `localhost` and
    /// 127.0.0.0/8.
    pub fn parse(url: &str) -> Result<Self, BenchError> {
        let bad = |reason: &str| BenchError::BadUrl {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let rest = if let Some(r) = url.strip_prefix("http://") {
            r
        } else if let Some(r) = url.strip_prefix("ws://") {
            r
        } else if url.starts_with("https://") || url.starts_with("wss://") {
            return Err(bad(
                "TLS is not supported; use http:// on a loopback address",
            ));
        } else {
            return Err(bad("expected a url starting with http:// or ws://"));
        };
        let (authority, path_and_query) = match rest.find(['/', '?']) {
            Some(i) if rest[i..].starts_with('/') => (&rest[..i], rest[i..].to_owned()),
            Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
            None => (rest, "/".to_owned()),
        };
        let path_and_query = match path_and_query.find('#') {
            Some(i) => path_and_query[..i].to_owned(),
            None => path_and_query,
        };
        if authority.contains('@') {
            return Err(bad("credentials in the url are not supported"));
        }
        if authority.starts_with('[') {
            let host = authority.split(']').next().unwrap_or(authority);
            return Err(BenchError::NonLoopback(format!("{host}]")));
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (h, p.parse::<u16>().map_err(|_| bad("invalid port"))?),
            None => (authority, 80),
        };
        if host.is_empty() {
            return Err(bad("missing host"));
        }
        let ip = if host.eq_ignore_ascii_case("localhost") {
            Ipv4Addr::LOCALHOST
        } else {
            match host.parse::<Ipv4Addr>() {
                Ok(ip) if ip.is_loopback() => ip,
                _ => return Err(BenchError::NonLoopback(host.to_owned())),
            }
        };
        Ok(Self {
            host: host.to_owned(),
            addr: SocketAddr::from((ip, port)),
            path_and_query,
        })
    }

    /// The same target on another port (used when the server is spawned on a free port).
    pub fn with_port(&self, port: u16) -> Self {
        let mut t = self.clone();
        t.addr.set_port(port);
        t
    }

    /// Value of the `Host` header.
    pub fn host_header(&self) -> String {
        format!("{}:{}", self.host, self.addr.port())
    }

    /// The page URL (`http://…`).
    pub fn http_url(&self) -> String {
        format!("http://{}{}", self.host_header(), self.path_and_query)
    }

    /// The WebSocket URL (`ws://…`, same path and query as the page).
    pub fn ws_url(&self) -> String {
        format!("ws://{}{}", self.host_header(), self.path_and_query)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_loopback_urls() {
        let t = Target::parse("http://127.0.0.1:8080/counter?x=1").unwrap();
        assert_eq!(t.addr, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(t.path_and_query, "/counter?x=1");
        assert_eq!(t.ws_url(), "ws://127.0.0.1:8080/counter?x=1");

        let t = Target::parse("ws://localhost:3000").unwrap();
        assert_eq!(t.addr, "127.0.0.1:3000".parse().unwrap());
        assert_eq!(t.path_and_query, "/");
        assert_eq!(t.host_header(), "localhost:3000");

        let t = Target::parse("http://127.1.2.3?q=2#frag").unwrap();
        assert_eq!(t.addr.port(), 80);
        assert_eq!(t.path_and_query, "/?q=2");
    }

    #[test]
    fn refuses_non_loopback_hosts() {
        for url in [
            "http://10.0.0.1:80/",
            "http://example.com/",
            "http://0.0.0.0:8080/",
            "http://[::1]:8080/",
            "http://128.0.0.1/",
        ] {
            match Target::parse(url) {
                Err(BenchError::NonLoopback(_)) => {}
                other => panic!("{url}: expected NonLoopback, got {other:?}"),
            }
        }
    }

    #[test]
    fn rejects_malformed_urls() {
        for url in [
            "ftp://127.0.0.1/",
            "https://127.0.0.1/",
            "http://127.0.0.1:99999/",
            "http://:80/",
            "http://u:p@127.0.0.1/",
            "127.0.0.1:8080",
        ] {
            assert!(
                matches!(Target::parse(url), Err(BenchError::BadUrl { .. })),
                "{url} should be rejected"
            );
        }
    }
}
