//! `open_params`: where an open instance reads from. A file to replay, or the WebSocket
//! address of an LDP stream ([`super::TailUrl`]).

use super::redact::scrub_secrets;
use super::url::{strip_prefix_ci, TailUrl};
use std::fmt;
use std::path::PathBuf;

/// Where an open instance reads from, parsed from `open_params`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceSpec {
    /// A live LDP WebSocket tail.
    Tail(TailUrl),
    /// A local file replayed once, then EOF.
    File(PathBuf),
}

impl SourceSpec {
    /// Parses `open_params`. Errors say what is wrong and never contain the token.
    pub fn parse(params: Option<&str>) -> Result<Self, String> {
        let text = params.unwrap_or("");
        Self::parse_unscrubbed(text).map_err(|e| scrub_secrets(&e, text))
    }

    fn parse_unscrubbed(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("open_params is empty: set it to the LDP WebSocket address of the audit-log stream (e.g. gra1.logs.ovh.com/tail/?tk=<token>, from the OVHcloud console: Monitor in real-time → Copy WebSocket address), or to a file to replay".into());
        }
        if let Some(rest) = strip_prefix_ci(text, "file://") {
            let path = rest.strip_prefix("localhost").unwrap_or(rest);
            return Self::file(PathBuf::from(path));
        }
        let looks_like_path = text.starts_with('/')
            || text.starts_with("./")
            || text.starts_with("../")
            || (!text.contains("://")
                && !text.contains('?')
                && std::path::Path::new(text).is_file());
        if looks_like_path {
            return Self::file(PathBuf::from(text));
        }
        TailUrl::parse(text).map(SourceSpec::Tail)
    }

    fn file(path: PathBuf) -> Result<Self, String> {
        if path.as_os_str().is_empty() {
            return Err(
                "open_params: file:// needs a path, e.g. file:///var/log/audit.jsonl".into(),
            );
        }
        if !path.is_file() {
            return Err(format!(
                "open_params: {} is not a readable file; give the path of a JSON-lines replay file, or the LDP WebSocket address",
                path.display()
            ));
        }
        Ok(SourceSpec::File(path))
    }
}

impl fmt::Display for SourceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceSpec::Tail(url) => write!(f, "{url}"),
            SourceSpec::File(path) => write!(f, "file {}", path.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "00000000-fake-fake-fake-000000000000";

    #[test]
    fn refused_forms_say_what_is_wrong() {
        assert!(SourceSpec::parse(None).unwrap_err().contains("empty"));
        assert!(SourceSpec::parse(Some("  ")).unwrap_err().contains("empty"));
        let err =
            SourceSpec::parse(Some(&format!("https://gra1.logs.ovh.com/?tk={TOKEN}"))).unwrap_err();
        assert!(err.contains("unsupported scheme"), "{err}");
        assert!(!err.contains(TOKEN), "{err}");
        // Found by fuzzing: no part of a mangled paste is echoed back with its token.
        for pasted in [
            format!("h:2{TOKEN}/x?tk={TOKEN}"),
            format!("ws://{TOKEN}/?tk={TOKEN}"),
            format!("/tail/?tk={TOKEN}"),
            format!("wss://bad host/?tk={TOKEN}"),
            "\u{4}\u{4}?z./<tk=e&cttk=c&ted/?tk=?tk=d&tk=r&tk=a&tk=<".repeat(20),
        ] {
            let err = SourceSpec::parse(Some(&pasted)).unwrap_err();
            assert!(!err.contains(TOKEN), "{pasted}: {err}");
        }
        let err = SourceSpec::parse(Some(&format!("{TOKEN}://h/"))).unwrap_err();
        assert!(err.contains("unsupported scheme;"), "{err}");
        assert!(!err.contains(TOKEN), "{err}");
        let err = SourceSpec::parse(Some("wss://host:99999/")).unwrap_err();
        assert!(err.contains("port"), "{err}");
        let err = SourceSpec::parse(Some("/no/such/file.jsonl")).unwrap_err();
        assert!(err.contains("not a readable file"), "{err}");
        let err = SourceSpec::parse(Some("wss://bad host/")).unwrap_err();
        assert!(err.contains("spaces") || err.contains("host"), "{err}");
    }

    #[test]
    fn file_forms() {
        let path = std::env::temp_dir().join(format!(
            "k8saudit-ovh-config-test-{}.jsonl",
            std::process::id()
        ));
        std::fs::write(&path, "{}\n").unwrap();
        let p = path.to_str().unwrap();
        assert_eq!(
            SourceSpec::parse(Some(p)).unwrap(),
            SourceSpec::File(path.clone())
        );
        assert_eq!(
            SourceSpec::parse(Some(&format!("file://{p}"))).unwrap(),
            SourceSpec::File(path.clone())
        );
        std::fs::remove_file(&path).unwrap();
    }
}
