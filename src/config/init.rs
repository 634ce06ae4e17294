//! `init_config`: typed, and validated by reading `config.schema.json` itself.
//!
//! The schema file is the single source of truth: the plugin serves it verbatim to Falco
//! (which validates `init_config` with it before `init`), and [`InitConfig::parse`] checks
//! keys, types and ranges from the same document, so the two cannot drift apart. What this
//! adds to Falco's check: our own messages, the checks across keys and of the files named,
//! and the same validation for hosts that do not validate (`docs/decisions.md`).

use serde_json::{Map, Value};
use std::ffi::CStr;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

/// `config.schema.json`, NUL-terminated for the plugin API.
pub const SCHEMA_CSTR: &CStr = {
    const TEXT: &str = concat!(include_str!("../../config.schema.json"), "\0");
    match CStr::from_bytes_with_nul(TEXT.as_bytes()) {
        Ok(s) => s,
        Err(_) => panic!("config.schema.json contains a NUL byte"),
    }
};

/// The schema text, without the NUL.
pub fn schema_text() -> &'static str {
    include_str!("../../config.schema.json")
}

fn schema_properties() -> &'static Map<String, Value> {
    static PROPS: OnceLock<Map<String, Value>> = OnceLock::new();
    PROPS.get_or_init(|| {
        serde_json::from_str::<Value>(schema_text())
            .ok()
            .and_then(|v| v.get("properties").and_then(Value::as_object).cloned())
            .unwrap_or_default()
    })
}

/// Validated `init_config`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitConfig {
    /// Largest audit event passed to Falco, in bytes.
    pub max_event_size: usize,
    /// Fallback for `ka.cluster.name`; empty means none.
    pub cluster_name: String,
    /// Keepalive Ping period.
    pub ping_interval: Duration,
    /// No frame and no Pong for this long: the connection is dead.
    pub dead_timeout: Duration,
    /// Budget for TCP connect + TLS + WebSocket upgrade.
    pub connect_timeout: Duration,
    /// First reconnect delay.
    pub reconnect_min_backoff: Duration,
    /// Largest reconnect delay.
    pub reconnect_max_backoff: Duration,
    /// Bound of the queue between the reader thread and `next_batch`, in events.
    pub max_queued_events: usize,
    /// Extra CA certificates (PEM) for wss.
    pub ca_cert_file: Option<PathBuf>,
    /// Replay the missed window after a reconnection.
    pub backfill: bool,
    /// Longest gap replayed.
    pub backfill_max: Duration,
    /// How far before the last event a replay starts, and how far outside its window its
    /// events may lie.
    pub backfill_overlap: Duration,
    /// Most events read from one replayed window.
    pub backfill_max_events: u64,
    /// Longest time spent replaying one window.
    pub backfill_timeout: Duration,
    /// Where the stream's position is kept across restarts; None: not kept.
    pub checkpoint_file: Option<PathBuf>,
    /// How often the checkpoint is written.
    pub checkpoint_interval: Duration,
}

impl Default for InitConfig {
    fn default() -> Self {
        // Defaults come from the schema, so they are documented where they are defined.
        Self::parse("").unwrap_or_else(|_| Self::fallback())
    }
}

impl InitConfig {
    fn fallback() -> Self {
        Self {
            max_event_size: 262_144,
            cluster_name: String::new(),
            ping_interval: Duration::from_secs(5),
            dead_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            reconnect_min_backoff: Duration::from_secs(1),
            reconnect_max_backoff: Duration::from_secs(60),
            max_queued_events: 4096,
            ca_cert_file: None,
            backfill: true,
            backfill_max: Duration::from_secs(3600),
            backfill_overlap: Duration::from_secs(10),
            backfill_max_events: 1_000_000,
            backfill_timeout: Duration::from_secs(300),
            checkpoint_file: None,
            checkpoint_interval: Duration::from_secs(2),
        }
    }

