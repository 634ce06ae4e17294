//! Every `ka.*` value, compared with Falco's `k8saudit` plugin 0.18.0.
//!
//! Each line of `corpus.jsonl` and `adversarial.jsonl` goes as the payload of a plugin event
//! through the built plugin's C ABI (`plugin_extract_fields`, one call per field, as libsinsp
//! does), and every label of `fields-and-args.txt` is compared with the golden value the
//! unmodified upstream extractor gave (`golden-*.jsonl`). The only differences allowed are the
//! deviations of `tests/fields/deviations.rs`; for those the expected value is computed here
//! from the deviation's own rule, over the event itself (read with serde_json, independently of
//! the plugin's parser) or over other golden values.

#[path = "fields/deviations.rs"]
mod deviations;
mod support;

use falco_plugin::serde;
use serde_json::value::RawValue;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use support::{Arg, Event, Extracted, Host};

const PLUGIN_ID: u32 = 22;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/k8saudit/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The lines of a JSONL fixture, as bytes (some are not UTF-8).
fn lines(name: &str) -> Vec<Vec<u8>> {
    let data = fixture(name);
    let mut lines: Vec<Vec<u8>> = data.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

fn goldens(name: &str) -> Vec<Value> {
    lines(name)
        .iter()
        .map(|l| serde_json::from_slice(l).expect("golden line"))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Labels and values

#[derive(Debug, Clone, PartialEq, Eq)]
enum LabelArg {
    None,
    Index(u64),
    Key(String),
}

#[derive(Debug, Clone)]
struct Label {
    text: String,
    field: String,
    arg: LabelArg,
}

/// `fields-and-args.txt`, with each argument typed by the upstream field definition.
fn labels() -> Vec<Label> {
    let defs: Value = serde_json::from_slice(&fixture("upstream-fields.json")).unwrap();
    let is_key: HashMap<&str, bool> = defs
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["name"].as_str().unwrap(), f["arg"]["isKey"] == true))
        .collect();
    String::from_utf8(fixture("fields-and-args.txt"))
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(|text| {
            let (field, arg) = match text.split_once('[') {
                None => (text.to_owned(), LabelArg::None),
                Some((field, rest)) => {
                    let arg = rest.strip_suffix(']').expect("label ends with ]");
                    let arg = if is_key[field] {
                        LabelArg::Key(arg.to_owned())
                    } else {
                        LabelArg::Index(arg.parse().expect("numeric index"))
                    };
                    (field.to_owned(), arg)
                }
            };
            assert!(is_key.contains_key(field.as_str()), "unknown field {field}");
            Label {
                text: text.to_owned(),
                field,
                arg,
            }
        })
        .collect()
}

/// What a field should give: no value, or values (one for a scalar field).
#[derive(Clone, PartialEq, Eq)]
enum Want {
    None,
    Values(Vec<Vec<u8>>),
}

impl fmt::Debug for Want {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Want::None => write!(f, "no value"),
            Want::Values(v) => f
                .debug_list()
                .entries(v.iter().map(|b| b.escape_ascii().to_string()))
                .finish(),
        }
    }
}

/// Falco reads field values as C strings: a value ends at its first NUL byte.
fn c_string(mut bytes: Vec<u8>) -> Vec<u8> {
    if let Some(nul) = bytes.iter().position(|&b| b == 0) {
        bytes.truncate(nul);
    }
    bytes
}

fn want_values(values: Vec<Vec<u8>>) -> Want {
    if values.is_empty() {
        Want::None
    } else {
        Want::Values(values.into_iter().map(c_string).collect())
    }
}

fn want_text(text: impl Into<Vec<u8>>) -> Want {
    Want::Values(vec![c_string(text.into())])
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// A golden value: what upstream gave, or that it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Golden {
    Value(Want),
    /// `{"error": ...}` or `{"panic": ...}`.
    Failed(String),
}

