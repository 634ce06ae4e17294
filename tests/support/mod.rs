//! A thin Falco stand-in for integration tests: it loads the built `libk8saudit_ovh.so` and
//! drives it through the exported plugin C ABI the way Falco (libsinsp) does, including
//! `open` with `open_params`, which `falco_plugin_runner` cannot do.
//!
//! Logs the plugin sends through Falco's log callback are captured process-wide
//! ([`captured_logs`]): the SDK keeps one logger per loaded library, so per-host capture would
//! be unreliable when tests run in parallel.

#![allow(dead_code)]

use falco_plugin_api::*;
use libloading::{Library, Symbol};
use serde_json::Value;
use std::collections::HashMap;
use std::ffi::{c_char, CStr, CString};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Path of the cdylib cargo built for this test run.
pub fn plugin_path() -> PathBuf {
    if let Some(path) = std::env::var_os("K8SAUDIT_OVH_PLUGIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("current_exe");
    // target/<profile>/deps/<test-binary>: cargo test builds the cdylib into deps/ (the copy
    // in target/<profile>/ is only refreshed by cargo build, so it may be stale).
    let deps = exe.parent().expect("deps dir");
    // Examples live in target/<profile>/examples/, next to deps/.
    let candidates = [
        Some(deps.join("libk8saudit_ovh.so")),
        deps.parent()
            .map(|p| p.join("deps").join("libk8saudit_ovh.so")),
        deps.parent().map(|p| p.join("libk8saudit_ovh.so")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("libk8saudit_ovh.so not found next to {}", exe.display()))
}

fn library() -> &'static Library {
    static LIB: OnceLock<Library> = OnceLock::new();
    // SAFETY: loading our own plugin library, whose initialisers are Rust statics only.
    LIB.get_or_init(|| unsafe { Library::new(plugin_path()).expect("dlopen plugin") })
}

fn sym<T: Copy>(name: &str) -> T {
    // SAFETY: the symbol types below are those of the plugin API header.
    unsafe {
        let s: Symbol<T> = library()
            .get(name.as_bytes())
            .unwrap_or_else(|e| panic!("missing symbol {name}: {e}"));
        *s
    }
}

/// One line the plugin logged, with its severity (Falco's numbering: 3 error … 8 trace).
#[derive(Debug, Clone)]
pub struct LogLine {
    pub severity: u32,
    pub message: String,
}

static LOGS: Mutex<Vec<LogLine>> = Mutex::new(Vec::new());
static ECHO_LOGS: AtomicBool = AtomicBool::new(false);

/// Also print every plugin log line to stderr (as Falco would); `K8SAUDIT_TEST_LOGS=1` does
/// the same for tests.
pub fn echo_logs(on: bool) {
    ECHO_LOGS.store(on, Ordering::Relaxed);
}

/// Every log line any plugin instance sent so far in this process.
pub fn captured_logs() -> Vec<LogLine> {
    LOGS.lock().unwrap().clone()
}

unsafe extern "C-unwind" fn log_fn(
    _owner: *mut ss_plugin_owner_t,
    _component: *const c_char,
    msg: *const c_char,
    sev: ss_plugin_log_severity,
) {
    if msg.is_null() {
        return;
    }
    // SAFETY: the plugin passes a NUL-terminated string valid for this call.
    let message = unsafe { CStr::from_ptr(msg) }
        .to_string_lossy()
        .into_owned();
    if ECHO_LOGS.load(Ordering::Relaxed) || std::env::var_os("K8SAUDIT_TEST_LOGS").is_some() {
        eprintln!("[plugin log {sev}] {message}");
    }
    LOGS.lock().unwrap().push(LogLine {
        severity: sev,
        message,
    });
}

unsafe extern "C-unwind" fn owner_last_error(_owner: *mut ss_plugin_owner_t) -> *const c_char {
    std::ptr::null()
}

/// A stand-in owner object; the plugin only passes it back to us.
static OWNER: u8 = 0;

fn owner() -> *mut ss_plugin_owner_t {
    &OWNER as *const u8 as *mut ss_plugin_owner_t
}

fn cstr_or_empty(p: *const c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        // SAFETY: the plugin returns NUL-terminated strings.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }
}

/// Static plugin information, read without init.
pub fn required_api_version() -> String {
    let f: unsafe extern "C-unwind" fn() -> *const c_char = sym("plugin_get_required_api_version");
    cstr_or_empty(unsafe { f() })
}

/// `plugin_get_<what>` for the string getters (name, version, description, contact,
/// event_source).
pub fn info(what: &str) -> String {
    let f: unsafe extern "C-unwind" fn() -> *const c_char = sym(&format!("plugin_get_{what}"));
    cstr_or_empty(unsafe { f() })
}

/// The plugin id.
pub fn plugin_id() -> u32 {
    let f: unsafe extern "C-unwind" fn() -> u32 = sym("plugin_get_id");
    unsafe { f() }
}

/// The init schema and its type (0 none, 1 JSON).
pub fn init_schema() -> (u32, String) {
    let f: unsafe extern "C-unwind" fn(*mut ss_plugin_schema_type) -> *const c_char =
        sym("plugin_get_init_schema");
    let mut ty: ss_plugin_schema_type = 0;
    let s = unsafe { f(&mut ty) };
    (ty, cstr_or_empty(s))
}

/// `plugin_get_extract_event_sources`, as JSON.
pub fn extract_event_sources() -> Value {
    let f: unsafe extern "C-unwind" fn() -> *const c_char = sym("plugin_get_extract_event_sources");
    serde_json::from_str(&cstr_or_empty(unsafe { f() })).expect("sources JSON")
}

/// `plugin_get_extract_event_types` (asked of an initialised plugin, as libsinsp does).
pub fn extract_event_types() -> Vec<u16> {
    let host = Host::init("").expect("init");
    let f: unsafe extern "C-unwind" fn(*mut u32, *mut ss_plugin_t) -> *mut u16 =
        sym("plugin_get_extract_event_types");
    let mut n = 0u32;
    let p = unsafe { f(&mut n, host.state) };
    if p.is_null() {
        return vec![];
    }
    // SAFETY: the plugin returns n event codes.
    unsafe { std::slice::from_raw_parts(p, n as usize) }.to_vec()
}

/// The field table, as JSON.
pub fn fields_json() -> Value {
    let f: unsafe extern "C-unwind" fn() -> *const c_char = sym("plugin_get_fields");
    serde_json::from_str(&cstr_or_empty(unsafe { f() })).expect("fields JSON")
}

/// A field of the plugin's table: its index, and whether it is a list (the host says so in
/// each request, as libsinsp does; the Go SDK relies on it).
#[derive(Clone, Copy)]
struct FieldInfo {
    id: u32,
    list: bool,
}

fn field_ids() -> &'static HashMap<String, FieldInfo> {
    static IDS: OnceLock<HashMap<String, FieldInfo>> = OnceLock::new();
    IDS.get_or_init(|| {
        fields_json()
            .as_array()
            .expect("fields array")
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let info = FieldInfo {
                    id: i as u32,
                    list: f["isList"].as_bool().unwrap_or(false),
                };
                (f["name"].as_str().unwrap().to_owned(), info)
            })
            .collect()
    })
}

