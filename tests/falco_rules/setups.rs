//! The sets of rules files a user loads together, in load order: what each example and each
//! corpus measurement is evaluated under.

use super::{JSON_RULES, OVERLAY, OWN_RULES, SANDBOX, STOCK};

pub struct Setup {
    /// Short name, used as a key in the examples (`"fires": {"ovh": ...}`).
    pub name: &'static str,
    /// Rules files, in load order.
    pub files: &'static [&'static str],
    /// The stock rules need Falco's `json` plugin (`jevt.*` fields), and so do the json rules.
    pub json_plugin: bool,
    /// Recommended by the README.
    pub recommended: bool,
    /// Measured on the detection corpus and held to the targets.
    pub measured: bool,
    pub summary: &'static str,
}

/// `k8s_audit_ovh_rules.yaml` and `k8s_audit_ovh_json_rules.yaml`, with Falco's json plugin:
/// the default.
pub const OVH_JSON: Setup = Setup {
    name: "ovh+json",
    files: &[OWN_RULES, JSON_RULES],
    json_plugin: true,
    recommended: true,
    measured: true,
    summary: "k8s_audit_ovh_rules.yaml + k8s_audit_ovh_json_rules.yaml (json plugin)",
};

/// `k8s_audit_ovh_rules.yaml` alone: needs only this plugin, and sees neither pod templates,
/// nor command lines, nor address ranges (a fallback when the json plugin cannot be loaded).
pub const OVH: Setup = Setup {
    name: "ovh",
    files: &[OWN_RULES],
    json_plugin: false,
    recommended: false,
    measured: true,
    summary: "k8s_audit_ovh_rules.yaml alone (no json plugin)",
};

/// Falco's stock rules, the overlay, the MKS rules and the MKS json rules.
pub const STOCK_OVH_JSON: Setup = Setup {
    name: "stock+ovh+json",
    files: &[STOCK, OVERLAY, OWN_RULES, JSON_RULES],
    json_plugin: true,
    recommended: true,
    measured: true,
    summary: "stock rules + overlay + k8s_audit_ovh_rules.yaml + k8s_audit_ovh_json_rules.yaml (json plugin)",
};

/// The same without the json rules: the three files the README used to list.
pub const STOCK_OVH: Setup = Setup {
    name: "stock+ovh",
    files: &[STOCK, OVERLAY, OWN_RULES],
    json_plugin: true,
    recommended: false,
    measured: true,
    summary: "stock rules + overlay + k8s_audit_ovh_rules.yaml (json plugin, no json rules)",
};

/// The MKS rules and the opt-in sandbox rules (the catch-all).
pub const OVH_SANDBOX: Setup = Setup {
    name: "ovh+sandbox",
    files: &[OWN_RULES, SANDBOX],
    json_plugin: false,
    recommended: false,
    measured: false,
    summary: "k8s_audit_ovh_rules.yaml + k8s_audit_ovh_sandbox_rules.yaml (opt-in)",
};

pub const SETUPS: &[&Setup] = &[&OVH_JSON, &STOCK_OVH_JSON, &OVH, &STOCK_OVH, &OVH_SANDBOX];

pub fn by_name(name: &str) -> Option<&'static Setup> {
    SETUPS.iter().copied().find(|s| s.name == name)
}

pub fn recommended() -> impl Iterator<Item = &'static Setup> {
    SETUPS.iter().copied().filter(|s| s.recommended)
}

pub fn measured() -> impl Iterator<Item = &'static Setup> {
    SETUPS.iter().copied().filter(|s| s.measured)
}