fn golden_value(v: &Value) -> Golden {
    let one = |v: &Value| -> Vec<u8> {
        match v {
            Value::String(s) => s.as_bytes().to_vec(),
            Value::Object(o) if o.contains_key("non_utf8_hex") => {
                hex(o["non_utf8_hex"].as_str().unwrap())
            }
            other => panic!("unexpected golden value {other}"),
        }
    };
    match v {
        Value::Null => Golden::Value(Want::None),
        Value::Array(items) => Golden::Value(want_values(items.iter().map(one).collect())),
        Value::Object(o) if o.contains_key("error") || o.contains_key("panic") => {
            Golden::Failed(v.to_string())
        }
        other => Golden::Value(want_values(vec![one(other)])),
    }
}

fn got_want(got: &Extracted) -> Result<Want, String> {
    match got {
        Extracted::None => Ok(Want::None),
        Extracted::Values(v) => Ok(Want::Values(v.clone())),
        Extracted::Error(e) => Err(e.clone()),
    }
}

// ---------------------------------------------------------------------------------------------
// An independent reading of events for the deviations' rules (serde_json, first key wins)

/// An object's members in document order, duplicates included.
struct Members<'a>(Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for Members<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = Members<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "an object")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut m: M,
            ) -> Result<Self::Value, M::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = m.next_entry::<String, &'de RawValue>()? {
                    out.push((k, v));
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

fn member<'a>(v: &'a RawValue, key: &str) -> Option<&'a RawValue> {
    let members: Members = serde_json::from_str(v.get()).ok()?;
    members
        .0
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

fn elements(v: &RawValue) -> Option<Vec<&RawValue>> {
    serde_json::from_str(v.get()).ok()
}

fn path<'a>(v: &'a RawValue, keys: &[&str]) -> Option<&'a RawValue> {
    keys.iter().try_fold(v, |v, k| member(v, k))
}

/// A value as upstream renders it: a string's text, else compact JSON as written.
fn text(v: &RawValue) -> Vec<u8> {
    if let Ok(s) = serde_json::from_str::<String>(v.get()) {
        return s.into_bytes();
    }
    let mut out = Vec::new();
    let (mut in_string, mut escaped) = (false, false);
    for &b in v.get().as_bytes() {
        if in_string {
            out.push(b);
            in_string = b != b'"' || escaped;
            escaped = b == b'\\' && !escaped;
        } else if !b" \t\r\n".contains(&b) {
            in_string = b == b'"';
            out.push(b);
        }
    }
    out
}

/// The event's top-level object, if upstream treats it as an audit event at all (it starts
/// with `{` and has an `auditID`).
fn audit_root(payload: &[u8]) -> Option<Box<RawValue>> {
    if payload.first() != Some(&b'{') {
        return None;
    }
    let text = String::from_utf8_lossy(payload);
    let root: Box<RawValue> = serde_json::from_str(&text).ok()?;
    member(&root, "auditID")?;
    Some(root)
}

/// Strict RFC 8259 (the grammar; bytes inside strings are not required to be UTF-8).
fn strict_json(payload: &[u8]) -> bool {
    serde_json::from_str::<serde::de::IgnoredAny>(&String::from_utf8_lossy(payload)).is_ok()
}

/// The documented path walk: arrays met before a key are iterated (all elements, or element
/// `index` of each), nested arrays flattened, elements where the rest is missing give `None`;
/// an empty key is the value itself. `None` when nothing at all is found.
fn walk<'a>(
    v: &'a RawValue,
    index: Option<usize>,
    keys: &[&str],
) -> Option<Vec<Option<&'a RawValue>>> {
    let Some((key, rest)) = keys.split_first() else {
        return Some(vec![Some(v)]);
    };
    if let Some(items) = elements(v) {
        // Borrowing `items` (owned) is fine: its elements borrow `v`'s text.
        return match index {
            None => Some(
                items
                    .into_iter()
                    .flat_map(|e| walk(e, index, keys).unwrap_or_else(|| vec![None]))
                    .collect(),
            ),
            Some(i) => {
                let e = *items.get(i)?;
                let next = if key.is_empty() {
                    Some(e)
                } else {
                    member(e, key)
                }?;
                walk(next, index, rest)
            }
        };
    }
    let next = if key.is_empty() {
        Some(v)
    } else {
        member(v, key)
    }?;
    walk(next, index, rest)
}

