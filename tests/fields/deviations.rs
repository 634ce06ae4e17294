//! Where our `ka.*` values deliberately differ from Falco's `k8saudit` plugin (0.18.0): the one
//! list, shared by the conformance tests (which apply each deviation's expected value) and the
//! README section generated from it (`tests/fields_readme.rs`).

/// One deliberate difference from upstream.
#[allow(dead_code)] // each including test reads its own part
pub struct Deviation {
    pub number: u8,
    /// What we do.
    pub what: &'static str,
    /// Why.
    pub reason: &'static str,
}

pub const DEVIATIONS: &[Deviation] = &[
    Deviation {
        number: 1,
        what: "Where upstream returns an error or panics, the field has no value; the other \
               fields of the event still work.",
        reason: "An error from `extract_fields` fails Falco's whole extraction request, and a \
                 panic in a plugin can take Falco down.",
    },
    Deviation {
        number: 2,
        what: "`ka.sourceips` reads the event's top-level `sourceIPs`; `ka.sourceips[n]` is its \
               element `n`.",
        reason: "Upstream reads `requestObject.rules[].sourceIPs`, which real events never have, \
                 so the field was always empty.",
    },
    Deviation {
        number: 3,
        what: "`ka.req.pod.*.eff_run_as_user` / `eff_run_as_group`: per container, its \
               `securityContext.runAsUser` (resp. `runAsGroup`), else the pod's \
               `spec.securityContext` one, else `0`; `[n]` is container `n`'s value.",
        reason: "Upstream reads `runAsUser` directly under the container and the pod spec, where \
                 Kubernetes never puts it, so it always said `0`.",
    },
    Deviation {
        number: 4,
        what: "`*.image.repository` drops the digest (`@...`) and the tag (a `:` after the last \
               `/`): `registry:5000/ns/img:1.2@sha256:ab` gives `registry:5000/ns/img`.",
        reason: "Upstream cuts at the first `:`, which leaves only `registry` of an image whose \
                 registry has a port. Images without a registry port are unchanged.",
    },
    Deviation {
        number: 5,
        what: "`ka.req.volume.hostpath[p]` checks every volume: `true` if some `hostPath.path` \
               is `p` (or starts with `p` without its final `*`), else `false` when the pod has \
               volumes.",
        reason: "That is what upstream does inside current Falco, whose libsinsp passes a key \
                 argument without an index; the reference values were made the old way (index 0 \
                 with the key), which looks at the first volume only.",
    },
    Deviation {
        number: 6,
        what: "Payloads that are not strict JSON (RFC 8259: no `NaN`, `Infinity`, `+1`, `.5`, \
               `01`, raw control characters in strings, invalid escapes, trailing data) have no \
               field values; the source rejects and counts them, and lines that are not UTF-8. \
               Bytes that are not UTF-8 inside the strings of events from other sources pass \
               through unchanged, as upstream's.",
        reason: "Upstream's parser accepts these half-valid forms and yields values no other \
                 JSON tool would agree on.",
    },
    Deviation {
        number: 7,
        what: "`ka.cluster.name` falls back to `init_config.clusterName` when the event has no \
               `cluster_name` annotation (only if `clusterName` is set).",
        reason: "OVHcloud MKS audit events never carry that annotation; without `clusterName` \
                 the field is exactly upstream's.",
    },
];