    /// Parses and validates `init_config` text. Empty text (Falco passes it when the
    /// setting is absent) means all defaults.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Self::from_value(&Value::Object(Map::new()));
        }
        match serde_json::from_str::<Value>(text) {
            Ok(value) => Self::from_value(&value),
            Err(e) => Err(format!("init_config is not valid JSON ({e})")),
        }
    }

    /// Validates an already parsed `init_config` document: each key against the schema,
    /// then the keys against each other and the files they name.
    pub fn from_value(value: &Value) -> Result<Self, String> {
        let given = Given::checked(value)?;
        let ca = given.string("caCertFile");
        let checkpoint = given.string("checkpointFile");
        let cfg = Self {
            max_event_size: given.int("maxEventSize") as usize,
            cluster_name: given.string("clusterName"),
            ping_interval: given.ms("pingIntervalMs"),
            dead_timeout: given.ms("deadTimeoutMs"),
            connect_timeout: given.ms("connectTimeoutMs"),
            reconnect_min_backoff: given.ms("reconnectMinBackoffMs"),
            reconnect_max_backoff: given.ms("reconnectMaxBackoffMs"),
            max_queued_events: given.int("maxQueuedEvents") as usize,
            ca_cert_file: (!ca.is_empty()).then(|| PathBuf::from(ca)),
            backfill: given.boolean("backfill"),
            backfill_max: given.secs("backfillMaxSeconds"),
            backfill_overlap: given.secs("backfillOverlapSeconds"),
            backfill_max_events: given.int("backfillMaxEvents"),
            backfill_timeout: given.ms("backfillTimeoutMs"),
            checkpoint_file: (!checkpoint.is_empty()).then(|| PathBuf::from(checkpoint)),
            checkpoint_interval: given.ms("checkpointIntervalMs"),
        };
        cfg.check_relations()?;
        Ok(cfg)
    }

    /// What no single key's schema can say.
    fn check_relations(&self) -> Result<(), String> {
        if self.dead_timeout <= self.ping_interval {
            return Err(format!(
                "init_config: deadTimeoutMs ({}) must be larger than pingIntervalMs ({}), or a quiet but healthy connection would be dropped",
                self.dead_timeout.as_millis(),
                self.ping_interval.as_millis()
            ));
        }
        if self.reconnect_max_backoff < self.reconnect_min_backoff {
            return Err(format!(
                "init_config: reconnectMaxBackoffMs ({}) must be at least reconnectMinBackoffMs ({})",
                self.reconnect_max_backoff.as_millis(),
                self.reconnect_min_backoff.as_millis()
            ));
        }
        if let Some(path) = &self.ca_cert_file {
            if !path.is_file() {
                return Err(format!(
                    "init_config: caCertFile {:?} is not a readable file; give the path of a PEM CA bundle or leave it out",
                    path
                ));
            }
        }
        if let Some(path) = &self.checkpoint_file {
            self.check_checkpoint_file(path)?;
        }
        Ok(())
    }

    /// A checkpoint file needs the backfill that replays from it and a directory to live in;
    /// anything else about it (unwritable, corrupt) is a warning when it happens.
    fn check_checkpoint_file(&self, path: &std::path::Path) -> Result<(), String> {
        if !self.backfill {
            return Err("init_config: checkpointFile is replayed from with the backfill machinery; set backfill to true (the default) or leave checkpointFile out".into());
        }
        if path.is_dir() {
            return Err(format!(
                "init_config: checkpointFile {path:?} is a directory; give the path of a file in it, e.g. {:?}",
                path.join("k8saudit-ovh.checkpoint")
            ));
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => std::path::Path::new("."),
        };
        if !dir.is_dir() {
            return Err(format!(
                "init_config: the directory of checkpointFile {path:?} does not exist; create it, or mount a volume there that outlives the pod (a hostPath or a PersistentVolumeClaim)"
            ));
        }
        Ok(())
    }
}

/// The keys of an `init_config` that passed the schema, read with the schema's defaults.
struct Given<'a> {
    given: &'a Map<String, Value>,
    props: &'static Map<String, Value>,
}

impl<'a> Given<'a> {
    /// Checks `value` against the schema: an object, known keys, each of its type and range.
    fn checked(value: &'a Value) -> Result<Self, String> {
        static EMPTY: OnceLock<Map<String, Value>> = OnceLock::new();
        let given = match value {
            Value::Object(map) => map,
            Value::Null => EMPTY.get_or_init(Map::new),
            _ => {
                return Err(
                    "init_config must be a JSON object, like {\"maxEventSize\": 262144}".into(),
                )
            }
        };
        let props = schema_properties();
        let unknown: Vec<&str> = given
            .keys()
            .filter(|k| !props.contains_key(*k))
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            let allowed: Vec<&str> = props.keys().map(String::as_str).collect();
            return Err(format!(
                "init_config has unknown key(s) {}; allowed keys are: {}",
                quote_list(&unknown),
                allowed.join(", ")
            ));
        }
        for (key, value) in given {
            check_against_schema(key, value, &props[key])?;
        }
        Ok(Self { given, props })
    }

    /// The value given for `key`, else the schema's default.
    fn get(&self, key: &str) -> Option<&Value> {
        self.given
            .get(key)
            .or_else(|| self.props.get(key).and_then(|p| p.get("default")))
    }

    fn int(&self, key: &str) -> u64 {
        self.get(key).and_then(Value::as_u64).unwrap_or(0)
    }

    fn string(&self, key: &str) -> String {
        self.get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    }

    fn boolean(&self, key: &str) -> bool {
        self.get(key).and_then(Value::as_bool).unwrap_or(false)
    }

    fn ms(&self, key: &str) -> Duration {
        Duration::from_millis(self.int(key))
    }

    fn secs(&self, key: &str) -> Duration {
        Duration::from_secs(self.int(key))
    }
}