/// Deviation 4's rule for an image reference.
fn repository(image: &[u8]) -> Vec<u8> {
    let name = image.split(|&b| b == b'@').next().unwrap();
    let last = name.iter().rposition(|&b| b == b'/').map_or(0, |i| i + 1);
    match name[last..].iter().position(|&b| b == b':') {
        Some(c) => name[..last + c].to_vec(),
        None => name.to_vec(),
    }
}

// ---------------------------------------------------------------------------------------------
// Expected values

struct Case<'a> {
    payload: &'a [u8],
    golden: &'a serde_json::Map<String, Value>,
    label: &'a Label,
}

impl Case<'_> {
    fn golden(&self, label: &str) -> Golden {
        golden_value(&self.golden[label])
    }

    fn index(&self) -> Option<usize> {
        match self.label.arg {
            LabelArg::Index(i) => Some(i as usize),
            _ => None,
        }
    }

    /// Upstream's own value, with deviation 1 (failures are "no value").
    fn upstream(&self) -> Want {
        match self.golden(&self.label.text) {
            Golden::Value(w) => w,
            Golden::Failed(_) => Want::None,
        }
    }

    /// Our expected value and the deviation that set it, if one applies.
    fn expected(&self) -> (Want, Option<u8>) {
        let field = self.label.field.as_str();
        if !strict_json(self.payload) {
            return (Want::None, Some(6));
        }
        if field == "ka.sourceips" {
            return (self.source_ips(), Some(2));
        }
        if field.contains(".eff_run_as_") {
            return (self.effective_id(), Some(3));
        }
        if field.ends_with("image.repository") {
            return (self.repository(), Some(4));
        }
        if field == "ka.req.volume.hostpath" {
            return (self.hostpath_used(), Some(5));
        }
        match self.golden(&self.label.text) {
            Golden::Value(w) => (w, None),
            Golden::Failed(_) => (Want::None, Some(1)),
        }
    }

    fn source_ips(&self) -> Want {
        let Some(root) = audit_root(self.payload) else {
            return Want::None;
        };
        let Some(ips) = member(&root, "sourceIPs").and_then(elements) else {
            return Want::None;
        };
        let ips: Vec<Vec<u8>> = ips.into_iter().map(text).collect();
        match self.index() {
            None => want_values(ips),
            Some(i) => ips.get(i).map_or(Want::None, |ip| want_text(ip.clone())),
        }
    }

    fn effective_id(&self) -> Want {
        let (list, key) = self.label.field["ka.req.pod.".len()..]
            .split_once(".eff_")
            .map(|(list, what)| {
                let key = if what == "run_as_user" {
                    "runAsUser"
                } else {
                    "runAsGroup"
                };
                (list, key)
            })
            .unwrap();
        let Some(root) = audit_root(self.payload) else {
            return Want::None;
        };
        let pod = path(&root, &["requestObject", "spec", "securityContext", key]).map(text);
        let Some(containers) = walk(&root, self.index(), &["requestObject", "spec", list, ""])
        else {
            return Want::None;
        };
        want_values(
            containers
                .into_iter()
                .map(|c| {
                    c.and_then(|c| path(c, &["securityContext", key]))
                        .map(text)
                        .or_else(|| pod.clone())
                        .unwrap_or_else(|| b"0".to_vec())
                })
                .collect(),
        )
    }

    fn repository(&self) -> Want {
        let image_label = self.label.text.replacen("image.repository", "image", 1);
        match self.golden(&image_label) {
            Golden::Value(Want::Values(images)) => {
                Want::Values(images.iter().map(|i| repository(i)).collect())
            }
            _ => Want::None,
        }
    }

    fn hostpath_used(&self) -> Want {
        let LabelArg::Key(pattern) = &self.label.arg else {
            unreachable!()
        };
        let Some((&last, init)) = pattern.as_bytes().split_last() else {
            return Want::None; // upstream panics on an empty pattern
        };
        let golden_paths = &self.golden["ka.req.pod.volumes.hostpath"];
        let Value::Array(paths) = golden_paths else {
            return Want::None;
        };
        let used = paths.iter().any(|p| {
            let p = p.as_str().unwrap().as_bytes();
            p == pattern.as_bytes() || (last == b'*' && p.starts_with(init))
        });
        want_text(if used { "true" } else { "false" })
    }
}

