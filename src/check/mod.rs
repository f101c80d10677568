//! The built-in test call: HTTPS requests as curl would make them, with `--resolve` and
//! `--connect-to` overrides and an extra CA bundle, so a call can go through a tunnel, a
//! bastion or the sandbox's local data plane. It calls APIs, never the AWS SDK.

use anyhow::{Context, Result, bail};
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// `HOST:PORT:ADDR` (curl's `--resolve`): connect to ADDR for HOST:PORT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolve {
    pub host: String,
    pub port: u16,
    pub addr: String,
}

/// `HOST:PORT:CONNECT_HOST:CONNECT_PORT` (curl's `--connect-to`); an empty HOST or PORT
/// matches any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectTo {
    pub host: String,
    pub port: Option<u16>,
    pub to_host: String,
    pub to_port: u16,
}

fn parse_port(text: &str, what: &str, arg: &str) -> Result<u16, String> {
    text.parse()
        .map_err(|_| format!("{what} '{text}' in '{arg}' is not a port number"))
}

impl std::str::FromStr for Resolve {
    type Err = String;
    fn from_str(arg: &str) -> Result<Self, String> {
        let mut parts = arg.splitn(3, ':');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(host), Some(port), Some(addr)) if !host.is_empty() && !addr.is_empty() => {
                let addr = addr.trim_start_matches('[').trim_end_matches(']');
                // As curl's: the address is dialled as given, never looked up.
                if addr.parse::<std::net::IpAddr>().is_err() {
                    return Err(format!(
                        "--resolve: '{addr}' in '{arg}' is not an IP address (e.g. 127.0.0.1 or [::1])"
                    ));
                }
                Ok(Self {
                    host: host.to_string(),
                    port: parse_port(port, "port", arg)?,
                    addr: addr.to_string(),
                })
            }
            _ => Err(format!(
                "--resolve takes HOST:PORT:ADDR (e.g. api.example.com:443:127.0.0.1), not '{arg}'"
            )),
        }
    }
}

impl std::str::FromStr for ConnectTo {
    type Err = String;
    fn from_str(arg: &str) -> Result<Self, String> {
        let parts: Vec<&str> = arg.split(':').collect();
        let [host, port, to_host, to_port] = parts[..] else {
            return Err(format!(
                "--connect-to takes HOST:PORT:CONNECT_HOST:CONNECT_PORT (e.g. ::127.0.0.1:8443), not '{arg}'"
            ));
        };
        if to_host.is_empty() {
            return Err(format!(
                "--connect-to: '{arg}' names no host to connect to (e.g. ::127.0.0.1:8443)"
            ));
        }
        Ok(Self {
            host: host.to_string(),
            port: if port.is_empty() {
                None
            } else {
                Some(parse_port(port, "port", arg)?)
            },
            to_host: to_host.to_string(),
            to_port: parse_port(to_port, "connect port", arg)?,
        })
    }
}

#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    pub resolve: Vec<Resolve>,
    pub connect_to: Vec<ConnectTo>,
    pub ca_bundle: Option<PathBuf>,
    pub timeout: Option<Duration>,
}

impl CheckOptions {
    /// What can be known wrong before any call is made: a CA bundle that cannot be read or
    /// holds no certificate. Named by its option, so nothing is retried in vain.
    pub fn validate(&self) -> Result<()> {
        if let Some(path) = &self.ca_bundle {
            ca_certificates(path)?;
        }
        Ok(())
    }
}

/// The certificates of a `--ca-bundle` file: at least one, each valid PEM.
fn ca_certificates(path: &std::path::Path) -> Result<Vec<reqwest::Certificate>> {
    let pem = std::fs::read(path)
        .with_context(|| format!("--ca-bundle: cannot read {}", path.display()))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
        anyhow::anyhow!(
            "--ca-bundle: {} is not a PEM certificate bundle ({e})",
            path.display()
        )
    })?;
    if certs.is_empty() {
        bail!(
            "--ca-bundle: {} holds no PEM certificate (expected -----BEGIN CERTIFICATE----- blocks)",
            path.display()
        );
    }
    Ok(certs)
}

/// The call never got a connection: the name did not resolve, or nothing listened where it
/// was sent. An API that is still warming up answers (5xx); this is the address, a tunnel or
/// a resolver to fix, and asking again does not help.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct NoConnection(String);

