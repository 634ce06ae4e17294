//! The `ka.*` field table and extraction. (Placeholder: two fields until the full table lands.)

use crate::K8sAuditOvh;
use falco_plugin::anyhow::Error;
use falco_plugin::event::PluginEvent;
use falco_plugin::extract::{field, ExtractFieldInfo, ExtractPlugin, ExtractRequest};
use std::ffi::CString;

/// Per-plugin cache of the last parsed event.
#[derive(Default)]
pub struct ExtractCache;

fn top_level_string(req: &ExtractRequest<K8sAuditOvh>, key: &str) -> Option<CString> {
    let event = req.event.event().ok()?;
    let value: serde_json::Value = serde_json::from_slice(event.params.event_data).ok()?;
    value.get("auditID")?;
    let v = value.get(key)?;
    let text = match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    CString::new(text).ok()
}

impl K8sAuditOvh {
    fn extract_auditid(&mut self, req: ExtractRequest<Self>) -> Result<Option<CString>, Error> {
        Ok(top_level_string(&req, "auditID"))
    }
    fn extract_verb(&mut self, req: ExtractRequest<Self>) -> Result<Option<CString>, Error> {
        Ok(top_level_string(&req, "verb"))
    }
}

impl ExtractPlugin for K8sAuditOvh {
    type Event<'a> = falco_plugin::event::events::Event<PluginEvent<&'a [u8]>>;
    type ExtractContext = ();
    const EXTRACT_FIELDS: &'static [ExtractFieldInfo<Self>] = &[
        field("ka.auditid", &Self::extract_auditid).with_description("The unique id of the audit event"),
        field("ka.verb", &Self::extract_verb).with_description("The action being performed"),
    ];
}