// ---------------------------------------------------------------------------------------------
// The runs

fn arg_of(label: &Label, key_with_index0: bool) -> Arg {
    match &label.arg {
        LabelArg::None => Arg::None,
        LabelArg::Index(i) => Arg::Index(*i),
        LabelArg::Key(k) if key_with_index0 => Arg::KeyWithIndex0(k.clone()),
        LabelArg::Key(k) => Arg::Key(k.clone()),
    }
}

#[derive(Default)]
struct Report {
    checked: usize,
    failures: Vec<String>,
    /// Per deviation: cases where it changed upstream's value.
    changed: BTreeMap<u8, usize>,
}

/// One event to check: the input line it came from, the event, and upstream's values for it.
struct Checked<'a> {
    line: usize,
    event: Event,
    golden: &'a Value,
}

/// Extracts every label from every event and compares with the expected values.
fn check(host: &mut Host, set: &str, events: &[Checked], report: &mut Report) {
    let labels = labels();
    for (
        i,
        Checked {
            line: n,
            event,
            golden,
        },
    ) in events.iter().enumerate()
    {
        let golden = golden["fields"].as_object().expect("fields");
        let payload = &event.payload;
        let evtnum = 1_000_000 + i as u64;
        for label in &labels {
            let case = Case {
                payload,
                golden,
                label,
            };
            let (want, deviation) = case.expected();
            if let Some(d) = deviation {
                if want != case.upstream() || d == 1 {
                    *report.changed.entry(d).or_default() += 1;
                }
            }
            // Keys both as current libsinsp passes them and with index 0, as older ones did.
            let variants: &[bool] = match label.arg {
                LabelArg::Key(_) => &[false, true],
                _ => &[false],
            };
            for &old_style in variants {
                let got = host.extract_one(event, evtnum, &label.field, &arg_of(label, old_style));
                report.checked += 1;
                match got_want(&got) {
                    Ok(got) if got == want => {}
                    Ok(got) => report.failures.push(format!(
                        "{set} line {n} {}{}: got {got:?}, want {want:?} ({})",
                        label.text,
                        if old_style { " (key with index 0)" } else { "" },
                        deviation.map_or("upstream".to_owned(), |d| format!(
                            "deviation {d}: {}",
                            deviations::DEVIATIONS[d as usize - 1].what
                        )),
                    )),
                    Err(e) => report.failures.push(format!(
                        "{set} line {n} {}: extraction error {e}",
                        label.text
                    )),
                }
            }
        }
    }
}

fn assert_clean(report: &Report) {
    assert!(report.checked > 0);
    assert!(
        report.failures.is_empty(),
        "{} of {} extractions differ:\n{}",
        report.failures.len(),
        report.checked,
        report
            .failures
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

fn direct_events<'g>(input: &[Vec<u8>], golden: &'g [Value]) -> Vec<Checked<'g>> {
    assert_eq!(input.len(), golden.len(), "one golden line per input line");
    input
        .iter()
        .zip(golden)
        .enumerate()
        .map(|(n, (payload, g))| {
            assert_eq!(g["event"], n, "golden lines in input order");
            Checked {
                line: n,
                event: Event::plugin_event(PLUGIN_ID, 1, payload),
                golden: g,
            }
        })
        .collect()
}

#[test]
fn corpus_and_adversarial_values_match_upstream_except_the_deviations() {
    let mut host = Host::init("").expect("init");
    let mut report = Report::default();
    for set in ["corpus", "adversarial"] {
        let input = lines(&format!("{set}.jsonl"));
        let golden = goldens(&format!("golden-{set}.jsonl"));
        check(&mut host, set, &direct_events(&input, &golden), &mut report);
    }
    assert_clean(&report);
    // Every deviation of the table (but the opt-in 7) shows in the fixtures, so the table
    // stays true.
    for d in deviations::DEVIATIONS.iter().filter(|d| d.number != 7) {
        assert!(
            report.changed.get(&d.number).copied().unwrap_or(0) > 0,
            "deviation {} never changes a golden value: is it still true?",
            d.number
        );
    }
}

