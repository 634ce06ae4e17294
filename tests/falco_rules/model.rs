//! A small model of the `ka.*` fields the rule conditions use, after the reference semantics
//! of `docs` (k8saudit 0.18.0 plus this project's documented deviations). The examples are
//! evaluated with the built plugin whenever its field table has every field they need; this
//! model stands in only while it does not, so the examples stay executable meanwhile.

use serde_json::Value as Json;

fn text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn at<'a>(e: &'a Json, path: &[&str]) -> Option<&'a Json> {
    path.iter().try_fold(e, |v, k| v.get(*k))
}

fn scalar(e: &Json, path: &[&str]) -> Option<Vec<String>> {
    at(e, path).map(|v| vec![text(v)])
}

/// Image reference without digest and tag (a ':' after the last '/').
fn repository(image: &str) -> String {
    let image = image.split('@').next().unwrap_or(image);
    let slash = image.rfind('/').map_or(0, |i| i + 1);
    match image[slash..].find(':') {
        Some(i) => image[..slash + i].to_owned(),
        None => image.to_owned(),
    }
}

/// Per-item values of `spec.<list>[].<path>`, skipping items without it.
fn per_item(
    e: &Json,
    list: &str,
    path: &[&str],
    f: impl Fn(&Json) -> String,
) -> Option<Vec<String>> {
    let items = at(e, &["requestObject", "spec", list])?.as_array()?;
    Some(items.iter().filter_map(|c| at(c, path)).map(f).collect())
}

/// The values of `field` on `event`, or `None` where the model has no answer.
pub fn values(e: &Json, field: &str, arg: Option<&str>) -> Option<Option<Vec<String>>> {
    if e.get("auditID").is_none() {
        return Some(None);
    }
    let annotation = |k: &str| {
        e.get("annotations")
            .and_then(|a| a.get(k))
            .map(|v| vec![text(v)])
    };
    let v = match (field, arg) {
        ("ka.auditid", None) => scalar(e, &["auditID"]),
        ("ka.stage", None) => scalar(e, &["stage"]),
        ("ka.verb", None) => scalar(e, &["verb"]),
        ("ka.uri", None) => scalar(e, &["requestURI"]),
        ("ka.user.name", None) => scalar(e, &["user", "username"]),
        ("ka.auth.decision", None) => annotation("authorization.k8s.io/decision"),
        ("ka.target.name", None) => scalar(e, &["objectRef", "name"]),
        ("ka.target.namespace", None) => scalar(e, &["objectRef", "namespace"]),
        ("ka.target.resource", None) => scalar(e, &["objectRef", "resource"]),
        ("ka.target.subresource", None) => scalar(e, &["objectRef", "subresource"]),
        ("ka.response.code", None) => scalar(e, &["responseStatus", "code"]),
        ("ka.req.binding.role", None) => scalar(e, &["requestObject", "roleRef", "name"]),
        ("ka.req.configmap.obj", None) => scalar(e, &["requestObject", "data"]),
        ("ka.req.service.type", None) => scalar(e, &["requestObject", "spec", "type"]),
        ("ka.req.pod.host_network", None) => scalar(e, &["requestObject", "spec", "hostNetwork"]),
        ("ka.req.pod.host_pid", None) => scalar(e, &["requestObject", "spec", "hostPID"]),
        ("ka.req.pod.host_ipc", None) => scalar(e, &["requestObject", "spec", "hostIPC"]),
        ("ka.req.pod.volumes.hostpath", None) => {
            per_item(e, "volumes", &["hostPath", "path"], text)
        }
        ("ka.req.role.rules.resources" | "ka.req.role.rules.verbs", None) => {
            let key = field.rsplit('.').next().unwrap();
            at(e, &["requestObject", "rules"])
                .and_then(Json::as_array)
                .map(|rules| {
                    rules
                        .iter()
                        .filter_map(|r| r.get(key)?.as_array())
                        .flatten()
                        .map(text)
                        .collect()
                })
        }
        (f, None) => {
            let (list, prop) = f.strip_prefix("ka.req.pod.")?.split_once('.')?;
            match prop {
                "privileged" => per_item(e, list, &["securityContext", "privileged"], text),
                "image.repository" => per_item(e, list, &["image"], |v| repository(&text(v))),
                "image" => per_item(e, list, &["image"], text),
                _ => return None,
            }
        }
        _ => return None,
    };
    Some(v.filter(|v| !v.is_empty()))
}
