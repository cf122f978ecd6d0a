//! Where an owner listens besides its private socket: [`Listen`], the
//! address a user types (`--listen tcp://127.0.0.1:3021`) and the one a
//! server reports once bound (the real port when 0 was asked for).
//!
//! An address names its transport, so one string says everything a client
//! needs: `tcp://` is plain HTTP/1.1, `https://` is the same over TLS,
//! `unix://` is another socket path, and `iroh://` is a peer-to-peer QUIC
//! endpoint (feature `iroh`; `iroh://?relay=off` for direct addresses
//! only), which once bound is shown as the `iroh://<ticket>` a client
//! dials. `http://` is taken as `tcp://`, the spelling a client's URL has. Parsing checks the shape only; whether the
//! address can be bound is known at [`Server::bind`](crate::server::Server::bind).

use std::{fmt, net::SocketAddr, path::PathBuf, str::FromStr};

use crate::error::StoreError;

/// One listener's address.
///
/// ```
/// use xs_core::server::Listen;
/// let listen: Listen = "tcp://127.0.0.1:3021".parse()?;
/// assert_eq!(listen.to_string(), "tcp://127.0.0.1:3021");
/// assert_eq!(listen.url().as_deref(), Some("http://127.0.0.1:3021"));
/// assert!("unix://relative/path".parse::<Listen>().is_err());
/// # Ok::<(), xs_core::StoreError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Listen {
    /// `tcp://host:port`: plain HTTP/1.1 over TCP.
    Tcp {
        /// A host name or IP address (IPv6 without brackets).
        host: String,
        /// The port; 0 binds a free one.
        port: u16,
    },
    /// `https://host:port`: HTTP/1.1 over TLS, with the server's
    /// certificate ([`Tls`](crate::server::Tls)).
    Https {
        /// A host name or IP address (IPv6 without brackets).
        host: String,
        /// The port; 0 binds a free one.
        port: u16,
    },
    /// `unix:///absolute/path`: another unix socket.
    Unix(PathBuf),
    /// `iroh://` or `iroh://?relay=off`: an iroh endpoint (feature `iroh`)
    /// with the store's key; once bound, `iroh://<ticket>`.
    Iroh {
        /// Use iroh's public relays (and put the home relay in the
        /// ticket); off, the ticket has direct addresses only.
        relay: bool,
        /// The ticket clients dial, once bound.
        ticket: Option<String>,
    },
}

impl Listen {
    /// The URL a client reaches this listener with (`http://…`,
    /// `https://…` or, once bound, `iroh://<ticket>`); `None` for a unix
    /// socket, which has no URL.
    pub fn url(&self) -> Option<String> {
        match self {
            Listen::Tcp { host, port } => Some(format!("http://{}:{port}", bracketed(host))),
            Listen::Https { host, port } => Some(format!("https://{}:{port}", bracketed(host))),
            Listen::Unix(_) => None,
            Listen::Iroh { ticket, .. } => ticket.as_ref().map(|ticket| format!("iroh://{ticket}")),
        }
    }

    /// The ticket of a bound `iroh://` listener.
    pub fn ticket(&self) -> Option<&str> {
        match self {
            Listen::Iroh { ticket, .. } => ticket.as_deref(),
            _ => None,
        }
    }

    /// The same kind of listener at the address it was bound to.
    pub(crate) fn bound_at(&self, addr: SocketAddr) -> Listen {
        let (host, port) = (addr.ip().to_string(), addr.port());
        match self {
            Listen::Tcp { .. } => Listen::Tcp { host, port },
            Listen::Https { .. } => Listen::Https { host, port },
            other => other.clone(),
        }
    }

    /// The host and port of a TCP or TLS listener.
    pub(crate) fn host_port(&self) -> Option<(&str, u16)> {
        match self {
            Listen::Tcp { host, port } | Listen::Https { host, port } => Some((host, *port)),
            Listen::Unix(_) | Listen::Iroh { .. } => None,
        }
    }
}

impl fmt::Display for Listen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Listen::Tcp { host, port } => write!(f, "tcp://{}:{port}", bracketed(host)),
            Listen::Https { host, port } => write!(f, "https://{}:{port}", bracketed(host)),
            Listen::Unix(path) => write!(f, "unix://{}", path.display()),
            Listen::Iroh { ticket: Some(ticket), .. } => write!(f, "iroh://{ticket}"),
            Listen::Iroh { ticket: None, relay: true } => f.write_str("iroh://"),
            Listen::Iroh { ticket: None, relay: false } => f.write_str("iroh://?relay=off"),
        }
    }
}

impl FromStr for Listen {
    type Err = StoreError;

