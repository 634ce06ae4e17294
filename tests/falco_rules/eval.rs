//! Field values of an audit event, as Falco would see them: `ka.*` from the built plugin
//! (through its C ABI), `jevt.*` as Falco's json plugin extracts them.

use super::condition::FieldSource;
use super::FieldTable;
use crate::support::{self, Arg, Extracted, Host};
use serde_json::Value as Json;

/// The built plugin, ready to extract fields of any number of events.
pub struct Extractor {
    host: Host,
    table: FieldTable,
    events: u64,
}

impl Extractor {
    pub fn new() -> Extractor {
        Extractor {
            host: Host::init(r#"{"clusterName": "mks-examples"}"#).expect("plugin init"),
            table: FieldTable::from_json(&support::fields_json()),
            events: 0,
        }
    }

    pub fn table(&self) -> &FieldTable {
        &self.table
    }

    /// The fields of one event. Evaluate as many rule sets over it as needed: the plugin
    /// parses it once.
    pub fn event<'a>(&'a mut self, event: &'a Json) -> EventFields<'a> {
        // A new event number per event: the plugin caches the last event it parsed.
        self.events += 1;
        let n = self.events;
        let payload = serde_json::to_vec(event).unwrap();
        EventFields {
            event: support::Event::plugin_event(22, 1_739_181_600_000_000_000 + n, &payload),
            evtnum: 1_000 + n,
            host: &mut self.host,
            table: &self.table,
            json: event,
        }
    }
}

impl Default for Extractor {
    fn default() -> Self {
        Extractor::new()
    }
}

pub struct EventFields<'a> {
    host: &'a mut Host,
    event: support::Event,
    json: &'a Json,
    table: &'a FieldTable,
    evtnum: u64,
}

impl FieldSource for EventFields<'_> {
    fn values(&mut self, field: &str, arg: Option<&str>) -> Option<Vec<String>> {
        if field.starts_with("jevt.") || field.starts_with("json.") {
            return jevt(self.json, field, arg);
        }
        let info = &self.table.0[field];
        let arg = match arg {
            None => Arg::None,
            Some(a) if info.arg_index && !info.arg_key => Arg::Index(a.parse().unwrap()),
            Some(a) => Arg::Key(a.to_owned()),
        };
        match self.host.extract_one(&self.event, self.evtnum, field, &arg) {
            Extracted::Values(v) => Some(
                v.into_iter()
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .collect(),
            ),
            Extracted::None => None,
            Extracted::Error(e) => panic!("extracting {field}: {e}"),
        }
    }

    fn is_list(&self, field: &str) -> bool {
        self.table.0.get(field).is_some_and(|f| f.is_list)
    }
}

/// What Falco's `json` plugin (0.7) extracts for `jevt.*`: `value[/pointer]` is a string's
/// text, or the compact JSON of anything else; `obj` is the event, indented by two spaces;
/// `rawtime` always has a value.
pub fn jevt(event: &Json, field: &str, arg: Option<&str>) -> Option<Vec<String>> {
    let text = |v: &Json| match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    };
    let field = field.replacen("json.", "jevt.", 1);
    match (field.as_str(), arg) {
        ("jevt.rawtime", None) => Some(vec!["1".to_owned()]),
        ("jevt.obj", None) => Some(vec![serde_json::to_string_pretty(event).unwrap()]),
        ("jevt.value", Some(ptr)) => event.pointer(ptr).map(|v| vec![text(v)]),
        _ => None,
    }
}
