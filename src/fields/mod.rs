//! The `ka.*` fields: one table, one row per field, exposed to Falco through the SDK.
//!
//! Each row of the table at the end of this file (`field_table!`) gives a field's Rust name,
//! its Falco name, its description (verbatim from Falco's `k8saudit` plugin 0.18.0) and its
//! extractor. The extractor's shape fixes the rest of the field's definition, which the SDK
//! derives from the generated function's signature:
//!
//! | shape | Falco type | list | argument |
//! | --- | --- | --- | --- |
//! | `text \|ev\|` | string | no | none |
//! | `list \|ev\|` | string | yes | none |
//! | `indexed \|ev, i\|` | string | yes | optional index |
//! | `keyed \|ev, k\|` | string | no | required key |
//!
//! Extraction parses each event once (`cache.rs`), gates on upstream's rule that only events
//! with an `auditID` have values, and turns every failure, panics included, into "no value":
//! nothing unwinds into Falco and no field ever returns an error. What each field reads is in
//! `extract.rs`; `path.rs` walks key paths through arrays as upstream does, `uri.rs` reads query
//! parameters as Go's `net/url` does, `image.rs` cuts image references.

mod cache;
mod extract;
mod image;
mod path;
mod streams;
mod uri;

pub use cache::ExtractCache;
use extract::{Audit, ClusterName, ContainerList, SubjectKind};
use path::Index;
pub use streams::StreamTags;

