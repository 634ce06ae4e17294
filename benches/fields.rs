//! Field extraction speed, through the built plugin's C ABI, the way Falco calls it: one
//! `plugin_extract_fields` call per field.
//!
//! Prints:
//! - ns per field extraction once the event is parsed, averaged over the fields Falco's stock
//!   Kubernetes audit rules use (target: < 1 µs);
//! - events/s for "parse + extract the 20 fields the stock rules use most" over the corpus, on
//!   one core (target: >= 100,000);
//! - the parser's own throughput.
//!
//! Run with `cargo bench --bench fields`. The fields and their use counts come from
//! `tests/fixtures/k8saudit/k8s_audit_rules.yaml`; the events from `corpus.jsonl`. Figures are
//! in this thread's CPU time (wall time is shown too), so a busy machine does not skew them.

#[path = "../tests/support/mod.rs"]
mod support;

use falco_plugin_api::*;
use libloading::{Library, Symbol};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::ffi::{c_char, CString};
use std::hint::black_box;
use std::time::{Duration, Instant};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/k8saudit");

type ExtractFn = unsafe extern "C-unwind" fn(
    *mut ss_plugin_t,
    *const ss_plugin_event_input,
    *const ss_plugin_field_extract_input,
) -> ss_plugin_rc;

/// `ka.*` fields named in the rules file with their number of uses, most used first.
fn rule_fields(known: &HashMap<String, u32>) -> Vec<(String, usize)> {
    let rules = std::fs::read_to_string(format!("{FIXTURES}/k8s_audit_rules.yaml")).unwrap();
    let bytes = rules.as_bytes();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut i = 0;
    while let Some(at) = rules[i..].find("ka.") {
        let start = i + at;
        let boundary =
            start == 0 || !(bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'.');
        let mut end = start + 3;
        while end < bytes.len()
            && (bytes[end].is_ascii_alphanumeric() || b"._".contains(&bytes[end]))
        {
            end += 1;
        }
        let name = rules[start..end].trim_end_matches('.');
        let mut label = name.to_owned();
        if bytes.get(end) == Some(&b'[') {
            if let Some(close) = rules[end..].find(']') {
                label = rules[start..end + close + 1].to_owned();
            }
        }
        if boundary && known.contains_key(name) {
            *counts.entry(label).or_default() += 1;
        }
        i = end;
    }
    let mut fields: Vec<(String, usize)> = counts.into_iter().collect();
    fields.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    fields
}

/// A prepared extraction request for one field.
struct Request {
    label: String,
    _name: CString,
    _key: Option<CString>,
    field: ss_plugin_extract_field,
}

struct Plugin {
    _lib: Library,
    state: *mut ss_plugin_t,
    extract: ExtractFn,
    ids: HashMap<String, u32>,
}

unsafe extern "C-unwind" fn no_last_error(_: *mut ss_plugin_owner_t) -> *const c_char {
    std::ptr::null()
}

unsafe extern "C-unwind" fn no_log(
    _: *mut ss_plugin_owner_t,
    _: *const c_char,
    _: *const c_char,
    _: ss_plugin_log_severity,
) {
}

impl Plugin {
    fn load() -> Plugin {
        let path = support::plugin_path();
        // SAFETY: our own plugin library; symbol types are those of the plugin API header.
        unsafe {
            let lib = Library::new(&path).expect("dlopen plugin");
            let init: Symbol<
                unsafe extern "C-unwind" fn(
                    *const ss_plugin_init_input,
                    *mut ss_plugin_rc,
                ) -> *mut ss_plugin_t,
            > = lib.get(b"plugin_init").unwrap();
            let init = *init;
            let get_fields: Symbol<unsafe extern "C-unwind" fn() -> *const c_char> =
                lib.get(b"plugin_get_fields").unwrap();
            let get_fields = *get_fields;
            let extract: Symbol<ExtractFn> = lib.get(b"plugin_extract_fields").unwrap();
            let extract = *extract;
            let config = c"{}";
            let input = ss_plugin_init_input {
                config: config.as_ptr(),
                owner: std::ptr::null_mut(),
                get_owner_last_error: Some(no_last_error),
                tables: std::ptr::null(),
                log_fn: Some(no_log),
            };
            let mut rc = ss_plugin_rc_SS_PLUGIN_FAILURE;
            let state = init(&input, &mut rc);
            assert_eq!(rc, ss_plugin_rc_SS_PLUGIN_SUCCESS, "plugin_init");
            let fields = std::ffi::CStr::from_ptr(get_fields()).to_str().unwrap();
            let fields: Value = serde_json::from_str(fields).unwrap();
            let ids = fields
                .as_array()
                .unwrap()
                .iter()
                .enumerate()
                .map(|(i, f)| (f["name"].as_str().unwrap().to_owned(), i as u32))
                .collect();
            Plugin {
                _lib: lib,
                state,
                extract,
                ids,
            }
        }
    }

