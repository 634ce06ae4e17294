"""Verb helpers: one audit event per API call, the way kubectl/clients/controllers make them."""
import copy
import json
from gen_base import (R, event, denied, ref, path, uid, rfc, fmt, alnum, hexs, rand_time, status)
from gen_objects import (stored, pod_stored, status_obj, delete_options, status_success)

GROUP_OF = {
    "deployments": "apps", "daemonsets": "apps", "statefulsets": "apps", "replicasets": "apps",
    "jobs": "batch", "cronjobs": "batch",
    "roles": "rbac.authorization.k8s.io", "clusterroles": "rbac.authorization.k8s.io",
    "rolebindings": "rbac.authorization.k8s.io", "clusterrolebindings": "rbac.authorization.k8s.io",
    "mutatingwebhookconfigurations": "admissionregistration.k8s.io",
    "validatingwebhookconfigurations": "admissionregistration.k8s.io",
    "certificatesigningrequests": "certificates.k8s.io",
    "selfsubjectaccessreviews": "authorization.k8s.io", "selfsubjectrulesreviews": "authorization.k8s.io",
    "subjectaccessreviews": "authorization.k8s.io", "tokenreviews": "authentication.k8s.io",
    "nodepools": "kube.cloud.ovh.com", "leases": "coordination.k8s.io",
    "endpointslices": "discovery.k8s.io", "horizontalpodautoscalers": "autoscaling",
    "ingresses": "networking.k8s.io", "networkpolicies": "networking.k8s.io",
    "customresourcedefinitions": "apiextensions.k8s.io", "volumeattachments": "storage.k8s.io",
    "csinodes": "storage.k8s.io", "poddisruptionbudgets": "policy", "priorityclasses": "scheduling.k8s.io",
    "ciliumendpoints": "cilium.io", "ciliumnodes": "cilium.io", "ciliumidentities": "cilium.io",
    "applications": "argoproj.io", "certificates": "cert-manager.io", "certificaterequests": "cert-manager.io",
    "orders": "acme.cert-manager.io", "servicemonitors": "monitoring.coreos.com",
    "backups": "velero.io", "kustomizations": "kustomize.toolkit.fluxcd.io",
    "helmreleases": "helm.toolkit.fluxcd.io", "gitrepositories": "source.toolkit.fluxcd.io",
    "events.k8s.io/events": "events.k8s.io", "flowschemas": "flowcontrol.apiserver.k8s.io",
    "apiservices": "apiregistration.k8s.io", "policyreports": "wgpolicyk8s.io",
    "clusterpolicies": "kyverno.io",
}
VERSION_OF = {"nodepools": "v1alpha1", "horizontalpodautoscalers": "v2", "ciliumendpoints": "v2",
              "ciliumnodes": "v2", "ciliumidentities": "v2", "applications": "v1alpha1",
              "orders": "v1", "backups": "v1", "kustomizations": "v1", "helmreleases": "v2",
              "gitrepositories": "v1", "servicemonitors": "v1", "flowschemas": "v1",
              "policyreports": "v1alpha2", "clusterpolicies": "v1"}


def gv(resource, group=None, version=None):
    g = group if group is not None else GROUP_OF.get(resource)
    if g == "":
        g = None
    v = version or VERSION_OF.get(resource, "v1")
    return g, v


def R_(resource, ns=None, name=None, sub=None, group=None, version=None):
    g, v = gv(resource, group, version)
    return ref(resource, ns, name, g, v, sub), path(resource, ns, name, g, v, sub)


def create(who, resource, obj, ns=None, t=None, q="", resp=None, code=201, sub=None, name=None,
           group=None, version=None, **kw):
    ns = ns or obj.get("metadata", {}).get("namespace")
    nm = name or obj.get("metadata", {}).get("name")
    r, p = R_(resource, ns, nm if sub else None, sub, group, version)
    if nm and not sub:
        r = dict(r)
        r["name"] = nm
        # put name after namespace for readability
        r = {k: r[k] for k in ("resource", "namespace", "name", "apiGroup", "apiVersion", "subresource") if k in r}
    t = t or rand_time()
    if resp is None and code < 300:
        resp = pod_stored(obj, t) if obj.get("kind") == "Pod" else stored(obj, t)
    return event(who, "create", p + q, r, t=t, code=code, req=obj, resp=resp, **kw)