/// An initialised plugin (`plugin_init` .. `plugin_destroy`).
pub struct Host {
    state: *mut ss_plugin_t,
    evtnum: u64,
}

/// What `next_batch` answered.
#[derive(Debug)]
pub enum Batch {
    Events(Vec<Event>),
    Timeout,
    Eof,
    Failure(String),
}

/// A copy of one event the plugin produced (or one we built).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub ts: u64,
    pub plugin_id: u32,
    pub payload: Vec<u8>,
    /// The whole event in its binary form, for extraction.
    pub raw: Vec<u8>,
}

impl Event {
    /// Builds a plugin event (PPME_PLUGINEVENT_E) carrying `payload`, as a source would.
    pub fn plugin_event(plugin_id: u32, ts: u64, payload: &[u8]) -> Event {
        let header = 26usize;
        let len = header + 8 + 4 + payload.len();
        let mut raw = Vec::with_capacity(len);
        raw.extend_from_slice(&ts.to_le_bytes());
        raw.extend_from_slice(&u64::MAX.to_le_bytes()); // tid
        raw.extend_from_slice(&(len as u32).to_le_bytes());
        raw.extend_from_slice(&322u16.to_le_bytes()); // PPME_PLUGINEVENT_E
        raw.extend_from_slice(&2u32.to_le_bytes()); // nparams
        raw.extend_from_slice(&4u32.to_le_bytes());
        raw.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        raw.extend_from_slice(&plugin_id.to_le_bytes());
        raw.extend_from_slice(payload);
        Event {
            ts,
            plugin_id,
            payload: payload.to_vec(),
            raw,
        }
    }