/// Replays a fixture through the plugin's own file source (one audit event per line).
fn replay(host: &mut Host, set: &str) -> Vec<Event> {
    let path = format!(
        "{}/tests/fixtures/k8saudit/{set}.jsonl",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut instance = host
        .open(Some(&path))
        .expect("open the fixture as a replay");
    let (events, end) = instance.drain(std::time::Duration::from_secs(30));
    assert!(matches!(end, Some(support::Batch::Eof)), "{set}: {end:?}");
    events
}

#[test]
fn the_source_emits_upstreams_events_with_upstreams_values() {
    let mut host = Host::init("").expect("init");
    let mut report = Report::default();
    for set in ["corpus", "adversarial"] {
        let input = lines(&format!("{set}.jsonl"));
        let direct = goldens(&format!("golden-{set}.jsonl"));
        let via_source = goldens(&format!("golden-{set}.via-source.jsonl"));
        // What upstream's source emits, in order, as (line, golden) pairs, adjusted for the two
        // known differences of ours: lines that are not strict JSON text, UTF-8 included, are
        // rejected (deviation 6), and an event without `stageTimestamp`, which upstream drops,
        // gets the time of receipt (see "How it behaves" in the README).
        let mut want: Vec<(usize, Option<&str>, &Value)> = Vec::new();
        for g in &via_source {
            let n = g["event"].as_u64().unwrap() as usize;
            match (g.get("payload"), g.get("source_error")) {
                (Some(payload), _)
                    if std::str::from_utf8(&input[n]).is_ok() && strict_json(&input[n]) =>
                {
                    want.push((n, payload.as_str(), g))
                }
                (Some(_), _) => {}
                (None, Some(e)) if e == "can't read stageTimestamp" => {
                    want.push((n, None, &direct[n]))
                }
                (None, _) => {}
            }
        }
        let emitted = replay(&mut host, set);
        let texts: Vec<String> = emitted.iter().map(|e| e.text()).collect();
        let want_texts: Vec<String> = want
            .iter()
            .map(|(n, payload, _)| {
                payload.map_or_else(
                    || String::from_utf8_lossy(&input[*n]).into_owned(),
                    str::to_owned,
                )
            })
            .collect();
        let first_difference = texts.iter().zip(&want_texts).position(|(a, b)| a != b);
        assert!(
            texts.len() == want_texts.len() && first_difference.is_none(),
            "{set}: the source emitted {} events, {} expected; first difference at {:?}:\n{:?}\n{:?}",
            texts.len(),
            want_texts.len(),
            first_difference,
            first_difference.map(|i| &texts[i]),
            first_difference.map(|i| &want_texts[i]),
        );
        let checked: Vec<Checked> = emitted
            .into_iter()
            .zip(&want)
            .map(|(event, (line, _, golden))| Checked {
                line: *line,
                event,
                golden,
            })
            .collect();
        check(
            &mut host,
            &format!("{set} via source"),
            &checked,
            &mut report,
        );
    }
    assert_clean(&report);
}

// ---------------------------------------------------------------------------------------------
// Each deviation on its own

fn adversarial(n: usize) -> (Vec<u8>, serde_json::Map<String, Value>) {
    let payload = lines("adversarial.jsonl").swap_remove(n);
    let golden = goldens("golden-adversarial.jsonl").swap_remove(n);
    (payload, golden["fields"].as_object().unwrap().clone())
}

fn extract(host: &mut Host, payload: &[u8], field: &str, arg: Arg) -> Want {
    let event = Event::plugin_event(PLUGIN_ID, 1, payload);
    got_want(&host.extract(&event, &[(field, arg)])[0]).expect("no extraction error")
}

fn strings(values: &[&str]) -> Want {
    Want::Values(values.iter().map(|s| s.as_bytes().to_vec()).collect())
}

#[test]
fn deviation_1_upstream_errors_and_panics_give_no_value_and_spare_other_fields() {
    let mut host = Host::init("").unwrap();
    // Line 102: a pod whose first hostPath is null; upstream panics on an empty pattern.
    let (payload, golden) = adversarial(102);
    assert!(matches!(
        golden_value(&golden["ka.req.volume.hostpath[]"]),
        Golden::Failed(_)
    ));
    let got = extract(
        &mut host,
        &payload,
        "ka.req.volume.hostpath",
        Arg::Key(String::new()),
    );
    assert_eq!(got, Want::None);
    assert_eq!(
        extract(&mut host, &payload, "ka.auditid", Arg::None),
        strings(&["adv-vol-5"])
    );
    // Line 65: binding subjects that are an object: upstream errors on the list fields.
    let (payload, golden) = adversarial(65);
    assert!(matches!(
        golden_value(&golden["ka.req.binding.subjects"]),
        Golden::Failed(_)
    ));
    assert_eq!(
        extract(&mut host, &payload, "ka.req.binding.subjects", Arg::None),
        Want::None
    );
    assert_eq!(
        extract(&mut host, &payload, "ka.auditid", Arg::None),
        strings(&["adv-binding-3"])
    );
}

#[test]
fn deviation_2_sourceips_reads_the_top_level_source_ips() {
    let mut host = Host::init("").unwrap();
    let (payload, golden) = adversarial(80); // top-level sourceIPs only
    assert_eq!(
        golden["ka.sourceips"],
        Value::Null,
        "upstream never sees them"
    );
    let root = audit_root(&payload).unwrap();
    let ips: Vec<Vec<u8>> = elements(member(&root, "sourceIPs").unwrap())
        .unwrap()
        .into_iter()
        .map(text)
        .collect();
    assert!(ips.len() >= 2);
    assert_eq!(
        extract(&mut host, &payload, "ka.sourceips", Arg::None),
        Want::Values(ips.clone())
    );
    assert_eq!(
        extract(&mut host, &payload, "ka.sourceips", Arg::Index(1)),
        Want::Values(vec![ips[1].clone()])
    );
    // Line 79 also has sourceIPs inside rules, which are what upstream reads.
    let (payload, golden) = adversarial(79);
    assert_eq!(
        golden_value(&golden["ka.sourceips"]),
        Golden::Value(strings(&["10.0.0.1", "10.0.0.2"]))
    );
    assert_eq!(
        extract(&mut host, &payload, "ka.sourceips", Arg::None),
        strings(&["1.2.3.4"])
    );
}

#[test]
fn deviation_3_effective_ids_combine_container_pod_and_default() {
    let mut host = Host::init("").unwrap();
    let pod = br#"{"auditID":"eff","requestObject":{"spec":{
        "securityContext":{"runAsUser":1000,"runAsGroup":3000},
        "containers":[
            {"name":"own","securityContext":{"runAsUser":0,"runAsGroup":0}},
            {"name":"pod"},
            {"name":"user-only","securityContext":{"runAsUser":7}}],
        "initContainers":[{"name":"i"}]}}}"#;
    let f = "ka.req.pod.containers.eff_run_as_user";
    assert_eq!(
        extract(&mut host, pod, f, Arg::None),
        strings(&["0", "1000", "7"])
    );
    assert_eq!(
        extract(&mut host, pod, f, Arg::Index(1)),
        strings(&["1000"])
    );
    assert_eq!(extract(&mut host, pod, f, Arg::Index(3)), Want::None);
    let f = "ka.req.pod.containers.eff_run_as_group";
    assert_eq!(
        extract(&mut host, pod, f, Arg::None),
        strings(&["0", "3000", "3000"])
    );
    let f = "ka.req.pod.initContainers.eff_run_as_user";
    assert_eq!(extract(&mut host, pod, f, Arg::None), strings(&["1000"]));
    let f = "ka.req.pod.ephemeralContainers.eff_run_as_user";
    assert_eq!(extract(&mut host, pod, f, Arg::None), Want::None);
    // Without any security context: 0. Upstream says 0 even for the container above that runs
    // as 0 explicitly, and for the one running as 7.
    let (payload, golden) = adversarial(92);
    assert!(golden["ka.req.pod.containers.eff_run_as_user"]
        .as_array()
        .unwrap()
        .iter()
        .all(|v| v == "0"));
    let got = extract(
        &mut host,
        &payload,
        "ka.req.pod.containers.eff_run_as_user",
        Arg::None,
    );
    assert_ne!(got, Want::None);
    assert_ne!(
        got,
        golden_value(&golden["ka.req.pod.containers.eff_run_as_user"])
            .clone()
            .into_want()
    );
}

