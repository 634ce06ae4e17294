//! The sets of rules files a user loads together, in load order: what each example and each
//! corpus measurement is evaluated under.

use super::{OVERLAY, OWN_RULES, SANDBOX, STOCK};

pub struct Setup {
    /// Short name, used as a key in the examples (`"fires": {"ovh": ...}`).
    pub name: &'static str,
    /// Rules files, in load order.
    pub files: &'static [&'static str],
    /// The stock rules need Falco's `json` plugin (`jevt.*` fields), and so do the overlay's.
    pub json_plugin: bool,
    /// Recommended by the README: held to the detection targets.
    pub recommended: bool,
    pub summary: &'static str,
}

/// `k8s_audit_ovh_rules.yaml` alone: needs only this plugin.
pub const OVH: Setup = Setup {
    name: "ovh",
    files: &[OWN_RULES],
    json_plugin: false,
    recommended: true,
    summary: "k8s_audit_ovh_rules.yaml alone (no json plugin)",
};

/// Falco's stock rules, then the MKS rules, then the overlay.
pub const STOCK_OVH: Setup = Setup {
    name: "stock+ovh",
    files: &[STOCK, OWN_RULES, OVERLAY],
    json_plugin: true,
    recommended: true,
    summary: "stock k8s_audit_rules.yaml + k8s_audit_ovh_rules.yaml + k8s_audit_ovh_overlay.yaml (json plugin)",
};

/// The MKS rules and the opt-in sandbox rules (the catch-all).
pub const OVH_SANDBOX: Setup = Setup {
    name: "ovh+sandbox",
    files: &[OWN_RULES, SANDBOX],
    json_plugin: false,
    recommended: false,
    summary: "k8s_audit_ovh_rules.yaml + k8s_audit_ovh_sandbox_rules.yaml (opt-in)",
};

pub const SETUPS: &[&Setup] = &[&OVH, &STOCK_OVH, &OVH_SANDBOX];

pub fn by_name(name: &str) -> Option<&'static Setup> {
    SETUPS.iter().copied().find(|s| s.name == name)
}

pub fn recommended() -> impl Iterator<Item = &'static Setup> {
    SETUPS.iter().copied().filter(|s| s.recommended)
}