    /// Parses an event the plugin handed out.
    ///
    /// # Safety
    /// `evt` must point to a valid event of the plugin API.
    unsafe fn from_raw(evt: *const ss_plugin_event) -> Event {
        let hdr = unsafe { std::ptr::read_unaligned(evt) };
        let bytes = unsafe { std::slice::from_raw_parts(evt as *const u8, hdr.len as usize) };
        let (ty, nparams, ts) = (hdr.type_, hdr.nparams, hdr.ts);
        assert_eq!(ty, 322, "plugin event type");
        assert_eq!(nparams, 2, "plugin event params");
        let l0 = u32::from_le_bytes(bytes[26..30].try_into().unwrap()) as usize;
        let l1 = u32::from_le_bytes(bytes[30..34].try_into().unwrap()) as usize;
        assert_eq!(l0, 4);
        let plugin_id = u32::from_le_bytes(bytes[34..38].try_into().unwrap());
        let payload = bytes[38..38 + l1].to_vec();
        Event {
            ts,
            plugin_id,
            payload,
            raw: bytes.to_vec(),
        }
    }

    /// The payload as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.payload).into_owned()
    }
}

/// The argument of a field request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    None,
    Index(u64),
    /// A key, passed as current libsinsp does (no index).
    Key(String),
    /// A key with index 0 set too, as older libsinsp did.
    KeyWithIndex0(String),
}

/// One extracted value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Extracted {
    /// The plugin returned no value.
    None,
    /// Strings (one for a scalar field; any number for a list).
    Values(Vec<Vec<u8>>),
    /// extract_fields failed for the whole request.
    Error(String),
}

impl Extracted {
    /// Values as lossy strings (empty for no value).
    pub fn strings(&self) -> Vec<String> {
        match self {
            Extracted::Values(v) => v
                .iter()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .collect(),
            _ => vec![],
        }
    }

    /// A scalar value as a string.
    pub fn one(&self) -> Option<String> {
        match self {
            Extracted::Values(v) if v.len() == 1 => {
                Some(String::from_utf8_lossy(&v[0]).into_owned())
            }
            _ => None,
        }
    }
}

impl Host {
    /// `plugin_init` with `config` (empty is passed as `{}`, as libsinsp does when the plugin
    /// has a JSON schema).
    pub fn init(config: &str) -> Result<Host, String> {
        let init: unsafe extern "C-unwind" fn(
            *const ss_plugin_init_input,
            *mut ss_plugin_rc,
        ) -> *mut ss_plugin_t = sym("plugin_init");
        let config = if config.trim().is_empty() {
            "{}"
        } else {
            config
        };
        let config = CString::new(config).unwrap();
        let input = ss_plugin_init_input {
            config: config.as_ptr(),
            owner: owner(),
            get_owner_last_error: Some(owner_last_error),
            tables: std::ptr::null(),
            log_fn: Some(log_fn),
        };
        let mut rc: ss_plugin_rc = ss_plugin_rc_SS_PLUGIN_FAILURE;
        let state = unsafe { init(&input, &mut rc) };
        let host = Host { state, evtnum: 0 };
        if rc != ss_plugin_rc_SS_PLUGIN_SUCCESS {
            let err = host.last_error();
            return Err(err);
        }
        Ok(host)
    }

    /// `plugin_get_last_error`.
    pub fn last_error(&self) -> String {
        let f: unsafe extern "C-unwind" fn(*mut ss_plugin_t) -> *const c_char =
            sym("plugin_get_last_error");
        cstr_or_empty(unsafe { f(self.state) })
    }

