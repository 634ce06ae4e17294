//! `open_params`: where an open instance reads from. One source (a file to replay, or the
//! WebSocket address of an LDP stream, [`super::TailUrl`]), or several, each with the name of
//! its cluster: a JSON array of `{"url": ..., "clusterName": ...}`.

use super::redact::scrub_secrets;
use super::url::{strip_prefix_ci, TailUrl};
use serde_json::Value;
use std::fmt;
use std::path::PathBuf;

/// The streams an open instance reads, parsed from `open_params`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenParams {
    pub streams: Vec<StreamSpec>,
}

/// One stream of `open_params`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamSpec {
    pub source: SourceSpec,
    /// `clusterName` of the array form: the stream's `ka.cluster.name`, and the name its
    /// logs and metrics go by. None for the single forms.
    pub cluster_name: Option<String>,
}

impl StreamSpec {
    /// `clusterName` made fit for metric names: ASCII letters, digits and `_`.
    pub fn metric_prefix(&self) -> Option<String> {
        self.cluster_name.as_deref().map(metric_prefix)
    }
}

/// `name` with every character but ASCII letters, digits and `_` as `_`.
pub fn metric_prefix(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// Longest `clusterName`, as `init_config.clusterName`.
const MAX_CLUSTER_NAME: usize = 256;

impl OpenParams {
    /// Parses `open_params`: one of the single forms ([`SourceSpec::parse`]), or a JSON
    /// array of `{"url": <a single form>, "clusterName": <unique name>}`. Errors say what is
    /// wrong (naming the element) and never contain a token.
    pub fn parse(params: Option<&str>) -> Result<Self, String> {
        let text = params.unwrap_or("");
        if !text.trim_start().starts_with('[') {
            let source = SourceSpec::parse(params)?;
            return Ok(OpenParams {
                streams: vec![StreamSpec {
                    source,
                    cluster_name: None,
                }],
            });
        }
        Self::parse_array(text).map_err(|e| scrub_secrets(&e, text))
    }

    fn parse_array(text: &str) -> Result<Self, String> {
        let form = "a JSON array of {\"url\": ..., \"clusterName\": ...}";
        let elements = match serde_json::from_str::<Value>(text) {
            Ok(Value::Array(a)) if !a.is_empty() => a,
            Ok(Value::Array(_)) => {
                return Err(format!(
                    "open_params is an empty array; give {form}, one per stream"
                ))
            }
            // serde_json's message quotes no input, only a line and column.
            Err(e) => {
                return Err(format!(
                    "open_params starts with '[' but is not valid JSON ({e}); give {form}"
                ))
            }
            Ok(_) => unreachable!("text starting with '[' parses to an array or fails"),
        };
        let mut streams: Vec<StreamSpec> = Vec::with_capacity(elements.len());
        for (i, element) in elements.iter().enumerate() {
            let stream = Self::element(i, element)?;
            let name = stream.cluster_name.as_deref().unwrap_or_default();
            for (j, other) in streams.iter().enumerate() {
                let other_name = other.cluster_name.as_deref().unwrap_or_default();
                if other_name == name {
                    return Err(format!("open_params element {i} (clusterName {name:?}): clusterName {name:?} is already element {j}'s; each stream needs its own"));
                }
                if metric_prefix(other_name) == metric_prefix(name) {
                    return Err(format!("open_params element {i} (clusterName {name:?}): its metrics would be named like element {j}'s ({other_name:?}): both give {:?}; rename one", metric_prefix(name)));
                }
                if other.source == stream.source {
                    return Err(format!("open_params element {i} (clusterName {name:?}) has the same url as element {j} ({other_name:?}); each stream once"));
                }
            }
            streams.push(stream);
        }
        Ok(OpenParams { streams })
    }

    /// Element `i` of the array form.
    fn element(i: usize, element: &Value) -> Result<StreamSpec, String> {
        let Value::Object(fields) = element else {
            return Err(format!("open_params element {i} is not an object; give {{\"url\": ..., \"clusterName\": ...}}"));
        };
        let name = match fields.get("clusterName") {
            Some(Value::String(n)) if !n.trim().is_empty() && n.chars().count() <= MAX_CLUSTER_NAME => n.clone(),
            Some(Value::String(n)) if !n.trim().is_empty() => return Err(format!("open_params element {i}: clusterName is longer than {MAX_CLUSTER_NAME} characters")),
            Some(_) => return Err(format!("open_params element {i}: clusterName must be a non-empty string")),
            None => return Err(format!("open_params element {i} has no clusterName; every stream needs one (it becomes ka.cluster.name)")),
        };
        let at = format!("open_params element {i} (clusterName {name:?})");
        if let Some(other) = fields.keys().find(|k| *k != "url" && *k != "clusterName") {
            return Err(format!(
                "{at} has an unknown key {other:?}; allowed: url, clusterName"
            ));
        }
        let url = match fields.get("url") {
            Some(Value::String(u)) => u,
            Some(_) => return Err(format!("{at}: url must be a string")),
            None => return Err(format!("{at} has no url")),
        };
        let source = SourceSpec::parse(Some(url)).map_err(|e| {
            format!(
                "{at}: {}",
                e.trim_start_matches("open_params")
                    .trim_start_matches([':', ' '])
            )
        })?;
        Ok(StreamSpec {
            source,
            cluster_name: Some(name),
        })
    }
}

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
    fn single_forms_are_one_stream_without_a_cluster_name() {
        let p = OpenParams::parse(Some(&format!("gra1.logs.ovh.com/tail/?tk={TOKEN}"))).unwrap();
        assert_eq!(p.streams.len(), 1);
        assert_eq!(p.streams[0].cluster_name, None);
        assert!(matches!(p.streams[0].source, SourceSpec::Tail(_)));
    }

    #[test]
    fn the_array_form_names_each_stream() {
        let text = format!(
            r#" [{{"clusterName":"prod-gra","url":"gra1.logs.ovh.com/tail/?tk={TOKEN}"}},
               {{"url":"wss://bhs1.logs.ovh.com/tail/?tk=other","clusterName":"staging"}}]"#
        );
        let p = OpenParams::parse(Some(&text)).unwrap();
        let names: Vec<_> = p
            .streams
            .iter()
            .map(|s| s.cluster_name.clone().unwrap())
            .collect();
        assert_eq!(names, ["prod-gra", "staging"]);
        assert_eq!(p.streams[0].metric_prefix().as_deref(), Some("prod_gra"));
        let SourceSpec::Tail(url) = &p.streams[1].source else {
            panic!("a tail")
        };
        assert_eq!(url.host(), "bhs1.logs.ovh.com");
    }

    #[test]
    fn array_errors_name_the_element_and_never_the_token() {
        let tail = |name: &str, tk: &str| {
            format!(r#"{{"clusterName":"{name}","url":"gra1.logs.ovh.com/tail/?tk={tk}"}}"#)
        };
        for (text, needles) in [
            ("[]".to_owned(), vec!["empty array"]),
            ("[1".to_owned(), vec!["not valid JSON"]),
            (
                format!("[{}, 7]", tail("a", TOKEN)),
                vec!["element 1", "not an object"],
            ),
            (
                format!(r#"[{{"url":"gra1.logs.ovh.com/tail/?tk={TOKEN}"}}]"#),
                vec!["element 0", "no clusterName"],
            ),
            (
                r#"[{"clusterName":" ","url":"x"}]"#.to_owned(),
                vec!["element 0", "non-empty string"],
            ),
            (
                format!("[{}, {}]", tail("prod", TOKEN), tail("prod", "other")),
                vec!["element 1", "\"prod\"", "already element 0"],
            ),
            (
                format!("[{}, {}]", tail("prod-1", TOKEN), tail("prod_1", "other")),
                vec!["element 1", "prod_1", "metrics"],
            ),
            (
                format!("[{}, {}]", tail("a", TOKEN), tail("b", TOKEN)),
                vec!["element 1", "\"b\"", "same url as element 0"],
            ),
            (
                format!(r#"[{{"clusterName":"a","url":"https://h/?tk={TOKEN}"}}]"#),
                vec!["element 0", "\"a\"", "unsupported scheme"],
            ),
            (
                format!(r#"[{{"clusterName":"a","url":"ws://8.8.8.8/?tk={TOKEN}"}}]"#),
                vec!["element 0", "loopback"],
            ),
            (
                format!(r#"[{{"clusterName":"a","url":"{TOKEN}","tk":"{TOKEN}"}}]"#),
                vec!["element 0", "unknown key"],
            ),
            (
                format!("[{}]", tail(&"n".repeat(MAX_CLUSTER_NAME + 1), TOKEN)),
                vec!["element 0", "longer than"],
            ),
        ] {
            let err = OpenParams::parse(Some(&text)).unwrap_err();
            assert!(!err.contains(TOKEN), "{err}");
            for n in needles {
                assert!(err.contains(n), "{n:?} in {err}");
            }
        }
    }

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
    fn a_cluster_name_of_the_longest_length_is_accepted() {
        let name = "n".repeat(MAX_CLUSTER_NAME);
        let text =
            format!(r#"[{{"clusterName":"{name}","url":"gra1.logs.ovh.com/tail/?tk={TOKEN}"}}]"#);
        let p = OpenParams::parse(Some(&text)).unwrap();
        assert_eq!(p.streams[0].cluster_name.as_deref(), Some(name.as_str()));
    }

    #[test]
    fn relative_paths_are_files_and_a_bare_address_is_an_address() {
        // A path that starts like one is a file, existing or not: the error says so.
        for path in ["./no-such-replay.jsonl", "../no-such-replay.jsonl"] {
            let err = SourceSpec::parse(Some(path)).unwrap_err();
            assert!(err.contains("not a readable file"), "{path}: {err}");
        }
        // Without a scheme nor a query, only an existing file is a file (cargo runs tests
        // in the package's directory); the rest is an address.
        assert_eq!(
            SourceSpec::parse(Some("Cargo.toml")).unwrap(),
            SourceSpec::File(PathBuf::from("Cargo.toml"))
        );
        let parsed = SourceSpec::parse(Some("gra1.logs.ovh.com/tail/"));
        assert!(matches!(parsed, Ok(SourceSpec::Tail(_))), "{parsed:?}");
    }

    #[test]
    fn a_source_shows_as_its_redacted_address_or_its_file() {
        let tail = SourceSpec::parse(Some(&format!("gra1.logs.ovh.com/tail/?tk={TOKEN}"))).unwrap();
        let shown = tail.to_string();
        assert!(shown.contains("gra1.logs.ovh.com/tail/"), "{shown}");
        assert!(!shown.contains(TOKEN), "{shown}");
        let file = SourceSpec::File(PathBuf::from("/var/log/replay.jsonl"));
        assert_eq!(file.to_string(), "file /var/log/replay.jsonl");
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