fn quote_list(keys: &[&str]) -> String {
    keys.iter()
        .map(|k| format!("{k:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks one value against its schema property (the keywords our schema uses).
fn check_against_schema(key: &str, value: &Value, prop: &Value) -> Result<(), String> {
    let want = prop.get("type").and_then(Value::as_str).unwrap_or("");
    match want {
        "integer" => {
            let min = prop.get("minimum").and_then(Value::as_u64).unwrap_or(0);
            let max = prop
                .get("maximum")
                .and_then(Value::as_u64)
                .unwrap_or(u64::MAX);
            match value.as_u64() {
                Some(n) if (min..=max).contains(&n) => Ok(()),
                Some(n) => Err(format!(
                    "init_config: {key} = {n} is out of range; allowed: {min} to {max}"
                )),
                None => Err(format!(
                    "init_config: {key} must be a whole number from {min} to {max}, not {value}"
                )),
            }
        }
        "string" => {
            let max = prop
                .get("maxLength")
                .and_then(Value::as_u64)
                .unwrap_or(u64::MAX);
            match value.as_str() {
                Some(s) if s.chars().count() as u64 <= max => Ok(()),
                Some(_) => Err(format!(
                    "init_config: {key} is too long; at most {max} characters"
                )),
                None => Err(format!("init_config: {key} must be a string, not {value}")),
            }
        }
        "boolean" => match value {
            Value::Bool(_) => Ok(()),
            _ => Err(format!(
                "init_config: {key} must be true or false, not {value}"
            )),
        },
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_come_from_the_schema() {
        let cfg = InitConfig::parse("").unwrap();
        assert_eq!(cfg.max_event_size, 262_144);
        assert_eq!(cfg.ping_interval, Duration::from_secs(5));
        assert_eq!(cfg.reconnect_max_backoff, Duration::from_secs(60));
        assert!(cfg.backfill);
        assert_eq!(cfg.backfill_max, Duration::from_secs(3600));
        assert_eq!(cfg.backfill_overlap, Duration::from_secs(10));
        assert_eq!(cfg.backfill_timeout, Duration::from_secs(300));
        assert_eq!(cfg.backfill_max_events, 1_000_000);
        assert_eq!(InitConfig::parse("{}").unwrap(), cfg);
        assert_eq!(
            InitConfig::fallback(),
            cfg,
            "fallback and schema defaults agree"
        );
        let off = InitConfig::parse(r#"{"backfill": false}"#).unwrap();
        assert!(!off.backfill);
        let err = InitConfig::parse(r#"{"backfill": "yes"}"#).unwrap_err();
        assert!(err.contains("true or false"), "{err}");
    }

    #[test]
    fn a_checkpoint_file_needs_an_existing_directory_and_backfill() {
        let dir = std::env::temp_dir();
        let file = dir.join("k8saudit-ovh-init-test.checkpoint");
        let cfg = InitConfig::from_value(&serde_json::json!({ "checkpointFile": file })).unwrap();
        assert_eq!(cfg.checkpoint_file, Some(file.clone()));
        assert_eq!(cfg.checkpoint_interval, Duration::from_secs(2));
        for (config, needle) in [
            (
                serde_json::json!({ "checkpointFile": "/no/such/dir/cp" }),
                "does not exist",
            ),
            (
                serde_json::json!({ "checkpointFile": dir }),
                "is a directory",
            ),
            (
                serde_json::json!({ "checkpointFile": file, "backfill": false }),
                "set backfill to true",
            ),
        ] {
            let err = InitConfig::from_value(&config).unwrap_err();
            assert!(
                err.contains(needle) && err.contains("checkpointFile"),
                "{err}"
            );
        }
    }

    #[test]
    fn unknown_keys_are_named() {
        let err =
            InitConfig::parse(r#"{"maxEventSize": 2048, "bogus": 1, "other": 2}"#).unwrap_err();
        assert!(err.contains("\"bogus\""), "{err}");
        assert!(err.contains("\"other\""), "{err}");
        assert!(err.contains("maxEventSize"), "{err}");
    }

    #[test]
    fn out_of_range_says_the_range() {
        let err = InitConfig::parse(r#"{"maxEventSize": 10}"#).unwrap_err();
        assert!(err.contains("1024 to 67108864"), "{err}");
        let err = InitConfig::parse(r#"{"pingIntervalMs": "5"}"#).unwrap_err();
        assert!(err.contains("whole number"), "{err}");
        let err =
            InitConfig::parse(r#"{"pingIntervalMs": 5000, "deadTimeoutMs": 4000}"#).unwrap_err();
        assert!(err.contains("deadTimeoutMs"), "{err}");
    }
}