    /// `plugin_open` with `params` (None passes NULL).
    pub fn open(&mut self, params: Option<&str>) -> Result<Instance<'_>, String> {
        let open: unsafe extern "C-unwind" fn(
            *mut ss_plugin_t,
            *const c_char,
            *mut ss_plugin_rc,
        ) -> *mut ss_instance_t = sym("plugin_open");
        let params = params.map(|p| CString::new(p).unwrap());
        let mut rc: ss_plugin_rc = ss_plugin_rc_SS_PLUGIN_FAILURE;
        let inst = unsafe {
            open(
                self.state,
                params.as_ref().map_or(std::ptr::null(), |p| p.as_ptr()),
                &mut rc,
            )
        };
        if rc != ss_plugin_rc_SS_PLUGIN_SUCCESS || inst.is_null() {
            return Err(self.last_error());
        }
        Ok(Instance {
            host: self,
            inst,
            closed: false,
        })
    }

    /// `plugin_get_metrics`, as (name, type: monotonic or not) in the plugin's order.
    pub fn metric_kinds(&self) -> Vec<(String, ss_plugin_metric_type)> {
        let f: unsafe extern "C-unwind" fn(*mut ss_plugin_t, *mut u32) -> *mut ss_plugin_metric =
            sym("plugin_get_metrics");
        let mut n = 0u32;
        let ptr = unsafe { f(self.state, &mut n) };
        if ptr.is_null() {
            return vec![];
        }
        // SAFETY: the plugin returned n metrics, valid until its next call.
        unsafe { std::slice::from_raw_parts(ptr, n as usize) }
            .iter()
            .map(|m| (cstr_or_empty(m.name), m.type_))
            .collect()
    }

    /// `plugin_get_metrics`, as name → value (integers and floats as f64).
    pub fn metrics(&mut self) -> HashMap<String, f64> {
        let f: unsafe extern "C-unwind" fn(*mut ss_plugin_t, *mut u32) -> *mut ss_plugin_metric =
            sym("plugin_get_metrics");
        let mut n = 0u32;
        let ptr = unsafe { f(self.state, &mut n) };
        let mut out = HashMap::new();
        if ptr.is_null() {
            return out;
        }
        for m in unsafe { std::slice::from_raw_parts(ptr, n as usize) } {
            let name = cstr_or_empty(m.name);
            // SAFETY: the union member read is the one value_type names.
            let v = unsafe {
                match m.value_type {
                    t if t == ss_plugin_metric_value_type_SS_PLUGIN_METRIC_VALUE_TYPE_U64 => {
                        m.value.u64_ as f64
                    }
                    t if t == ss_plugin_metric_value_type_SS_PLUGIN_METRIC_VALUE_TYPE_S64 => {
                        m.value.s64 as f64
                    }
                    t if t == ss_plugin_metric_value_type_SS_PLUGIN_METRIC_VALUE_TYPE_U32 => {
                        m.value.u32_ as f64
                    }
                    t if t == ss_plugin_metric_value_type_SS_PLUGIN_METRIC_VALUE_TYPE_S32 => {
                        m.value.s32 as f64
                    }
                    t if t == ss_plugin_metric_value_type_SS_PLUGIN_METRIC_VALUE_TYPE_D => {
                        m.value.d
                    }
                    t if t == ss_plugin_metric_value_type_SS_PLUGIN_METRIC_VALUE_TYPE_F => {
                        m.value.f as f64
                    }
                    _ => m.value.i as f64,
                }
            };
            out.insert(name, v);
        }
        out
    }

    /// `plugin_event_to_string` (`%evt.plugininfo`).
    pub fn event_to_string(&mut self, event: &Event) -> Option<String> {
        let f: unsafe extern "C-unwind" fn(
            *mut ss_plugin_t,
            *const ss_plugin_event_input,
        ) -> *const c_char = sym("plugin_event_to_string");
        self.evtnum += 1;
        let input = ss_plugin_event_input {
            evt: event.raw.as_ptr() as *const ss_plugin_event,
            evtnum: self.evtnum,
            evtsrc: c"k8s_audit".as_ptr(),
        };
        let p = unsafe { f(self.state, &input) };
        (!p.is_null()).then(|| cstr_or_empty(p))
    }

    /// Extracts each `(field, arg)` from `event`, one `extract_fields` call per field, as
    /// libsinsp does for rule conditions. All calls use the same event number.
    pub fn extract(&mut self, event: &Event, fields: &[(&str, Arg)]) -> Vec<Extracted> {
        self.evtnum += 1;
        let evtnum = self.evtnum;
        fields
            .iter()
            .map(|(name, arg)| self.extract_one(event, evtnum, name, arg))
            .collect()
    }

    /// One `extract_fields` call for one field on `event`, with an explicit event number.
    pub fn extract_one(&mut self, event: &Event, evtnum: u64, name: &str, arg: &Arg) -> Extracted {
        let f: unsafe extern "C-unwind" fn(
            *mut ss_plugin_t,
            *const ss_plugin_event_input,
            *const ss_plugin_field_extract_input,
        ) -> ss_plugin_rc = sym("plugin_extract_fields");
        let Some(&info) = field_ids().get(name) else {
            panic!("no field {name} in the plugin's table");
        };
        let cname = CString::new(name).unwrap();
        let key = match arg {
            Arg::Key(k) | Arg::KeyWithIndex0(k) => Some(CString::new(k.as_str()).unwrap()),
            _ => None,
        };
        // SAFETY: zeroed is a valid "no result yet" state for this C struct.
        let mut field: ss_plugin_extract_field = unsafe { std::mem::zeroed() };
        field.field_id = info.id;
        field.field = cname.as_ptr();
        field.ftype = 9; // PT_CHARBUF
        field.flist = info.list.into();
        match arg {
            Arg::None => {}
            Arg::Index(i) => {
                field.arg_present = 1;
                field.arg_index = *i;
            }
            Arg::Key(_) | Arg::KeyWithIndex0(_) => {
                field.arg_present = 1;
                field.arg_key = key.as_ref().unwrap().as_ptr();
                field.arg_index = 0;
            }
        }
        // SAFETY: zeroed vtables: the plugin must not need tables to extract.
        let reader_ext: ss_plugin_table_reader_vtable_ext = unsafe { std::mem::zeroed() };
        let input = ss_plugin_field_extract_input {
            owner: owner(),
            get_owner_last_error: Some(owner_last_error),
            num_fields: 1,
            fields: &mut field,
            table_reader: unsafe { std::mem::zeroed() },
            table_reader_ext: &reader_ext as *const _ as *mut _,
            value_offsets: std::ptr::null_mut(),
        };
        let evt_input = ss_plugin_event_input {
            evt: event.raw.as_ptr() as *const ss_plugin_event,
            evtnum,
            evtsrc: c"k8s_audit".as_ptr(),
        };
        let rc = unsafe { f(self.state, &evt_input, &input) };
        if rc != ss_plugin_rc_SS_PLUGIN_SUCCESS {
            return Extracted::Error(self.last_error());
        }
        if field.res_len == 0 {
            return Extracted::None;
        }
        // SAFETY: for string fields the plugin sets res.str_ to res_len C strings.
        let values = unsafe {
            std::slice::from_raw_parts(field.res.str_, field.res_len as usize)
                .iter()
                .map(|p| CStr::from_ptr(*p).to_bytes().to_vec())
                .collect()
        };
        Extracted::Values(values)
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let f: unsafe extern "C-unwind" fn(*mut ss_plugin_t) = sym("plugin_destroy");
        unsafe { f(self.state) };
    }
}

