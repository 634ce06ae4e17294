//! What each `ka.*` field reads from an audit event: upstream's semantics (Falco's `k8saudit`
//! plugin 0.18.0), ported, plus the documented deviations (see the README).
//!
//! Conventions, as upstream: a JSON string gives its unescaped text, any other value its compact
//! JSON text ([`text`]); a missing key gives no value; a list with no elements is no value;
//! where upstream returns an error or panics there is no value (deviation 1).

use super::image;
use super::path::{self, Index};
use super::uri;
use crate::json::{Kind, Value};
use std::borrow::Cow;
use std::ffi::{CStr, CString};

/// `ka.req.pod.*` container lists.
#[derive(Debug, Clone, Copy)]
pub enum ContainerList {
    Containers,
    InitContainers,
    EphemeralContainers,
}

impl ContainerList {
    fn key(self) -> &'static str {
        match self {
            ContainerList::Containers => "containers",
            ContainerList::InitContainers => "initContainers",
            ContainerList::EphemeralContainers => "ephemeralContainers",
        }
    }

    /// `requestObject.spec.<list>.<sub...>`, on the stack.
    fn path<'b, 'k>(self, sub: &[&'k str], buf: &'b mut [&'k str; 8]) -> &'b [&'k str] {
        buf[..3].copy_from_slice(&["requestObject", "spec", self.key()]);
        buf[3..3 + sub.len()].copy_from_slice(sub);
        &buf[..3 + sub.len()]
    }
}

/// Subject kinds of `ka.req.binding.subjects.*_names`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectKind {
    User,
    Group,
    ServiceAccount,
    /// Service accounts as `namespace:name`.
    NamespacedServiceAccount,
}

/// An audit event being extracted from.
#[derive(Clone, Copy)]
pub struct Audit<'a> {
    /// The event's top-level object.
    pub root: Value<'a>,
    /// Where `ka.cluster.name` comes from when the event has no `cluster_name` annotation.
    pub cluster: ClusterName<'a>,
}

/// The cluster name of an event without a `cluster_name` annotation: its stream's
/// `clusterName` (named streams), else `init_config.clusterName`.
#[derive(Clone, Copy, Default)]
pub struct ClusterName<'a> {
    pub payload: &'a [u8],
    pub streams: Option<&'a super::streams::StreamTags>,
    pub configured: Option<&'a str>,
}

impl<'a> ClusterName<'a> {
    fn resolve(&self) -> Option<&'a str> {
        self.streams
            .and_then(|t| t.cluster_of(self.payload))
            .or(self.configured)
    }
}

