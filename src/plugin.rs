//! Plugin identity and registration with Falco: the `Plugin` and `SourcePlugin` impls and the
//! exported C ABI. Extraction lives in `fields/`.

use crate::config::{schema_text, InitConfig, OpenParams};
use crate::fields::StreamTags;
use crate::metrics::MetricsBoard;
use crate::source::Instance;
use falco_plugin::anyhow::{self, Error};
use falco_plugin::base::Json;
use falco_plugin::base::{Metric, Plugin};
use falco_plugin::event::PluginEvent;
use falco_plugin::schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use falco_plugin::serde::{Deserialize, Deserializer};
use falco_plugin::source::{EventInput, SourcePlugin};
use falco_plugin::tables::TablesInput;
use falco_plugin::{extract_plugin, plugin, source_plugin};
use std::borrow::Cow;
use std::ffi::{CStr, CString};
use std::sync::Arc;

/// The `init_config` document as Falco passes it. Its schema is `config.schema.json`, served
/// verbatim; values are checked in [`Plugin::new`] so that errors carry our own messages.
pub struct RawInitConfig(serde_json::Value);

impl<'de> Deserialize<'de> for RawInitConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde_json::Value::deserialize(d).map(RawInitConfig)
    }
}

impl JsonSchema for RawInitConfig {
    fn schema_name() -> Cow<'static, str> {
        "k8saudit-ovh init_config".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        serde_json::from_str::<serde_json::Value>(schema_text())
            .ok()
            .and_then(|v| Schema::try_from(v).ok())
            .unwrap_or_else(|| json_schema!({ "type": "object" }))
    }
}

/// The plugin: one per `plugins:` entry in `falco.yaml`.
pub struct K8sAuditOvh {
    pub(crate) config: InitConfig,
    pub(crate) metrics: Arc<MetricsBoard>,
    pub(crate) extract_cache: crate::fields::ExtractCache,
    /// The stream of each event handed to Falco lately, for `ka.cluster.name`.
    pub(crate) stream_tags: StreamTags,
    /// Which events of the last batch the host went through, for a closing instance.
    pub(crate) witness: crate::source::Witness,
}

impl K8sAuditOvh {
    /// `ka.cluster.name` fallback from `init_config.clusterName`.
    pub(crate) fn cluster_name_fallback(&self) -> Option<&str> {
        Some(self.config.cluster_name.as_str()).filter(|s| !s.is_empty())
    }
}

impl Plugin for K8sAuditOvh {
    const NAME: &'static CStr = c"k8saudit-ovh";
    const PLUGIN_VERSION: &'static CStr = {
        const V: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
        match CStr::from_bytes_with_nul(V.as_bytes()) {
            Ok(v) => v,
            Err(_) => panic!("bad version"),
        }
    };
    const DESCRIPTION: &'static CStr =
        c"Read Kubernetes Audit Events of OVHcloud Managed Kubernetes clusters from a Logs Data Platform WebSocket";
    const CONTACT: &'static CStr = c"github.com/falcosecurity/plugins";
    type ConfigType = Json<RawInitConfig>;

    fn new(_input: Option<&TablesInput>, config: Self::ConfigType) -> Result<Self, Error> {
        let config = InitConfig::from_value(&(config.0).0).map_err(Error::msg)?;
        Ok(Self {
            config,
            metrics: Arc::new(MetricsBoard::default()),
            extract_cache: Default::default(),
            stream_tags: StreamTags::default(),
            witness: Default::default(),
        })
    }

    fn set_config(&mut self, config: Self::ConfigType) -> Result<(), Error> {
        self.config = InitConfig::from_value(&(config.0).0).map_err(Error::msg)?;
        Ok(())
    }

    fn get_metrics(&mut self) -> impl IntoIterator<Item = Metric> {
        self.metrics.to_falco()
    }
}

impl SourcePlugin for K8sAuditOvh {
    type Instance = Instance;
    const EVENT_SOURCE: &'static CStr = c"k8s_audit";
    const PLUGIN_ID: u32 = 22;
    type Event<'a> = falco_plugin::event::events::Event<PluginEvent<&'a [u8]>>;

    fn open(&mut self, params: Option<&str>) -> Result<Self::Instance, Error> {
        let params = OpenParams::parse(params).map_err(Error::msg)?;
        let names = params.streams.iter().map(|s| s.cluster_name.clone());
        self.stream_tags.open(names.collect());
        self.witness.opened();
        Instance::open(params, self.config.clone(), &self.metrics)
    }

    fn close(&mut self, instance: &mut Self::Instance) {
        instance.close_after(&self.witness);
    }

    fn event_to_string(&mut self, event: &EventInput<Self::Event<'_>>) -> Result<CString, Error> {
        let event = event.event()?;
        let data = event.params.event_data;
        // Payloads are the audit event's JSON; anything else is rendered lossily, never an error.
        let text = String::from_utf8_lossy(data)
            .into_owned()
            .replace('\0', "\\u0000");
        CString::new(text).map_err(|e| anyhow::anyhow!("{e}"))
    }
}

// Falco 0.44 offers plugin API 3.12; the Go plugin asks for 3.11. Asking for no more than
// 3.11 keeps every Falco that loads the Go plugin able to load this one. Nothing used here
// is newer than 3.11 (the SDK is built against 3.11 headers).
plugin!(unsafe { 3; 11; 0 } => K8sAuditOvh);
source_plugin!(K8sAuditOvh);
extract_plugin!(K8sAuditOvh);