/// An open source instance (`plugin_open` .. `plugin_close`).
pub struct Instance<'h> {
    pub host: &'h mut Host,
    inst: *mut ss_instance_t,
    closed: bool,
}

impl Instance<'_> {
    /// One `plugin_next_batch` call.
    pub fn next_batch(&mut self) -> Batch {
        let f: unsafe extern "C-unwind" fn(
            *mut ss_plugin_t,
            *mut ss_instance_t,
            *mut u32,
            *mut *mut *mut ss_plugin_event,
        ) -> ss_plugin_rc = sym("plugin_next_batch");
        let mut n = 0u32;
        let mut evts: *mut *mut ss_plugin_event = std::ptr::null_mut();
        let rc = unsafe { f(self.host.state, self.inst, &mut n, &mut evts) };
        match rc {
            r if r == ss_plugin_rc_SS_PLUGIN_SUCCESS => {
                let events = (0..n as usize)
                    // SAFETY: the plugin returned n valid event pointers.
                    .map(|i| unsafe { Event::from_raw(*evts.add(i)) })
                    .collect();
                Batch::Events(events)
            }
            r if r == ss_plugin_rc_SS_PLUGIN_TIMEOUT => Batch::Timeout,
            r if r == ss_plugin_rc_SS_PLUGIN_EOF => Batch::Eof,
            _ => Batch::Failure(self.host.last_error()),
        }
    }

    /// Calls `next_batch` until `want` events arrived, the source ends or fails, or
    /// `deadline` passes. Returns the events and how it ended (None: still running).
    pub fn collect(&mut self, want: usize, deadline: Duration) -> (Vec<Event>, Option<Batch>) {
        let end = Instant::now() + deadline;
        let mut out = Vec::new();
        while out.len() < want && Instant::now() < end {
            match self.next_batch() {
                Batch::Events(ev) => out.extend(ev),
                Batch::Timeout => {}
                other => return (out, Some(other)),
            }
        }
        (out, None)
    }

    /// Reads to the end (EOF or failure) or until `deadline`.
    pub fn drain(&mut self, deadline: Duration) -> (Vec<Event>, Option<Batch>) {
        self.collect(usize::MAX, deadline)
    }

    /// `plugin_close`.
    pub fn close(mut self) {
        self.close_inner();
    }

    fn close_inner(&mut self) {
        if !self.closed {
            self.closed = true;
            let f: unsafe extern "C-unwind" fn(*mut ss_plugin_t, *mut ss_instance_t) =
                sym("plugin_close");
            unsafe { f(self.host.state, self.inst) };
        }
    }
}