/// Upstream's rendering of a value as a field string: a string's unescaped text, anything else
/// as compact JSON (numbers as written, `true`, `null`, `{"a":1}`).
pub fn text_bytes(v: Value<'_>) -> Cow<'_, [u8]> {
    match v.as_str() {
        Some(s) => s.to_bytes(),
        None if matches!(v.kind(), Kind::Object | Kind::Array) => {
            let mut out = Vec::with_capacity(v.raw().len());
            v.write_compact(&mut out);
            Cow::Owned(out)
        }
        None => Cow::Borrowed(v.raw()),
    }
}

fn write_text(v: Value<'_>, out: &mut Vec<u8>) {
    match v.as_str() {
        Some(s) => s.write_to(out),
        None => v.write_compact(out),
    }
}

/// A field string. Falco reads C strings, so a value with a NUL byte ends there (as upstream's
/// values do once in Falco).
pub fn cstring(mut bytes: Vec<u8>) -> CString {
    if let Some(nul) = bytes.iter().position(|&b| b == 0) {
        bytes.truncate(nul);
    }
    CString::new(bytes).unwrap_or_default()
}

fn cstring_from(bytes: &[u8]) -> CString {
    let mut v = Vec::with_capacity(bytes.len() + 1);
    v.extend_from_slice(bytes);
    cstring(v)
}

/// [`text_bytes`] as a field string.
pub fn text(v: Value<'_>) -> CString {
    let mut out = Vec::with_capacity(v.raw().len() + 1);
    write_text(v, &mut out);
    cstring(out)
}

fn non_empty(values: Vec<CString>) -> Option<Vec<CString>> {
    (!values.is_empty()).then_some(values)
}

fn bool_text(b: bool) -> CString {
    if b { c"true" } else { c"false" }.to_owned()
}

impl<'a> Audit<'a> {
    /// The value at `keys`, as text.
    pub fn scalar(&self, keys: &[&str]) -> Option<CString> {
        path::get(self.root, keys).map(text)
    }

    /// The elements of the array at `keys`, as text; not an array: no value (upstream errors).
    pub fn list(&self, keys: &[&str]) -> Option<Vec<CString>> {
        let v = path::get(self.root, keys)?;
        if v.kind() != Kind::Array {
            return None;
        }
        non_empty(v.elements().map(text).collect())
    }

    /// The values at the end of a walk, as text, skipping elements where the path is missing.
    fn walk_texts(&self, index: Index, keys: &[&str]) -> Option<Vec<CString>> {
        let mut out = Vec::new();
        path::walk(self.root, index, keys, &mut |v| out.extend(v.map(text))).ok()?;
        non_empty(out)
    }

    /// Like [`Self::walk_texts`], but an element where the path is missing makes the whole
    /// field fail (upstream's "wrong type conversion" on nil).
    fn walk_texts_all(&self, index: Index, keys: &[&str]) -> Option<Vec<Cow<'a, [u8]>>> {
        let mut out = Vec::new();
        let mut missing = false;
        path::walk(self.root, index, keys, &mut |v| match v {
            Some(v) => out.push(text_bytes(v)),
            None => missing = true,
        })
        .ok()?;
        (!missing && !out.is_empty()).then_some(out)
    }

    /// `ka.uri.param[key]`.
    pub fn uri_param(&self, key: &CStr) -> Option<CString> {
        let uri = text_bytes(self.root.get("requestURI")?);
        uri::query_param(&uri, key.to_bytes()).map(cstring)
    }

    /// `ka.target.pod.name`: the response object's name, when the target is a pod itself (no
    /// subresource). Resource and subresource count only when they are strings.
    pub fn target_pod_name(&self) -> Option<CString> {
        let object_ref = self.root.get("objectRef");
        let string = |key| object_ref.and_then(|o| o.get(key)).and_then(|v| v.as_str());
        if !string("resource")?.eq_bytes(b"pods") {
            return None;
        }
        if string("subresource").is_some_and(|s| !s.raw().is_empty()) {
            return None;
        }
        self.scalar(&["responseObject", "metadata", "name"])
    }

    /// `ka.req.binding.subjects.*_names`.
    pub fn subject_names(&self, kind: SubjectKind) -> Option<Vec<CString>> {
        let subjects = path::get(self.root, &["requestObject", "subjects"])?;
        if subjects.kind() != Kind::Array {
            return None;
        }
        let wanted: &[u8] = match kind {
            SubjectKind::User => b"User",
            SubjectKind::Group => b"Group",
            SubjectKind::ServiceAccount | SubjectKind::NamespacedServiceAccount => {
                b"ServiceAccount"
            }
        };
        let mut out = Vec::new();
        for subject in subjects.elements() {
            let (Some(k), Some(name)) = (subject.get("kind"), subject.get("name")) else {
                continue;
            };
            if *text_bytes(k) != *wanted {
                continue;
            }
            let mut value = Vec::new();
            if kind == SubjectKind::NamespacedServiceAccount {
                let Some(namespace) = subject.get("namespace") else {
                    continue;
                };
                write_text(namespace, &mut value);
                value.push(b':');
            }
            write_text(name, &mut value);
            out.push(cstring(value));
        }
        non_empty(out)
    }

    /// `ka.req.binding.subject.has_name[...]`: always `"true"`, as upstream.
    pub fn subject_has_name(&self) -> Option<CString> {
        Some(bool_text(true))
    }

    /// `ka.req.pod.<list>.name` / `.image`: every container must have the key.
    pub fn container_texts(
        &self,
        list: ContainerList,
        index: Index,
        key: &str,
    ) -> Option<Vec<CString>> {
        let mut buf = [""; 8];
        let values = self.walk_texts_all(index, list.path(&[key], &mut buf))?;
        Some(values.into_iter().map(|v| cstring_from(&v)).collect())
    }

    /// `ka.req.pod.<list>.image.repository` (deviation 4: registry ports are kept).
    pub fn container_repositories(
        &self,
        list: ContainerList,
        index: Index,
    ) -> Option<Vec<CString>> {
        let mut buf = [""; 8];
        let images = self.walk_texts_all(index, list.path(&["image"], &mut buf))?;
        Some(
            images
                .iter()
                .map(|image| cstring_from(image::repository(image)))
                .collect(),
        )
    }

    /// `ka.req.container.image`: the first container's image.
    pub fn first_container_image(&self) -> Option<CString> {
        let image = self.first_container_image_bytes()?;
        Some(cstring_from(&image))
    }

    /// `ka.req.container.image.repository`.
    pub fn first_container_repository(&self) -> Option<CString> {
        let image = self.first_container_image_bytes()?;
        Some(cstring_from(image::repository(&image)))
    }

    fn first_container_image_bytes(&self) -> Option<Cow<'a, [u8]>> {
        let mut buf = [""; 8];
        let keys = ContainerList::Containers.path(&["image"], &mut buf);
        let mut image = None;
        path::walk(self.root, Index::At(0), keys, &mut |v| image = v).ok()?;
        image.map(text_bytes)
    }

    /// `ka.req.pod.<list>.command` / `.args`: each container's argv joined with spaces;
    /// containers without it are skipped; an argv that is not an array of strings fails the
    /// field.
    pub fn container_argv(
        &self,
        list: ContainerList,
        index: Index,
        key: &str,
    ) -> Option<Vec<CString>> {
        let mut buf = [""; 8];
        let mut out = Vec::new();
        let mut bad = false;
        path::walk(self.root, index, list.path(&[key], &mut buf), &mut |v| {
            let Some(argv) = v else { return };
            if bad || argv.kind() != Kind::Array {
                bad = true;
                return;
            }
            let mut line = Vec::new();
            for (i, arg) in argv.elements().enumerate() {
                let Some(arg) = arg.as_str() else {
                    bad = true;
                    return;
                };
                if i > 0 {
                    line.push(b' ');
                }
                arg.write_to(&mut line);
            }
            out.push(cstring(line));
        })
        .ok()?;
        if bad {
            return None;
        }
        non_empty(out)
    }

    /// `ka.req.pod.<list>.host_port`: each port's `hostPort`, else its `containerPort`.
    pub fn container_host_ports(&self, list: ContainerList, index: Index) -> Option<Vec<CString>> {
        let mut buf = [""; 8];
        let mut out = Vec::new();
        let mut bad = false;
        path::walk(
            self.root,
            index,
            list.path(&["ports"], &mut buf),
            &mut |v| {
                let Some(ports) = v else { return };
                if bad || ports.kind() != Kind::Array {
                    bad = true;
                    return;
                }
                for port in ports.elements() {
                    if let Some(p) = port.get("hostPort").or_else(|| port.get("containerPort")) {
                        out.push(text(p));
                    }
                }
            },
        )
        .ok()?;
        if bad {
            return None;
        }
        non_empty(out)
    }

    /// `ka.req.pod.<list>.<security setting>`: containers without it are skipped.
    pub fn container_settings(
        &self,
        list: ContainerList,
        index: Index,
        sub: &[&str],
    ) -> Option<Vec<CString>> {
        let mut buf = [""; 8];
        self.walk_texts(index, list.path(sub, &mut buf))
    }

    /// `ka.req.pod.<list>.eff_run_as_user` / `_group` (deviation 3): per container, its
    /// `securityContext.<key>`, else the pod's `spec.securityContext.<key>`, else `0`.
    pub fn container_effective_id(
        &self,
        list: ContainerList,
        index: Index,
        key: &str,
    ) -> Option<Vec<CString>> {
        let pod = path::get(
            self.root,
            &["requestObject", "spec", "securityContext", key],
        );
        let mut buf = [""; 8];
        let mut out = Vec::new();
        // The empty key stops the walk at each container.
        path::walk(
            self.root,
            index,
            list.path(&[""], &mut buf),
            &mut |container| {
                let own = container.and_then(|c| path::get(c, &["securityContext", key]));
                out.push(own.or(pod).map_or_else(|| c"0".to_owned(), text));
            },
        )
        .ok()?;
        non_empty(out)
    }

    /// `ka.req.container.privileged`: `"true"` if some container has `privileged: true`.
    pub fn any_container_privileged(&self) -> Option<CString> {
        let mut buf = [""; 8];
        let keys = ContainerList::Containers.path(&["securityContext", "privileged"], &mut buf);
        let mut any = false;
        path::walk(self.root, Index::All, keys, &mut |v| {
            any |= v.is_some_and(|v| v.kind() == Kind::True);
        })
        .ok()?;
        Some(bool_text(any))
    }

    /// `ka.req.role.rules.<key>`: the elements of each rule's `<key>` array.
    pub fn rules_field(&self, index: Index, key: &str) -> Option<Vec<CString>> {
        let mut out = Vec::new();
        path::walk(
            self.root,
            index,
            &["requestObject", "rules", key],
            &mut |v| {
                if let Some(v) = v.filter(|v| v.kind() == Kind::Array) {
                    out.extend(v.elements().map(text));
                }
            },
        )
        .ok()?;
        non_empty(out)
    }

    /// Index-argument fields that read one path: service ports, volume paths and drivers.
    pub fn walked(&self, index: Index, keys: &[&str]) -> Option<Vec<CString>> {
        self.walk_texts(index, keys)
    }

    /// `ka.req.volume.hostpath[p]` (deviation 5: every volume is checked): `"true"` if some
    /// volume's `hostPath.path` is `p`, or starts with `p` without its final `*`.
    pub fn volume_hostpath_used(&self, pattern: &CStr) -> Option<CString> {
        let pattern = pattern.to_bytes();
        // Upstream fails on an empty pattern.
        let (last, init) = pattern.split_last()?;
        let prefix = (*last == b'*').then_some(init);
        let mut used = false;
        let keys = ["requestObject", "spec", "volumes", "hostPath", "path"];
        path::walk(self.root, Index::All, &keys, &mut |v| {
            if let Some(path) = v.map(text_bytes) {
                used |= *path == *pattern || prefix.is_some_and(|p| path.starts_with(p));
            }
        })
        .ok()?;
        Some(bool_text(used))
    }

    /// `ka.req.pod.volumes.volume_type`: every key of each volume object but `name`.
    pub fn volume_types(&self, index: Index) -> Option<Vec<CString>> {
        let mut out = Vec::new();
        let mut fault = false;
        let keys = ["requestObject", "spec", "volumes", ""];
        path::walk(self.root, index, &keys, &mut |v| match v {
            // Upstream dereferences nil here and panics.
            None => fault = true,
            Some(volume) => {
                for (key, _) in volume.members() {
                    let key = key.to_bytes();
                    if *key != *b"name" {
                        out.push(cstring_from(&key));
                    }
                }
            }
        })
        .ok()?;
        if fault {
            return None;
        }
        non_empty(out)
    }

    /// `ka.sourceips` (deviation 2): the top-level `sourceIPs`, or its element `n` with
    /// `[n]`.
    pub fn source_ips(&self, index: Index) -> Option<Vec<CString>> {
        let ips = self.root.get("sourceIPs")?;
        if ips.kind() != Kind::Array {
            return None;
        }
        match index {
            Index::All => non_empty(ips.elements().map(text).collect()),
            Index::At(n) => ips.elements().nth(n).map(|ip| vec![text(ip)]),
            Index::Negative => None,
        }
    }

    /// `ka.cluster.name`: the `cluster_name` annotation, else its stream's `clusterName`,
    /// else `init_config.clusterName`.
    pub fn cluster_name(&self) -> Option<CString> {
        self.scalar(&["annotations", "cluster_name"]).or_else(|| {
            self.cluster
                .resolve()
                .map(|name| cstring_from(name.as_bytes()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::Tape;

    fn with<R>(src: &str, f: impl FnOnce(Audit<'_>) -> R) -> R {
        with_fallback(src, None, f)
    }

    fn with_fallback<R>(src: &str, fallback: Option<&str>, f: impl FnOnce(Audit<'_>) -> R) -> R {
        let mut tape = Tape::default();
        tape.parse(src.as_bytes()).unwrap();
        f(Audit {
            root: tape.root(src.as_bytes()).unwrap(),
            cluster: ClusterName {
                configured: fallback,
                ..Default::default()
            },
        })
    }

    fn strings(v: Option<Vec<CString>>) -> Option<Vec<String>> {
        v.map(|v| v.into_iter().map(|s| s.into_string().unwrap()).collect())
    }

    fn one(v: Option<CString>) -> Option<String> {
        v.map(|s| s.into_string().unwrap())
    }

    #[test]
    fn text_is_unescaped_string_or_compact_json() {
        with(
            r#"{"s":"a\tb","n":1.50,"o":{ "k" : [ true , null ] },"z":"x\u0000y"}"#,
            |ev| {
                assert_eq!(one(ev.scalar(&["s"])).as_deref(), Some("a\tb"));
                assert_eq!(one(ev.scalar(&["n"])).as_deref(), Some("1.50"));
                assert_eq!(
                    one(ev.scalar(&["o"])).as_deref(),
                    Some(r#"{"k":[true,null]}"#)
                );
                assert_eq!(one(ev.scalar(&["z"])).as_deref(), Some("x"));
                assert_eq!(one(ev.scalar(&["o", "k"])).as_deref(), Some("[true,null]"));
                assert_eq!(ev.scalar(&["missing"]), None);
            },
        );
    }

    #[test]
    fn lists_need_arrays_and_elements() {
        with(r#"{"a":["x",1],"e":[],"s":"x"}"#, |ev| {
            assert_eq!(strings(ev.list(&["a"])), Some(vec!["x".into(), "1".into()]));
            assert_eq!(ev.list(&["e"]), None);
            assert_eq!(ev.list(&["s"]), None);
        });
    }

    #[test]
    fn argv_joins_and_rejects_non_strings() {
        let pod = r#"{"requestObject":{"spec":{"containers":[
            {"command":["sh","-c","id"]},{"name":"x"},{"command":[]}]}}}"#;
        with(pod, |ev| {
            let got = ev.container_argv(ContainerList::Containers, Index::All, "command");
            assert_eq!(strings(got), Some(vec!["sh -c id".into(), "".into()]));
        });
        let bad = r#"{"requestObject":{"spec":{"containers":[{"command":["sh",1]}]}}}"#;
        with(bad, |ev| {
            assert_eq!(
                ev.container_argv(ContainerList::Containers, Index::All, "command"),
                None
            );
        });
    }

    #[test]
    fn effective_ids_fall_back_to_the_pod_then_zero() {
        let pod = r#"{"requestObject":{"spec":{"securityContext":{"runAsUser":1000},
            "containers":[{"securityContext":{"runAsUser":0}},{"name":"b"},{"securityContext":{}}],
            "initContainers":[{"name":"i"}]}}}"#;
        with(pod, |ev| {
            let got = ev.container_effective_id(ContainerList::Containers, Index::All, "runAsUser");
            assert_eq!(
                strings(got),
                Some(vec!["0".into(), "1000".into(), "1000".into()])
            );
            let got =
                ev.container_effective_id(ContainerList::Containers, Index::At(1), "runAsUser");
            assert_eq!(strings(got), Some(vec!["1000".into()]));
            let got =
                ev.container_effective_id(ContainerList::Containers, Index::At(3), "runAsUser");
            assert_eq!(strings(got), None);
            let got =
                ev.container_effective_id(ContainerList::InitContainers, Index::All, "runAsUser");
            assert_eq!(strings(got), Some(vec!["1000".into()]));
            let got = ev.container_effective_id(
                ContainerList::EphemeralContainers,
                Index::All,
                "runAsUser",
            );
            assert_eq!(strings(got), None);
            let got =
                ev.container_effective_id(ContainerList::Containers, Index::All, "runAsGroup");
            assert_eq!(strings(got), Some(vec!["0".into(), "0".into(), "0".into()]));
        });
    }

    #[test]
    fn hostpath_patterns_check_every_volume() {
        let pod = r#"{"requestObject":{"spec":{"volumes":[{"name":"a","emptyDir":{}},
            {"name":"b","hostPath":{"path":"/var/run/docker.sock"}}]}}}"#;
        with(pod, |ev| {
            let used = |p: &CStr| one(ev.volume_hostpath_used(p));
            assert_eq!(used(c"/var/run/docker.sock").as_deref(), Some("true"));
            assert_eq!(used(c"/var/run*").as_deref(), Some("true"));
            assert_eq!(used(c"/var/run").as_deref(), Some("false"));
            assert_eq!(used(c"*").as_deref(), Some("true"));
            assert_eq!(used(c""), None);
        });
        with(r#"{"requestObject":{"spec":{}}}"#, |ev| {
            assert_eq!(ev.volume_hostpath_used(c"/"), None);
        });
    }

    #[test]
    fn source_ips_come_from_the_top_level() {
        with(r#"{"sourceIPs":["10.0.0.1","10.0.0.2"]}"#, |ev| {
            assert_eq!(
                strings(ev.source_ips(Index::All)),
                Some(vec!["10.0.0.1".into(), "10.0.0.2".into()])
            );
            assert_eq!(
                strings(ev.source_ips(Index::At(1))),
                Some(vec!["10.0.0.2".into()])
            );
            assert_eq!(ev.source_ips(Index::At(2)), None);
        });
    }

    #[test]
    fn cluster_name_prefers_the_annotation() {
        let annotated = r#"{"annotations":{"cluster_name":"from-event"}}"#;
        let got = with_fallback(annotated, Some("configured"), |ev| one(ev.cluster_name()));
        assert_eq!(got.as_deref(), Some("from-event"));
        let got = with_fallback(r#"{"annotations":{}}"#, Some("configured"), |ev| {
            one(ev.cluster_name())
        });
        assert_eq!(got.as_deref(), Some("configured"));
        let got = with_fallback(r#"{"annotations":{}}"#, None, |ev| one(ev.cluster_name()));
        assert_eq!(got, None);
    }
}