def create_denied_admission(who, resource, obj, code, message, ns=None, t=None, q="", ann=None,
                            reason=None, group=None):
    ns = ns or obj.get("metadata", {}).get("namespace")
    nm = obj.get("metadata", {}).get("name")
    r, p = R_(resource, ns, None, None, group)
    if nm:
        r = {k: v for k, v in list(r.items())}
        r["name"] = nm
    rsn = {400: "BadRequest", 403: "Forbidden", 422: "Invalid"}[code]
    st = status_obj(code, rsn, message)
    rs = {"metadata": {}, "status": "Failure", "message": message, "reason": rsn, "code": code}
    return event(who, "create", p + q, r, t=t, req=obj, resp=st, resp_status=rs, ann=ann,
                 reason=reason)


def patch(who, resource, name, body, result, ns=None, t=None, q="", sub=None, group=None,
          version=None, code=200, **kw):
    r, p = R_(resource, ns, name, sub, group, version)
    return event(who, "patch", p + q, r, t=t, code=code, req=body, resp=result, **kw)


def update(who, resource, name, obj, ns=None, t=None, q="", sub=None, group=None, version=None,
           resp=None, **kw):
    r, p = R_(resource, ns, name, sub, group, version)
    t = t or rand_time()
    if resp is None:
        resp = copy.deepcopy(obj)
        resp.setdefault("metadata", {})["resourceVersion"] = str(R.randint(4000000, 9900000))
    return event(who, "update", p + q, r, t=t, req=obj, resp=resp, **kw)


def delete(who, resource, name, ns=None, t=None, q="", group=None, version=None, kind=None,
           resp=None, opts=None, **kw):
    r, p = R_(resource, ns, name, None, group, version)
    g, _ = gv(resource, group, version)
    if resp is None:
        resp = status_success(kind or resource, name, g)
    return event(who, "delete", p + q, r, t=t, req=opts or delete_options(), resp=resp, **kw)


def get(who, resource, name=None, ns=None, t=None, q="", sub=None, group=None, version=None,
        verb=None, **kw):
    r, p = R_(resource, ns, name, sub, group, version)
    v = verb or ("get" if name else "list")
    return event(who, v, p + q, r, t=t, **kw)


def watch(who, resource, ns=None, t=None, q=None, group=None, version=None, stage=None, name=None,
          **kw):
    r, p = R_(resource, ns, None, None, group, version)
    if name:
        r["name"] = name
    rv = R.randint(4000000, 9900000)
    to = R.randint(300, 599)
    if q is None:
        q = f"?allowWatchBookmarks=true&resourceVersion={rv}&timeout={to // 60}m{to % 60}s&timeoutSeconds={to}&watch=true"
        if name:
            q = f"?allowWatchBookmarks=true&fieldSelector=metadata.name%3D{name}&resourceVersion={rv}&timeout={to // 60}m{to % 60}s&timeoutSeconds={to}&watch=true"
    stage = stage or R.choice(["ResponseStarted", "ResponseComplete"])
    lat = R.uniform(0.5, 3) if stage == "ResponseStarted" else to * 1000 + R.uniform(1, 50)
    return event(who, "watch", p + q, r, t=t, stage=stage, latency_ms=lat, **kw)


def refused(who, verb, resource, name=None, ns=None, t=None, q="", sub=None, group=None,
            version=None, node_reason=None, **kw):
    r, p = R_(resource, ns, name, sub, group, version)
    return denied(who, verb, p + q, r, t=t, node_reason=node_reason, **kw)


def exec_q(command, container, tty=True, stdin=True):
    q = "&".join("command=" + quote(c) for c in command)
    q += f"&container={container}"
    if stdin:
        q += "&stdin=true"
    q += "&stdout=true"
    q += "&tty=true" if tty else "&stderr=true"
    return "?" + q


def quote(s):
    from urllib.parse import quote as q
    return q(s, safe="")


def streaming(who, sub, ns, pod, q, verb="get", stage="ResponseStarted", t=None, **kw):
    """exec / attach / portforward: 101 Switching Protocols; websocket GET or SPDY POST."""
    r, p = R_("pods", ns, pod, sub)
    lat = R.uniform(3, 40) if stage == "ResponseStarted" else R.uniform(4000, 900000)
    return event(who, verb, p + q, r, t=t, code=101, stage=stage, latency_ms=lat, **kw)


def nonres(who, uri, verb="get", t=None, code=200, **kw):
    return event(who, verb, uri, None, t=t, code=code, **kw)


def sar_obj(kind, spec, allowed=True, reason=""):
    api = "authorization.k8s.io/v1"
    req = {"kind": kind, "apiVersion": api, "metadata": {"creationTimestamp": None}, "spec": spec,
           "status": {"allowed": False}}
    resp = copy.deepcopy(req)
    resp["status"] = {"allowed": allowed}
    if reason:
        resp["status"]["reason"] = reason
    return req, resp