impl Golden {
    fn into_want(self) -> Want {
        match self {
            Golden::Value(w) => w,
            Golden::Failed(_) => Want::None,
        }
    }
}

#[test]
fn deviation_4_image_repository_keeps_registry_ports() {
    let mut host = Host::init("").unwrap();
    let (payload, golden) = adversarial(109); // images reg:50NN/imgN@sha256:NN
    assert_eq!(golden["ka.req.container.image.repository"], "reg");
    assert_eq!(
        extract(
            &mut host,
            &payload,
            "ka.req.container.image.repository",
            Arg::None
        ),
        strings(&["reg:5000/img0"])
    );
    assert_eq!(
        extract(
            &mut host,
            &payload,
            "ka.req.pod.containers.image.repository",
            Arg::Index(2)
        ),
        strings(&["reg:5002/img2"])
    );
    // Unchanged without a registry port.
    let pod = br#"{"auditID":"img","requestObject":{"spec":{"containers":[
        {"image":"falcosecurity/falco:0.38@sha256:ab"},{"image":"nginx"}]}}}"#;
    assert_eq!(
        extract(
            &mut host,
            pod,
            "ka.req.pod.containers.image.repository",
            Arg::None
        ),
        strings(&["falcosecurity/falco", "nginx"])
    );
}