impl Drop for Instance<'_> {
    fn drop(&mut self) {
        self.close_inner();
    }
}

/// A field request made ready once, as libsinsp's filterchecks hold theirs: with it, a
/// benchmark's extraction loop costs the host what it costs Falco (no symbol lookup, string
/// building or table search per call).
pub struct PreparedField {
    /// The field name, as the rules write it.
    pub name: String,
    info: FieldInfo,
    cname: CString,
    arg: Arg,
    key: Option<CString>,
}

/// What [`Instance::next_batch_raw`] answered.
#[derive(Debug)]
pub enum RawBatch {
    /// This many events were lent to the callback.
    Events(usize),
    Timeout,
    Eof,
    Failure(String),
}

type ExtractFn = unsafe extern "C-unwind" fn(
    *mut ss_plugin_t,
    *const ss_plugin_event_input,
    *const ss_plugin_field_extract_input,
) -> ss_plugin_rc;

type NextBatchFn = unsafe extern "C-unwind" fn(
    *mut ss_plugin_t,
    *mut ss_instance_t,
    *mut u32,
    *mut *mut *mut ss_plugin_event,
) -> ss_plugin_rc;

fn extract_fn() -> ExtractFn {
    static F: OnceLock<ExtractFn> = OnceLock::new();
    *F.get_or_init(|| sym("plugin_extract_fields"))
}

fn next_batch_fn() -> NextBatchFn {
    static F: OnceLock<NextBatchFn> = OnceLock::new();
    *F.get_or_init(|| sym("plugin_next_batch"))
}

/// Offset of the payload in a plugin event (PPME_PLUGINEVENT_E): header, two parameter
/// lengths, plugin id.
const PLUGIN_EVENT_PAYLOAD: usize = 26 + 4 + 4 + 4;

/// The payload of a plugin event in its binary form (see [`Instance::next_batch_raw`]).
pub fn event_payload(raw: &[u8]) -> &[u8] {
    raw.get(PLUGIN_EVENT_PAYLOAD..).unwrap_or_default()
}

impl Host {
    /// Makes `name` with `arg` ready for [`Host::extract_prepared`]; None when the plugin's
    /// table has no such field.
    pub fn prepare_field(name: &str, arg: Arg) -> Option<PreparedField> {
        let info = *field_ids().get(name)?;
        let key = match &arg {
            Arg::Key(k) | Arg::KeyWithIndex0(k) => Some(CString::new(k.as_str()).unwrap()),
            _ => None,
        };
        Some(PreparedField {
            name: name.to_owned(),
            info,
            cname: CString::new(name).unwrap(),
            arg,
            key,
        })
    }