    fn request(&self, label: &str) -> Request {
        let (name, key) = match label.split_once('[') {
            Some((name, rest)) => (name, Some(rest.trim_end_matches(']'))),
            None => (label, None),
        };
        let cname = CString::new(name).unwrap();
        let key = key.map(|k| CString::new(k).unwrap());
        // SAFETY: zeroed is the "no result yet" state of this C struct.
        let mut field: ss_plugin_extract_field = unsafe { std::mem::zeroed() };
        field.field_id = self.ids[name];
        field.field = cname.as_ptr();
        field.ftype = 9; // PT_CHARBUF
        if let Some(key) = &key {
            field.arg_present = 1;
            field.arg_key = key.as_ptr();
        }
        Request {
            label: label.to_owned(),
            _name: cname,
            _key: key,
            field,
        }
    }

    /// One `plugin_extract_fields` call; returns the number of values.
    fn extract(&self, event: &[u8], evtnum: u64, req: &mut Request) -> u64 {
        let evt = ss_plugin_event_input {
            evt: event.as_ptr() as *const ss_plugin_event,
            evtnum,
            evtsrc: c"k8s_audit".as_ptr(),
        };
        // SAFETY: zeroed vtables: extraction uses no tables.
        let reader_ext: ss_plugin_table_reader_vtable_ext = unsafe { std::mem::zeroed() };
        let input = ss_plugin_field_extract_input {
            owner: std::ptr::null_mut(),
            get_owner_last_error: Some(no_last_error),
            num_fields: 1,
            fields: &mut req.field,
            table_reader: unsafe { std::mem::zeroed() },
            table_reader_ext: &reader_ext as *const _ as *mut _,
            value_offsets: std::ptr::null_mut(),
        };
        // SAFETY: all pointers are valid for the call.
        let rc = unsafe { (self.extract)(self.state, &evt, &input) };
        assert_eq!(rc, ss_plugin_rc_SS_PLUGIN_SUCCESS, "{}", req.label);
        req.field.res_len
    }
}