#[test]
fn deviation_5_volume_hostpath_checks_every_volume_with_either_key_form() {
    let mut host = Host::init("").unwrap();
    let pod = br#"{"auditID":"vol","requestObject":{"spec":{"volumes":[
        {"name":"a","emptyDir":{}},
        {"name":"b","hostPath":{"path":"/var/run/docker.sock"}}]}}}"#;
    for (pattern, want) in [
        ("/var/run/docker.sock", "true"),
        ("/var/run*", "true"),
        ("/var/run", "false"),
        ("/etc", "false"),
    ] {
        for arg in [Arg::Key(pattern.into()), Arg::KeyWithIndex0(pattern.into())] {
            let got = extract(&mut host, pod, "ka.req.volume.hostpath", arg.clone());
            assert_eq!(got, strings(&[want]), "{arg:?}");
        }
    }
    // No volumes at all: no value.
    let none = br#"{"auditID":"vol","requestObject":{"spec":{}}}"#;
    let got = extract(
        &mut host,
        none,
        "ka.req.volume.hostpath",
        Arg::Key("/".into()),
    );
    assert_eq!(got, Want::None);
}

#[test]
fn deviation_6_payloads_that_are_not_strict_json_have_no_values() {
    let mut host = Host::init("").unwrap();
    let labels = labels();
    // 103..=107: NaN, Infinity, +1/.5/01/1., raw TAB, invalid escape.
    for n in 103..=107 {
        let (payload, golden) = adversarial(n);
        assert!(!strict_json(&payload), "line {n}");
        assert_eq!(
            golden["ka.auditid"]
                .as_str()
                .map(|s| s.starts_with("adv-lenient")),
            Some(true)
        );
        let event = Event::plugin_event(PLUGIN_ID, 1, &payload);
        let fields: Vec<(&str, Arg)> = labels
            .iter()
            .map(|l| (l.field.as_str(), arg_of(l, false)))
            .collect();
        for (got, label) in host.extract(&event, &fields).iter().zip(&labels) {
            assert_eq!(got_want(got), Ok(Want::None), "line {n} {}", label.text);
        }
    }
    // 108 is strict JSON whose strings hold bytes that are not UTF-8: values, byte for byte.
    let (payload, golden) = adversarial(108);
    assert!(strict_json(&payload));
    let want = golden_value(&golden["ka.verb"]).into_want();
    assert_eq!(want, Want::Values(vec![b"g\xffet".to_vec()]));
    assert_eq!(extract(&mut host, &payload, "ka.verb", Arg::None), want);
}