    fn from_str(text: &str) -> Result<Listen, StoreError> {
        let invalid = |reason: &str| StoreError::InvalidListen { listen: text.to_string(), reason: reason.into() };
        let (scheme, rest) = text.split_once("://").ok_or_else(|| invalid("it has no scheme"))?;
        match scheme.to_ascii_lowercase().as_str() {
            "tcp" | "http" => host_port(rest).map(|(host, port)| Listen::Tcp { host, port }).map_err(invalid),
            "https" => host_port(rest).map(|(host, port)| Listen::Https { host, port }).map_err(invalid),
            "unix" if rest.starts_with('/') => Ok(Listen::Unix(PathBuf::from(rest))),
            "unix" => Err(invalid("a unix socket path must be absolute (unix:///path)")),
            "iroh" => iroh(rest).map_err(invalid),
            _ => Err(invalid("unknown scheme")),
        }
    }
}

/// `host:port`, `[v6]:port`, with at most a trailing `/`.
fn host_port(text: &str) -> Result<(String, u16), &'static str> {
    let text = text.strip_suffix('/').unwrap_or(text);
    let (host, port) = text.rsplit_once(':').ok_or("it has no port")?;
    let port = port.parse::<u16>().map_err(|_| "the port is not a number from 0 to 65535")?;
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.strip_suffix(']').ok_or("an IPv6 address needs its closing bracket")?,
        None if host.contains(':') => return Err("an IPv6 address goes in brackets: [::1]:port"),
        None => host,
    };
    if host.is_empty() || host.contains(['/', '@', '?', '#']) {
        return Err("the host is empty or not a plain host name");
    }
    Ok((host.to_string(), port))
}

/// `iroh://` with nothing or `?relay=on|off` after it.
fn iroh(rest: &str) -> Result<Listen, &'static str> {
    if !cfg!(feature = "iroh") {
        return Err("this xs was built without iroh (cargo feature `iroh`)");
    }
    let relay = match rest.strip_prefix('/').unwrap_or(rest) {
        "" | "?relay=on" => true,
        "?relay=off" => false,
        _ => return Err("an iroh listener is iroh:// or iroh://?relay=off (iroh://<ticket> is what clients dial)"),
    };
    Ok(Listen::Iroh { relay, ticket: None })
}

/// An IPv6 address in brackets, as URLs write it.
fn bracketed(host: &str) -> String {
    if host.contains(':') { format!("[{host}]") } else { host.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_displays_each_kind() {
        for (text, shown) in [
            ("tcp://127.0.0.1:3021", "tcp://127.0.0.1:3021"),
            ("http://localhost:0/", "tcp://localhost:0"),
            ("https://0.0.0.0:443", "https://0.0.0.0:443"),
            ("https://[::1]:8443", "https://[::1]:8443"),
            ("unix:///tmp/other.sock", "unix:///tmp/other.sock"),
        ] {
            let listen: Listen = text.parse().unwrap();
            assert_eq!(listen.to_string(), shown);
            assert_eq!(shown.parse::<Listen>().unwrap(), listen, "{shown} round-trips");
        }
    }

    #[test]
    fn rejects_malformed_addresses() {
        for bad in [
            "127.0.0.1:3021",
            "ftp://h:1",
            "tcp://h",
            "tcp://:80",
            "tcp://h:99999",
            "tcp://::1:80",
            "tcp://[::1:80",
            "unix://rel",
            "tcp://u@h:1",
        ] {
            assert!(matches!(bad.parse::<Listen>(), Err(StoreError::InvalidListen { .. })), "{bad}");
        }
    }

    #[cfg(feature = "iroh")]
    #[test]
    fn parses_iroh_listeners() {
        for (text, relay, shown) in [
            ("iroh://", true, "iroh://"),
            ("iroh:///?relay=off", false, "iroh://?relay=off"),
            ("IROH://?relay=on", true, "iroh://"),
        ] {
            let listen: Listen = text.parse().unwrap();
            assert_eq!((listen.clone(), listen.to_string()), (Listen::Iroh { relay, ticket: None }, shown.into()));
        }
        assert!(matches!("iroh://endpointabc".parse::<Listen>(), Err(StoreError::InvalidListen { .. })));
        let bound = Listen::Iroh { relay: false, ticket: Some("endpointabc".into()) };
        assert_eq!((bound.url().as_deref(), bound.ticket()), (Some("iroh://endpointabc"), Some("endpointabc")));
    }

    #[test]
    fn bound_addresses_carry_the_real_port() {
        let listen: Listen = "tcp://localhost:0".parse().unwrap();
        let bound = listen.bound_at("127.0.0.1:4567".parse().unwrap());
        assert_eq!(bound.url().as_deref(), Some("http://127.0.0.1:4567"));
    }
}