fn corpus() -> Vec<Vec<u8>> {
    std::fs::read(format!("{FIXTURES}/corpus.jsonl"))
        .unwrap()
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

/// CPU time of this thread: unlike wall time, it does not count time other processes had the
/// core, so figures stay "on one core" on a busy machine.
fn cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid timespec to write to.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Time spent in a measurement: wall clock and this thread's CPU.
#[derive(Clone, Copy)]
struct Spent {
    wall: Duration,
    cpu: Duration,
}

/// Runs `round` until `min` of CPU time has passed; returns (rounds, time spent).
fn timed(min: Duration, mut round: impl FnMut()) -> (u64, Spent) {
    let (wall, cpu) = (Instant::now(), cpu_time());
    let mut rounds = 0;
    while rounds == 0 || cpu_time() - cpu < min {
        round();
        rounds += 1;
    }
    let spent = Spent {
        wall: wall.elapsed(),
        cpu: cpu_time() - cpu,
    };
    (rounds, spent)
}

fn main() {
    let plugin = Plugin::load();
    let payloads = corpus();
    let events: Vec<Vec<u8>> = payloads
        .iter()
        .map(|p| support::Event::plugin_event(22, 1, p).raw)
        .collect();
    let fields = rule_fields(&plugin.ids);
    let mut all: Vec<Request> = fields.iter().map(|(l, _)| plugin.request(l)).collect();
    let mut top20: Vec<Request> = fields
        .iter()
        .take(20)
        .map(|(l, _)| plugin.request(l))
        .collect();
    let bytes: usize = payloads.iter().map(Vec::len).sum();
    println!(
        "corpus: {} events, {} bytes on average; stock rules use {} distinct ka.* fields",
        events.len(),
        bytes / events.len(),
        all.len()
    );
    let mut evtnum = 0u64;

    // 1. Per field, event already parsed: same event number, every call a cache hit.
    const REPEAT: u64 = 20;
    let mut per_field = vec![Duration::ZERO; all.len()];
    let mut calls_per_field = 0u64;
    let mut values = 0u64;
    let (_, spent) = timed(Duration::from_secs(2), || {
        for event in &events {
            evtnum += 1;
            values += plugin.extract(event, evtnum, &mut all[0]); // parses
            for (i, req) in all.iter_mut().enumerate() {
                let t = cpu_time();
                for _ in 0..REPEAT {
                    values += black_box(plugin.extract(event, evtnum, req));
                }
                per_field[i] += cpu_time() - t;
            }
        }
        calls_per_field += REPEAT * events.len() as u64;
    });
    let ns = |d: Duration, n: u64| d.as_nanos() as f64 / n as f64;
    let mean = per_field
        .iter()
        .map(|d| ns(*d, calls_per_field))
        .sum::<f64>()
        / all.len() as f64;
    let uses: usize = fields.iter().map(|f| f.1).sum();
    let weighted = per_field
        .iter()
        .zip(&fields)
        .map(|(d, f)| ns(*d, calls_per_field) * f.1 as f64)
        .sum::<f64>()
        / uses as f64;
    println!();
    println!("extraction after parse (one plugin_extract_fields call per field, CPU time):");
    println!(
        "  mean over the {} stock-rule fields: {mean:.0} ns/field (target < 1000)",
        all.len()
    );
    println!("  weighted by their {uses} uses in the rules: {weighted:.0} ns/field");
    println!(
        "  (wall clock ran {:.0}% over CPU time: other load on the machine)",
        (spent.wall.as_secs_f64() / spent.cpu.as_secs_f64() - 1.0) * 100.0
    );
    let mut slowest: Vec<(usize, f64)> = per_field
        .iter()
        .map(|d| ns(*d, calls_per_field))
        .enumerate()
        .collect();
    slowest.sort_by(|a, b| b.1.total_cmp(&a.1));
    for (i, t) in slowest.iter().take(5) {
        println!("    {:<45} {t:>6.0} ns", all[*i].label);
    }

    // 2. Parse + the 20 most used fields, each event new (first call parses).
    let (rounds, spent) = timed(Duration::from_secs(2), || {
        for event in &events {
            evtnum += 1;
            for req in top20.iter_mut() {
                values += black_box(plugin.extract(event, evtnum, req));
            }
        }
    });
    let n = (rounds * events.len() as u64) as f64;
    let per_cpu_sec = n / spent.cpu.as_secs_f64();
    println!();
    println!("parse + the 20 most used fields, one core:");
    println!(
        "  {per_cpu_sec:.0} events/s of CPU time, {:.2} µs/event (target >= 100000 events/s)",
        1e6 / per_cpu_sec
    );
    println!(
        "  {:.0} events/s of wall time",
        n / spent.wall.as_secs_f64()
    );
    println!(
        "  fields: {}",
        top20
            .iter()
            .map(|r| r.label.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );

    // 3. The parser alone.
    let mut tape = k8saudit_ovh::json::Tape::default();
    let (rounds, spent) = timed(Duration::from_secs(1), || {
        for p in &payloads {
            tape.parse(black_box(p)).unwrap();
        }
    });
    let secs = spent.cpu.as_secs_f64();
    println!();
    println!("strict JSON parse into the tape, alone (CPU time):");
    println!(
        "  {:.0} MB/s, {:.0} events/s",
        (rounds as f64 * bytes as f64) / secs / 1e6,
        (rounds as f64 * payloads.len() as f64) / secs
    );
    black_box(values);
}