#[test]
fn deviation_7_cluster_name_falls_back_to_the_configured_name() {
    let mut host = Host::init(r#"{"clusterName":"mks-gra-1"}"#).unwrap();
    let plain = br#"{"auditID":"c1","verb":"get"}"#;
    let annotated = br#"{"auditID":"c2","annotations":{"cluster_name":"from-event"}}"#;
    assert_eq!(
        extract(&mut host, plain, "ka.cluster.name", Arg::None),
        strings(&["mks-gra-1"])
    );
    assert_eq!(
        extract(&mut host, annotated, "ka.cluster.name", Arg::None),
        strings(&["from-event"])
    );
    // Not an audit event: still no value.
    let not_audit = br#"{"kind":"Event"}"#;
    assert_eq!(
        extract(&mut host, not_audit, "ka.cluster.name", Arg::None),
        Want::None
    );
    // Unconfigured: upstream's behaviour.
    let mut host = Host::init("").unwrap();
    assert_eq!(
        extract(&mut host, plain, "ka.cluster.name", Arg::None),
        Want::None
    );
}

// ---------------------------------------------------------------------------------------------
// Falco's own rules for values

#[test]
fn events_that_are_not_audit_events_have_no_values_and_no_errors() {
    let mut host = Host::init("").unwrap();
    let labels = labels();
    let fields: Vec<(&str, Arg)> = labels
        .iter()
        .map(|l| (l.field.as_str(), arg_of(l, false)))
        .collect();
    // A syscall-like event (not a plugin event), and plugin events that are not audit events.
    let mut syscall = Event::plugin_event(PLUGIN_ID, 1, b"{}");
    syscall.raw[20..22].copy_from_slice(&1u16.to_le_bytes());
    let events = [
        syscall,
        Event::plugin_event(PLUGIN_ID, 1, b""),
        Event::plugin_event(PLUGIN_ID, 1, b"not json"),
        Event::plugin_event(PLUGIN_ID, 1, br#"{"kind":"Event","verb":"get"}"#),
        Event::plugin_event(PLUGIN_ID, 1, br#"[{"auditID":"x"}]"#),
    ];
    for (i, event) in events.iter().enumerate() {
        for (got, label) in host.extract(event, &fields).iter().zip(&labels) {
            assert_eq!(got_want(got), Ok(Want::None), "event {i} {}", label.text);
        }
    }
}

#[test]
fn events_of_other_k8s_audit_sources_are_extracted_too() {
    let mut host = Host::init("").unwrap();
    let event = Event::plugin_event(1, 1, br#"{"auditID":"other","verb":"get"}"#);
    let got = host.extract(&event, &[("ka.verb", Arg::None)]);
    assert_eq!(got_want(&got[0]), Ok(strings(&["get"])));
}

#[test]
fn an_empty_list_is_no_value() {
    let mut host = Host::init("").unwrap();
    let payload = br#"{"auditID":"e","user":{"groups":[]},"requestObject":{"rules":[]}}"#;
    assert_eq!(
        extract(&mut host, payload, "ka.user.groups", Arg::None),
        Want::None
    );
    assert_eq!(
        extract(&mut host, payload, "ka.req.role.rules", Arg::None),
        Want::None
    );
}

#[test]
fn another_event_under_the_same_number_is_never_served_stale_values() {
    let mut host = Host::init("").unwrap();
    let a = Event::plugin_event(PLUGIN_ID, 1, br#"{"auditID":"a","verb":"get"}"#);
    let b = Event::plugin_event(PLUGIN_ID, 1, br#"{"auditID":"b","verb":"delete"}"#);
    for _ in 0..2 {
        for (event, want) in [(&a, "get"), (&b, "delete")] {
            let got = host.extract_one(event, 42, "ka.verb", &Arg::None);
            assert_eq!(got_want(&got), Ok(strings(&[want])));
        }
    }
}
