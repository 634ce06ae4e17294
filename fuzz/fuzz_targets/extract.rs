//! Extraction of every `ka.*` field over arbitrary payload bytes, through the plugin's C ABI
//! (`plugin_extract_fields`, as Falco calls it): never panics (libFuzzer's panic hook aborts
//! even where the plugin would catch the unwind), never fails the request, and every value
//! handed out is a readable C string.
#![no_main]

use falco_plugin_api::*;
use libfuzzer_sys::fuzz_target;
use std::ffi::{c_char, CStr, CString};
use std::sync::OnceLock;

// The plugin's exported C ABI, linked in from the k8saudit-ovh rlib.
extern "C-unwind" {
    fn plugin_init(input: *const ss_plugin_init_input, rc: *mut ss_plugin_rc) -> *mut ss_plugin_t;
    fn plugin_get_fields() -> *const c_char;
    fn plugin_extract_fields(
        s: *mut ss_plugin_t,
        evt: *const ss_plugin_event_input,
        input: *const ss_plugin_field_extract_input,
    ) -> ss_plugin_rc;
}

// Keep the library's exports reachable.
#[allow(unused_imports)]
use k8saudit_ovh as _;

unsafe extern "C-unwind" fn no_last_error(_: *mut ss_plugin_owner_t) -> *const c_char {
    std::ptr::null()
}

/// One field with the arguments to try it with.
struct Field {
    id: u32,
    name: CString,
    args: Vec<(Option<u64>, Option<CString>)>,
}

struct Plugin {
    state: usize,
    fields: Vec<Field>,
}

fn plugin() -> &'static Plugin {
    static PLUGIN: OnceLock<Plugin> = OnceLock::new();
    PLUGIN.get_or_init(|| unsafe {
        let input = ss_plugin_init_input {
            config: c"{\"clusterName\":\"fuzz\"}".as_ptr(),
            owner: std::ptr::null_mut(),
            get_owner_last_error: Some(no_last_error),
            tables: std::ptr::null(),
            log_fn: None,
        };
        let mut rc = ss_plugin_rc_SS_PLUGIN_FAILURE;
        let state = plugin_init(&input, &mut rc);
        assert_eq!(rc, ss_plugin_rc_SS_PLUGIN_SUCCESS);
        let schema = CStr::from_ptr(plugin_get_fields()).to_str().unwrap();
        let schema: serde_json::Value = serde_json::from_str(schema).unwrap();
        let fields = schema
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
            .map(|(id, f)| {
                let flag = |k: &str| f["arg"].get(k).and_then(|v| v.as_bool()).unwrap_or(false);
                let args = if flag("isKey") {
                    [
                        "",
                        "a",
                        "*",
                        "/etc*",
                        "/var/run/docker.sock",
                        "watch",
                        "a b",
                    ]
                    .iter()
                    .map(|k| (None, Some(CString::new(*k).unwrap())))
                    .collect()
                } else if flag("isIndex") {
                    [None, Some(0), Some(1), Some(u64::MAX), Some(1 << 63)]
                        .into_iter()
                        .map(|i| (i, None))
                        .collect()
                } else {
                    vec![(None, None)]
                };
                Field {
                    id: id as u32,
                    name: CString::new(f["name"].as_str().unwrap()).unwrap(),
                    args,
                }
            })
            .collect();
        Plugin {
            state: state as usize,
            fields,
        }
    })
}

fn plugin_event(payload: &[u8]) -> Vec<u8> {
    let len = 26 + 8 + 4 + payload.len();
    let mut raw = Vec::with_capacity(len);
    raw.extend_from_slice(&1u64.to_le_bytes()); // ts
    raw.extend_from_slice(&u64::MAX.to_le_bytes()); // tid
    raw.extend_from_slice(&(len as u32).to_le_bytes());
    raw.extend_from_slice(&322u16.to_le_bytes()); // PPME_PLUGINEVENT_E
    raw.extend_from_slice(&2u32.to_le_bytes());
    raw.extend_from_slice(&4u32.to_le_bytes());
    raw.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    raw.extend_from_slice(&22u32.to_le_bytes());
    raw.extend_from_slice(payload);
    raw
}

fuzz_target!(|data: &[u8]| {
    if data.len() > (1 << 20) {
        return;
    }
    let plugin = plugin();
    let event = plugin_event(data);
    static EVTNUM: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let evtnum = EVTNUM.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let evt = ss_plugin_event_input {
        evt: event.as_ptr() as *const ss_plugin_event,
        evtnum,
        evtsrc: c"k8s_audit".as_ptr(),
    };
    for field in &plugin.fields {
        for (index, key) in &field.args {
            let mut f: ss_plugin_extract_field = unsafe { std::mem::zeroed() };
            f.field_id = field.id;
            f.field = field.name.as_ptr();
            f.ftype = 9; // PT_CHARBUF
            if let Some(i) = index {
                f.arg_present = 1;
                f.arg_index = *i;
            }
            if let Some(k) = key {
                f.arg_present = 1;
                f.arg_key = k.as_ptr();
            }
            let reader_ext: ss_plugin_table_reader_vtable_ext = unsafe { std::mem::zeroed() };
            let input = ss_plugin_field_extract_input {
                owner: std::ptr::null_mut(),
                get_owner_last_error: Some(no_last_error),
                num_fields: 1,
                fields: &mut f,
                table_reader: unsafe { std::mem::zeroed() },
                table_reader_ext: &reader_ext as *const _ as *mut _,
                value_offsets: std::ptr::null_mut(),
            };
            let rc = unsafe { plugin_extract_fields(plugin.state as *mut _, &evt, &input) };
            assert_eq!(rc, ss_plugin_rc_SS_PLUGIN_SUCCESS, "{:?}", field.name);
            for i in 0..f.res_len as usize {
                let s = unsafe { CStr::from_ptr(*f.res.str_.add(i)) };
                std::hint::black_box(s.to_bytes().len());
            }
        }
    }
});