/// Whether `err` is a call that got no connection.
pub fn no_connection(err: &anyhow::Error) -> bool {
    err.chain().any(|e| e.is::<NoConnection>())
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub body: String,
    pub latency: Duration,
}

/// GET `url` with optional headers, honouring the overrides in `opts`.
pub async fn get(opts: &CheckOptions, url: &str, headers: &[(&str, &str)]) -> Result<Response> {
    let parsed = reqwest::Url::parse(url).with_context(|| format!("'{url}' is not a URL"))?;
    let host = parsed.host_str().unwrap_or_default().to_string();
    let port = parsed.port_or_known_default().unwrap_or(443);
    let mut target = parsed.clone();
    let mut builder = reqwest::Client::builder()
        .timeout(opts.timeout.unwrap_or(Duration::from_secs(30)))
        .redirect(reqwest::redirect::Policy::none());
    if let Some(path) = &opts.ca_bundle {
        for cert in ca_certificates(path)? {
            builder = builder.add_root_certificate(cert);
        }
    }
    let mut override_host = false;
    if let Some(c) = opts
        .connect_to
        .iter()
        .find(|c| (c.host.is_empty() || c.host == host) && c.port.is_none_or(|p| p == port))
    {
        // reqwest ignores the port of a resolved address, so the URL carries the new port
        // while the Host header and TLS name stay the original ones.
        let addr = lookup(&c.to_host, c.to_port)?;
        builder = builder.resolve(&host, addr);
        let _ = target.set_port(Some(c.to_port));
        override_host = true;
    } else if let Some(r) = opts
        .resolve
        .iter()
        .find(|r| r.host == host && r.port == port)
    {
        builder = builder.resolve(&host, lookup(&r.addr, port)?);
    }
    let client = builder.build().context("cannot set up the HTTPS client")?;
    let mut req = client.get(target);
    if override_host {
        req = req.header(reqwest::header::HOST, host.as_str());
    }
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let started = Instant::now();
    let resp = req.send().await.map_err(|e| {
        let what = format!("GET {url} failed: {}", chain(&e));
        if e.is_connect() {
            anyhow::Error::new(NoConnection(what))
        } else {
            anyhow::anyhow!(what)
        }
    })?;
    let status = resp.status().as_u16();
    let body = resp.text().await.unwrap_or_default();
    Ok(Response {
        status,
        body,
        latency: started.elapsed(),
    })
}

fn lookup(host: &str, port: u16) -> Result<SocketAddr> {
    match (host, port).to_socket_addrs()?.next() {
        Some(addr) => Ok(addr),
        None => bail!("cannot resolve {host}"),
    }
}

fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// True when `body` is the JSON document `expected` (key order and spacing aside).
pub fn same_json(body: &str, expected: &serde_json::Value) -> bool {
    serde_json::from_str::<serde_json::Value>(body).is_ok_and(|v| &v == expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_parse_as_curl_writes_them() {
        let r: Resolve = "api.example.com:443:127.0.0.1".parse().unwrap();
        assert_eq!(
            (r.host.as_str(), r.port, r.addr.as_str()),
            ("api.example.com", 443, "127.0.0.1")
        );
        let r: Resolve = "h:443:[::1]".parse().unwrap();
        assert_eq!(r.addr, "::1");
        let c: ConnectTo = "::127.0.0.1:8443".parse().unwrap();
        assert_eq!((c.host.as_str(), c.port, c.to_port), ("", None, 8443));
        assert!(
            "nonsense"
                .parse::<Resolve>()
                .unwrap_err()
                .contains("HOST:PORT:ADDR")
        );
        assert!(
            "a:b:c:d"
                .parse::<ConnectTo>()
                .unwrap_err()
                .contains("not a port")
        );
    }

    #[test]
    fn json_bodies_compare_by_value() {
        let widget = serde_json::json!({"id": "1", "value": "4.99"});
        assert!(same_json(r#"{ "value":"4.99", "id":"1" }"#, &widget));
        assert!(!same_json(r#"{"id":"1","value":"5.00"}"#, &widget));
        assert!(!same_json("not json", &widget));
    }
}