    /// One `extract_fields` call for `field` on the event `raw` (its binary form), lending
    /// each value to `each`; returns the number of values. Same request as [`Host::extract_one`].
    pub fn extract_prepared(
        &mut self,
        raw: &[u8],
        evtnum: u64,
        field: &PreparedField,
        mut each: impl FnMut(&[u8]),
    ) -> Result<usize, String> {
        // SAFETY: zeroed is a valid "no result yet" state for this C struct.
        let mut req: ss_plugin_extract_field = unsafe { std::mem::zeroed() };
        req.field_id = field.info.id;
        req.field = field.cname.as_ptr();
        req.ftype = 9; // PT_CHARBUF
        req.flist = field.info.list.into();
        match &field.arg {
            Arg::None => {}
            Arg::Index(i) => {
                req.arg_present = 1;
                req.arg_index = *i;
            }
            Arg::Key(_) | Arg::KeyWithIndex0(_) => {
                req.arg_present = 1;
                req.arg_key = field.key.as_ref().unwrap().as_ptr();
            }
        }
        // SAFETY: zeroed vtables: the plugin must not need tables to extract.
        let reader_ext: ss_plugin_table_reader_vtable_ext = unsafe { std::mem::zeroed() };
        let input = ss_plugin_field_extract_input {
            owner: owner(),
            get_owner_last_error: Some(owner_last_error),
            num_fields: 1,
            fields: &mut req,
            table_reader: unsafe { std::mem::zeroed() },
            table_reader_ext: &reader_ext as *const _ as *mut _,
            value_offsets: std::ptr::null_mut(),
        };
        let evt_input = ss_plugin_event_input {
            evt: raw.as_ptr() as *const ss_plugin_event,
            evtnum,
            evtsrc: c"k8s_audit".as_ptr(),
        };
        // SAFETY: `raw` is a whole plugin event; the request and its strings outlive the call.
        let rc = unsafe { extract_fn()(self.state, &evt_input, &input) };
        if rc != ss_plugin_rc_SS_PLUGIN_SUCCESS {
            return Err(self.last_error());
        }
        if req.res_len > 0 {
            // SAFETY: for string fields the plugin sets res.str_ to res_len C strings.
            for p in unsafe { std::slice::from_raw_parts(req.res.str_, req.res_len as usize) } {
                each(unsafe { CStr::from_ptr(*p) }.to_bytes());
            }
        }
        Ok(req.res_len as usize)
    }
}

impl Instance<'_> {
    /// One `plugin_next_batch` call that lends each event, in its binary form, to `each`
    /// (with the host, to extract from it) instead of copying it, as libsinsp does: the bytes
    /// are the plugin's, valid until the next call.
    pub fn next_batch_raw(&mut self, mut each: impl FnMut(&mut Host, &[u8])) -> RawBatch {
        let mut n = 0u32;
        let mut evts: *mut *mut ss_plugin_event = std::ptr::null_mut();
        // SAFETY: plain out-parameters, as the plugin API defines them.
        let rc = unsafe { next_batch_fn()(self.host.state, self.inst, &mut n, &mut evts) };
        match rc {
            r if r == ss_plugin_rc_SS_PLUGIN_SUCCESS => {
                for i in 0..n as usize {
                    // SAFETY: the plugin returned n valid events, each `len` bytes long.
                    let raw = unsafe {
                        let evt = *evts.add(i);
                        let len = std::ptr::read_unaligned(evt).len as usize;
                        std::slice::from_raw_parts(evt as *const u8, len)
                    };
                    each(self.host, raw);
                }
                RawBatch::Events(n as usize)
            }
            r if r == ss_plugin_rc_SS_PLUGIN_TIMEOUT => RawBatch::Timeout,
            r if r == ss_plugin_rc_SS_PLUGIN_EOF => RawBatch::Eof,
            _ => RawBatch::Failure(self.host.last_error()),
        }
    }
}

/// Number of threads of this process.
pub fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap_or_else(|e| panic!("cannot list /proc/self/task: {e}"))
        .count()
}

/// Number of open sockets of this process. Panics when /proc cannot tell.
pub fn socket_count() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap_or_else(|e| panic!("cannot list /proc/self/fd: {e}"))
        .filter_map(|e| e.ok())
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .filter(|t| t.to_string_lossy().starts_with("socket:"))
        .count()
}

/// A fresh temporary file path under the target dir (kept per test run).
pub fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("k8saudit-ovh-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}