use crate::K8sAuditOvh;
use falco_plugin::anyhow::Error;
use falco_plugin::event::PluginEvent;
use falco_plugin::extract::{field, ExtractFieldInfo, ExtractPlugin, ExtractRequest};
use std::ffi::{CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

impl K8sAuditOvh {
    /// Runs `f` on the request's event if it is an audit event; `None` (no value) for any other
    /// event, and if `f` panics.
    fn extract_with<R>(
        &self,
        req: &ExtractRequest<Self>,
        f: impl FnOnce(Audit<'_>) -> Option<R>,
    ) -> Option<R> {
        let run = || {
            // An event the SDK cannot read as a plugin event is not an audit event.
            let event = req.event.event().ok()?;
            let payload = event.params.event_data;
            let evtnum = req.event.event_number() as u64;
            self.witness.extracted(evtnum, payload);
            let cluster = ClusterName {
                payload,
                streams: Some(&self.stream_tags),
                configured: self.cluster_name_fallback(),
            };
            self.extract_cache
                .with_audit_event(evtnum, payload, |root| f(Audit { root, cluster }))
                .flatten()
        };
        catch_unwind(AssertUnwindSafe(run)).unwrap_or_else(|_| {
            self.extract_cache.forget();
            None
        })
    }
}

/// Generates one extraction function per row (in `rows`) and the SDK field table.
macro_rules! field_table {
    ($( $id:ident $name:literal $desc:literal => $shape:ident |$($arg:ident),+| $body:expr; )*) => {
        /// The extraction functions, one per field.
        mod rows {
            use super::*;
            $( extractor!($id $shape |$($arg),+| $body); )*
        }

        impl ExtractPlugin for K8sAuditOvh {
            type Event<'a> = falco_plugin::event::events::Event<PluginEvent<&'a [u8]>>;
            type ExtractContext = ();
            const EXTRACT_FIELDS: &'static [ExtractFieldInfo<Self>] = &[
                $( field($name, &rows::$id).with_description($desc), )*
            ];
        }
    };
}

/// One extraction function, its signature given by the row's shape.
macro_rules! extractor {
    ($id:ident text |$ev:ident| $body:expr) => {
        pub fn $id(
            plugin: &mut K8sAuditOvh,
            req: ExtractRequest<K8sAuditOvh>,
        ) -> Result<Option<CString>, Error> {
            Ok(plugin.extract_with(&req, |$ev| $body))
        }
    };
    ($id:ident list |$ev:ident| $body:expr) => {
        pub fn $id(
            plugin: &mut K8sAuditOvh,
            req: ExtractRequest<K8sAuditOvh>,
        ) -> Result<Option<Vec<CString>>, Error> {
            Ok(plugin.extract_with(&req, |$ev| $body))
        }
    };
    ($id:ident indexed |$ev:ident, $index:ident| $body:expr) => {
        pub fn $id(
            plugin: &mut K8sAuditOvh,
            req: ExtractRequest<K8sAuditOvh>,
            arg: Option<u64>,
        ) -> Result<Option<Vec<CString>>, Error> {
            let $index = Index::from_arg(arg);
            Ok(plugin.extract_with(&req, |$ev| $body))
        }
    };
    ($id:ident keyed |$ev:ident, $key:ident| $body:expr) => {
        pub fn $id(
            plugin: &mut K8sAuditOvh,
            req: ExtractRequest<K8sAuditOvh>,
            $key: &CStr,
        ) -> Result<Option<CString>, Error> {
            Ok(plugin.extract_with(&req, |$ev| $body))
        }
    };
}

// Short names for the three container lists, to keep the rows on a line.
use ContainerList::{Containers as C, EphemeralContainers as E, InitContainers as I};

field_table! {
    auditid "ka.auditid"
        "The unique id of the audit event"
        => text |ev| ev.scalar(&["auditID"]);
    stage "ka.stage"
        "Stage of the request (e.g. RequestReceived, ResponseComplete, etc.)"
        => text |ev| ev.scalar(&["stage"]);
    auth_decision "ka.auth.decision"
        "The authorization decision"
        => text |ev| ev.scalar(&["annotations", "authorization.k8s.io/decision"]);
    auth_reason "ka.auth.reason"
        "The authorization reason"
        => text |ev| ev.scalar(&["annotations", "authorization.k8s.io/reason"]);
    auth_openshift_decision "ka.auth.openshift.decision"
        "The authentication decision of the openshfit apiserver extention. Only available on openshift clusters"
        => text |ev| ev.scalar(&["annotations", "authentication.openshift.io/decision"]);
    validations_admission_policy_failure "ka.validations.admission.policy.failure"
        "The validation failure reason from a Validation Admission Policy"
        => text |ev| ev.scalar(&["annotations", "validation.policy.admission.k8s.io/validation_failure"]);
    security_pod_violations "ka.security.pod.violations"
        "The violation reason for pod security policy "
        => text |ev| ev.scalar(&["annotations", "pod-security.kubernetes.io/audit-violations"]);
    auth_openshift_username "ka.auth.openshift.username"
        "The user name performing the openshift authentication operation. Only available on openshift clusters"
        => text |ev| ev.scalar(&["annotations", "authentication.openshift.io/username"]);
    user_name "ka.user.name"
        "The user name performing the request"
        => text |ev| ev.scalar(&["user", "username"]);
    user_groups "ka.user.groups"
        "The groups to which the user belongs"
        => list |ev| ev.list(&["user", "groups"]);
    impuser_name "ka.impuser.name"
        "The impersonated user name"
        => text |ev| ev.scalar(&["impersonatedUser", "username"]);
    verb "ka.verb"
        "The action being performed"
        => text |ev| ev.scalar(&["verb"]);
    uri "ka.uri"
        "The request URI as sent from client to server"
        => text |ev| ev.scalar(&["requestURI"]);
    uri_param "ka.uri.param"
        "The value of a given query parameter in the uri (e.g. when uri=/foo?key=val, ka.uri.param[key] is val)."
        => keyed |ev, key| ev.uri_param(key);
    target_name "ka.target.name"
        "The target object name"
        => text |ev| ev.scalar(&["objectRef", "name"]);
    target_namespace "ka.target.namespace"
        "The target object namespace"
        => text |ev| ev.scalar(&["objectRef", "namespace"]);
    target_resource "ka.target.resource"
        "The target object resource"
        => text |ev| ev.scalar(&["objectRef", "resource"]);
    target_subresource "ka.target.subresource"
        "The target object subresource"
        => text |ev| ev.scalar(&["objectRef", "subresource"]);
    target_pod_name "ka.target.pod.name"
        "The target pod name"
        => text |ev| ev.target_pod_name();
    req_binding_subjects "ka.req.binding.subjects"
        "When the request object refers to a cluster role binding, the subject (e.g. account/users) being linked by the binding"
        => list |ev| ev.list(&["requestObject", "subjects"]);
    req_binding_subjects_user_names "ka.req.binding.subjects.user_names"
        "When the request object refers to a cluster role binding, the subject user names being linked by the binding"
        => list |ev| ev.subject_names(SubjectKind::User);
    req_binding_subjects_serviceaccount_names "ka.req.binding.subjects.serviceaccount_names"
        "When the request object refers to a cluster role binding, the subject service account names being linked by the binding"
        => list |ev| ev.subject_names(SubjectKind::ServiceAccount);
    req_binding_subjects_serviceaccount_ns_names "ka.req.binding.subjects.serviceaccount_ns_names"
        "When the request object refers to a cluster role binding, the subject serviceaccount namespaced names being linked by the binding, e.g. a list containing: mynamespace:myserviceaccount"
        => list |ev| ev.subject_names(SubjectKind::NamespacedServiceAccount);
    req_binding_subjects_group_names "ka.req.binding.subjects.group_names"
        "When the request object refers to a cluster role binding, the subject group names being linked by the binding"
        => list |ev| ev.subject_names(SubjectKind::Group);
    req_binding_role "ka.req.binding.role"
        "When the request object refers to a cluster role binding, the role being linked by the binding"
        => text |ev| ev.scalar(&["requestObject", "roleRef", "name"]);
    req_binding_subject_has_name "ka.req.binding.subject.has_name"
        "Deprecated, always returns \"N/A\". Only provided for backwards compatibility"
        => keyed |ev, _name| ev.subject_has_name();
    req_configmap_name "ka.req.configmap.name"
        "If the request object refers to a configmap, the configmap name"
        => text |ev| ev.scalar(&["objectRef", "name"]);
    req_configmap_obj "ka.req.configmap.obj"
        "If the request object refers to a configmap, the entire configmap object"
        => text |ev| ev.scalar(&["requestObject", "data"]);
    req_pod_containers_args "ka.req.pod.containers.args"
        "When the request object refers to a pod, the container's args."
        => indexed |ev, i| ev.container_argv(C, i, "args");
    req_pod_containers_command "ka.req.pod.containers.command"
        "When the request object refers to a pod, the container's command."
        => indexed |ev, i| ev.container_argv(C, i, "command");
    req_pod_containers_name "ka.req.pod.containers.name"
        "When the request object refers to a pod, the container's names."
        => indexed |ev, i| ev.container_texts(C, i, "name");
    req_pod_containers_image "ka.req.pod.containers.image"
        "When the request object refers to a pod, the container's images."
        => indexed |ev, i| ev.container_texts(C, i, "image");
    req_container_image "ka.req.container.image"
        "Deprecated by ka.req.pod.containers.image. Returns the image of the first container only"
        => text |ev| ev.first_container_image();
    req_pod_containers_image_repository "ka.req.pod.containers.image.repository"
        "The same as req.container.image, but only the repository part (e.g. falcosecurity/falco)."
        => indexed |ev, i| ev.container_repositories(C, i);
    req_container_image_repository "ka.req.container.image.repository"
        "Deprecated by ka.req.pod.containers.image.repository. Returns the repository of the first container only"
        => text |ev| ev.first_container_repository();
    req_pod_host_ipc "ka.req.pod.host_ipc"
        "When the request object refers to a pod, the value of the hostIPC flag."
        => text |ev| ev.scalar(&["requestObject", "spec", "hostIPC"]);
    req_pod_host_network "ka.req.pod.host_network"
        "When the request object refers to a pod, the value of the hostNetwork flag."
        => text |ev| ev.scalar(&["requestObject", "spec", "hostNetwork"]);
    req_container_host_network "ka.req.container.host_network"
        "Deprecated alias for ka.req.pod.host_network"
        => text |ev| ev.scalar(&["requestObject", "spec", "hostNetwork"]);
    req_pod_host_pid "ka.req.pod.host_pid"
        "When the request object refers to a pod, the value of the hostPID flag."
        => text |ev| ev.scalar(&["requestObject", "spec", "hostPID"]);
    req_pod_containers_host_port "ka.req.pod.containers.host_port"
        "When the request object refers to a pod, all container's hostPort values."
        => indexed |ev, i| ev.container_host_ports(C, i);
    req_pod_containers_privileged "ka.req.pod.containers.privileged"
        "When the request object refers to a pod, the value of the privileged flag for all containers."
        => indexed |ev, i| ev.container_settings(C, i, &["securityContext", "privileged"]);
    req_container_privileged "ka.req.container.privileged"
        "Deprecated by ka.req.pod.containers.privileged. Returns true if any container has privileged=true"
        => text |ev| ev.any_container_privileged();
    req_pod_containers_allow_privilege_escalation "ka.req.pod.containers.allow_privilege_escalation"
        "When the request object refers to a pod, the value of the allowPrivilegeEscalation flag for all containers"
        => indexed |ev, i| ev.container_settings(C, i, &["securityContext", "allowPrivilegeEscalation"]);
    req_pod_containers_read_only_fs "ka.req.pod.containers.read_only_fs"
        "When the request object refers to a pod, the value of the readOnlyRootFilesystem flag for all containers"
        => indexed |ev, i| ev.container_settings(C, i, &["securityContext", "readOnlyRootFilesystem"]);
    req_pod_run_as_user "ka.req.pod.run_as_user"
        "When the request object refers to a pod, the runAsUser uid specified in the security context for the pod. See ....containers.run_as_user for the runAsUser for individual containers"
        => text |ev| ev.scalar(&["requestObject", "spec", "securityContext", "runAsUser"]);
    req_pod_containers_run_as_user "ka.req.pod.containers.run_as_user"
        "When the request object refers to a pod, the runAsUser uid for all containers"
        => indexed |ev, i| ev.container_settings(C, i, &["securityContext", "runAsUser"]);
    req_pod_containers_eff_run_as_user "ka.req.pod.containers.eff_run_as_user"
        "When the request object refers to a pod, the initial uid that will be used for all containers. This combines information from both the pod and container security contexts and uses 0 if no uid is specified"
        => indexed |ev, i| ev.container_effective_id(C, i, "runAsUser");
    req_pod_run_as_group "ka.req.pod.run_as_group"
        "When the request object refers to a pod, the runAsGroup gid specified in the security context for the pod. See ....containers.run_as_group for the runAsGroup for individual containers"
        => text |ev| ev.scalar(&["requestObject", "spec", "securityContext", "runAsGroup"]);
    req_pod_containers_run_as_group "ka.req.pod.containers.run_as_group"
        "When the request object refers to a pod, the runAsGroup gid for all containers"
        => indexed |ev, i| ev.container_settings(C, i, &["securityContext", "runAsGroup"]);
    req_pod_containers_eff_run_as_group "ka.req.pod.containers.eff_run_as_group"
        "When the request object refers to a pod, the initial gid that will be used for all containers. This combines information from both the pod and container security contexts and uses 0 if no gid is specified"
        => indexed |ev, i| ev.container_effective_id(C, i, "runAsGroup");
    req_pod_containers_proc_mount "ka.req.pod.containers.proc_mount"
        "When the request object refers to a pod, the procMount types for all containers"
        => indexed |ev, i| ev.container_settings(C, i, &["securityContext", "procMount"]);
    req_role_rules "ka.req.role.rules"
        "When the request object refers to a role/cluster role, the rules associated with the role"
        => list |ev| ev.list(&["requestObject", "rules"]);
    req_role_rules_api_groups "ka.req.role.rules.apiGroups"
        "When the request object refers to a role/cluster role, the api groups associated with the role's rules"
        => indexed |ev, i| ev.rules_field(i, "apiGroups");
    req_role_rules_non_resource_urls "ka.req.role.rules.nonResourceURLs"
        "When the request object refers to a role/cluster role, the non resource urls associated with the role's rules"
        => indexed |ev, i| ev.rules_field(i, "nonResourceURLs");
    req_role_rules_verbs "ka.req.role.rules.verbs"
        "When the request object refers to a role/cluster role, the verbs associated with the role's rules"
        => indexed |ev, i| ev.rules_field(i, "verbs");
    req_role_rules_resources "ka.req.role.rules.resources"
        "When the request object refers to a role/cluster role, the resources associated with the role's rules"
        => indexed |ev, i| ev.rules_field(i, "resources");
    req_pod_fs_group "ka.req.pod.fs_group"
        "When the request object refers to a pod, the fsGroup gid specified by the security context."
        => text |ev| ev.scalar(&["requestObject", "spec", "securityContext", "fsGroup"]);
    req_pod_supplemental_groups "ka.req.pod.supplemental_groups"
        "When the request object refers to a pod, the supplementalGroup gids specified by the security context."
        => list |ev| ev.list(&["requestObject", "spec", "securityContext", "supplementalGroups"]);
    req_pod_containers_add_capabilities "ka.req.pod.containers.add_capabilities"
        "When the request object refers to a pod, all capabilities to add when running the container."
        => indexed |ev, i| ev.container_settings(C, i, &["securityContext", "capabilities", "add"]);
    req_service_type "ka.req.service.type"
        "When the request object refers to a service, the service type"
        => text |ev| ev.scalar(&["requestObject", "spec", "type"]);
    req_service_ports "ka.req.service.ports"
        "When the request object refers to a service, the service's ports"
        => indexed |ev, i| ev.walked(i, &["requestObject", "spec", "ports"]);
    req_pod_volumes_hostpath "ka.req.pod.volumes.hostpath"
        "When the request object refers to a pod, all hostPath paths specified for all volumes"
        => indexed |ev, i| ev.walked(i, &["requestObject", "spec", "volumes", "hostPath", "path"]);
    req_volume_hostpath "ka.req.volume.hostpath"
        "Deprecated by ka.req.pod.volumes.hostpath. Return true if the provided (host) path prefix is used by any volume"
        => keyed |ev, path| ev.volume_hostpath_used(path);
    req_pod_volumes_flexvolume_driver "ka.req.pod.volumes.flexvolume_driver"
        "When the request object refers to a pod, all flexvolume drivers specified for all volumes"
        => indexed |ev, i| ev.walked(i, &["requestObject", "spec", "volumes", "flexVolume", "driver"]);
    req_pod_volumes_volume_type "ka.req.pod.volumes.volume_type"
        "When the request object refers to a pod, all volume types for all volumes"
        => indexed |ev, i| ev.volume_types(i);
    resp_name "ka.resp.name"
        "The response object name"
        => text |ev| ev.scalar(&["responseObject", "metadata", "name"]);
    response_code "ka.response.code"
        "The response code"
        => text |ev| ev.scalar(&["responseStatus", "code"]);
    response_reason "ka.response.reason"
        "The response reason (usually present only for failures)"
        => text |ev| ev.scalar(&["responseStatus", "reason"]);
    useragent "ka.useragent"
        "The useragent of the client who made the request to the apiserver"
        => text |ev| ev.scalar(&["userAgent"]);
    sourceips "ka.sourceips"
        "The IP addresses of the client who made the request to the apiserver"
        => indexed |ev, i| ev.source_ips(i);
    cluster_name "ka.cluster.name"
        "The name of the k8s cluster"
        => text |ev| ev.cluster_name();
    req_pod_init_containers_name "ka.req.pod.initContainers.name"
        "When the request object refers to a pod, the init containers names."
        => indexed |ev, i| ev.container_texts(I, i, "name");
    req_pod_init_containers_image "ka.req.pod.initContainers.image"
        "When the request object refers to a pod, the init containers images."
        => indexed |ev, i| ev.container_texts(I, i, "image");
    req_pod_init_containers_image_repository "ka.req.pod.initContainers.image.repository"
        "The same as ka.req.pod.initContainers.image, but only the repository part (e.g. falcosecurity/falco)."
        => indexed |ev, i| ev.container_repositories(I, i);
    req_pod_init_containers_command "ka.req.pod.initContainers.command"
        "When the request object refers to a pod, the init containers commands."
        => indexed |ev, i| ev.container_argv(I, i, "command");
    req_pod_init_containers_args "ka.req.pod.initContainers.args"
        "When the request object refers to a pod, the init containers args."
        => indexed |ev, i| ev.container_argv(I, i, "args");
    req_pod_init_containers_privileged "ka.req.pod.initContainers.privileged"
        "When the request object refers to a pod, the value of the privileged flag for all init containers."
        => indexed |ev, i| ev.container_settings(I, i, &["securityContext", "privileged"]);
    req_pod_init_containers_allow_privilege_escalation "ka.req.pod.initContainers.allow_privilege_escalation"
        "When the request object refers to a pod, the value of the allowPrivilegeEscalation flag for all init containers."
        => indexed |ev, i| ev.container_settings(I, i, &["securityContext", "allowPrivilegeEscalation"]);
    req_pod_init_containers_read_only_fs "ka.req.pod.initContainers.read_only_fs"
        "When the request object refers to a pod, the value of the readOnlyRootFilesystem flag for all init containers."
        => indexed |ev, i| ev.container_settings(I, i, &["securityContext", "readOnlyRootFilesystem"]);
    req_pod_init_containers_run_as_user "ka.req.pod.initContainers.run_as_user"
        "When the request object refers to a pod, the runAsUser uid for all init containers."
        => indexed |ev, i| ev.container_settings(I, i, &["securityContext", "runAsUser"]);
    req_pod_init_containers_eff_run_as_user "ka.req.pod.initContainers.eff_run_as_user"
        "When the request object refers to a pod, the initial uid that will be used for all init containers. This combines information from both the pod and container security contexts and uses 0 if no uid is specified."
        => indexed |ev, i| ev.container_effective_id(I, i, "runAsUser");
    req_pod_init_containers_run_as_group "ka.req.pod.initContainers.run_as_group"
        "When the request object refers to a pod, the runAsGroup gid for all init containers."
        => indexed |ev, i| ev.container_settings(I, i, &["securityContext", "runAsGroup"]);
    req_pod_init_containers_eff_run_as_group "ka.req.pod.initContainers.eff_run_as_group"
        "When the request object refers to a pod, the initial gid that will be used for all init containers. This combines information from both the pod and container security contexts and uses 0 if no gid is specified."
        => indexed |ev, i| ev.container_effective_id(I, i, "runAsGroup");
    req_pod_init_containers_proc_mount "ka.req.pod.initContainers.proc_mount"
        "When the request object refers to a pod, the procMount type for all init containers."
        => indexed |ev, i| ev.container_settings(I, i, &["securityContext", "procMount"]);
    req_pod_init_containers_add_capabilities "ka.req.pod.initContainers.add_capabilities"
        "When the request object refers to a pod, the capabilities added for all init containers."
        => indexed |ev, i| ev.container_settings(I, i, &["securityContext", "capabilities", "add"]);
    req_pod_init_containers_host_port "ka.req.pod.initContainers.host_port"
        "When the request object refers to a pod, all init containers hostPort values."
        => indexed |ev, i| ev.container_host_ports(I, i);
    req_pod_ephemeral_containers_name "ka.req.pod.ephemeralContainers.name"
        "When the request object refers to a pod, the ephemeral containers names."
        => indexed |ev, i| ev.container_texts(E, i, "name");
    req_pod_ephemeral_containers_image "ka.req.pod.ephemeralContainers.image"
        "When the request object refers to a pod, the ephemeral containers images."
        => indexed |ev, i| ev.container_texts(E, i, "image");
    req_pod_ephemeral_containers_image_repository "ka.req.pod.ephemeralContainers.image.repository"
        "The same as ka.req.pod.ephemeralContainers.image, but only the repository part (e.g. falcosecurity/falco)."
        => indexed |ev, i| ev.container_repositories(E, i);
    req_pod_ephemeral_containers_command "ka.req.pod.ephemeralContainers.command"
        "When the request object refers to a pod, the ephemeral containers commands."
        => indexed |ev, i| ev.container_argv(E, i, "command");
    req_pod_ephemeral_containers_args "ka.req.pod.ephemeralContainers.args"
        "When the request object refers to a pod, the ephemeral containers args."
        => indexed |ev, i| ev.container_argv(E, i, "args");
    req_pod_ephemeral_containers_privileged "ka.req.pod.ephemeralContainers.privileged"
        "When the request object refers to a pod, the value of the privileged flag for all ephemeral containers."
        => indexed |ev, i| ev.container_settings(E, i, &["securityContext", "privileged"]);
    req_pod_ephemeral_containers_allow_privilege_escalation "ka.req.pod.ephemeralContainers.allow_privilege_escalation"
        "When the request object refers to a pod, the value of the allowPrivilegeEscalation flag for all ephemeral containers."
        => indexed |ev, i| ev.container_settings(E, i, &["securityContext", "allowPrivilegeEscalation"]);
    req_pod_ephemeral_containers_read_only_fs "ka.req.pod.ephemeralContainers.read_only_fs"
        "When the request object refers to a pod, the value of the readOnlyRootFilesystem flag for all ephemeral containers."
        => indexed |ev, i| ev.container_settings(E, i, &["securityContext", "readOnlyRootFilesystem"]);
    req_pod_ephemeral_containers_run_as_user "ka.req.pod.ephemeralContainers.run_as_user"
        "When the request object refers to a pod, the runAsUser uid for all ephemeral containers."
        => indexed |ev, i| ev.container_settings(E, i, &["securityContext", "runAsUser"]);
    req_pod_ephemeral_containers_eff_run_as_user "ka.req.pod.ephemeralContainers.eff_run_as_user"
        "When the request object refers to a pod, the initial uid that will be used for all ephemeral containers. This combines information from both the pod and container security contexts and uses 0 if no uid is specified."
        => indexed |ev, i| ev.container_effective_id(E, i, "runAsUser");
    req_pod_ephemeral_containers_run_as_group "ka.req.pod.ephemeralContainers.run_as_group"
        "When the request object refers to a pod, the runAsGroup gid for all ephemeral containers."
        => indexed |ev, i| ev.container_settings(E, i, &["securityContext", "runAsGroup"]);
    req_pod_ephemeral_containers_eff_run_as_group "ka.req.pod.ephemeralContainers.eff_run_as_group"
        "When the request object refers to a pod, the initial gid that will be used for all ephemeral containers. This combines information from both the pod and container security contexts and uses 0 if no gid is specified."
        => indexed |ev, i| ev.container_effective_id(E, i, "runAsGroup");
    req_pod_ephemeral_containers_proc_mount "ka.req.pod.ephemeralContainers.proc_mount"
        "When the request object refers to a pod, the procMount type for all ephemeral containers."
        => indexed |ev, i| ev.container_settings(E, i, &["securityContext", "procMount"]);
    req_pod_ephemeral_containers_add_capabilities "ka.req.pod.ephemeralContainers.add_capabilities"
        "When the request object refers to a pod, the capabilities added for all ephemeral containers."
        => indexed |ev, i| ev.container_settings(E, i, &["securityContext", "capabilities", "add"]);
}
