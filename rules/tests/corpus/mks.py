# SPDX-License-Identifier: Apache-2.0
"""Builders of audit events as the kube-apiserver of an OVHcloud MKS cluster logs them.

Used by generate.py. What the events follow (see docs/rules.md, "What MKS audit data allows"):
- the audit policy of MKS: secrets and configmaps at Metadata (no request or response
  objects), create/update/patch/delete at RequestResponse, other verbs at Request;
- no RequestReceived stage; watches and upgraded connections (exec, attach, port-forward,
  proxied WebSockets) also log ResponseStarted;
- identities of the platform: `yacht` (OVH's node-pool agent), `csi-cinder-controller`,
  kubelets `system:node:<pool>-node-<6 hex>`, the control plane and its controllers;
- a refused request has a Status response and, when RBAC refused it, decision `forbid`.
"""

import datetime
import json
import random
import uuid

K8S = "v1.31.1"
K8S_COMMIT = "948afe5"


class Clock:
    """Timestamps through one day, in order."""

    def __init__(self, rng, day="2025-03-12"):
        self.rng = rng
        self.t = datetime.datetime.fromisoformat(day + "T00:00:00+00:00")

    def tick(self, max_seconds=180):
        self.t += datetime.timedelta(seconds=self.rng.uniform(0.05, max_seconds))
        received = self.t
        done = received + datetime.timedelta(microseconds=self.rng.randint(400, 90000))
        fmt = "%Y-%m-%dT%H:%M:%S.%fZ"
        return received.strftime(fmt), done.strftime(fmt)


class Ctx:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.clock = Clock(self.rng)

    def uid(self):
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def hexs(self, n):
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(n))

    def suffix(self, n=5):
        return "".join(self.rng.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(n))

    def pick(self, xs):
        return self.rng.choice(xs)


# --- identities ---------------------------------------------------------------------------


def user(name, groups, uid=None, extra=None):
    u = {"username": name}
    if uid:
        u["uid"] = uid
    u["groups"] = groups
    if extra:
        u["extra"] = extra
    return u


def admin():
    """The kubeconfig the OVHcloud console hands out."""
    return user("kubernetes-admin", ["system:masters", "system:authenticated"])


def oidc(name, groups=()):
    return user(name, list(groups) + ["system:authenticated"])


def sa(ctx, ns, name, pod=None, node=None):
    extra = None
    if pod:
        extra = {
            "authentication.kubernetes.io/credential-id": ["JTI=" + ctx.uid()],
            "authentication.kubernetes.io/pod-name": [pod],
            "authentication.kubernetes.io/pod-uid": [ctx.uid()],
        }
        if node:
            extra["authentication.kubernetes.io/node-name"] = [node]
    return user(
        f"system:serviceaccount:{ns}:{name}",
        ["system:serviceaccounts", f"system:serviceaccounts:{ns}", "system:authenticated"],
        uid=ctx.uid(),
        extra=extra,
    )


def node_user(node):
    return user(f"system:node:{node}", ["system:nodes", "system:authenticated"])


def plain(name, groups=("system:authenticated",)):
    return user(name, list(groups))


ANONYMOUS = user("system:anonymous", ["system:unauthenticated"])


def ua_kubectl(rng, version=None):
    version = version or rng.choice(["v1.31.2", "v1.30.5", "v1.31.0", "v1.32.1", "v1.30.2"])
    os_ = rng.choice(["linux/amd64", "darwin/arm64", "darwin/amd64", "windows/amd64"])
    commit = rng.choice(["5864a46", "74e84a9", "9edcffc", "e9c9be4", "6813625"])
    return f"kubectl/{version} ({os_}) kubernetes/{commit}"


def ua_controller(sa_name):
    return (
        f"kube-controller-manager/{K8S} (linux/amd64) kubernetes/{K8S_COMMIT}"
        f"/system:serviceaccount:kube-system:{sa_name}"
    )


UA_KUBELET = f"kubelet/{K8S} (linux/amd64) kubernetes/{K8S_COMMIT}"
UA_YACHT = "yacht/v0.0.0 (linux/amd64) kubernetes/$Format"
UA_APISERVER = f"kube-apiserver/{K8S} (linux/amd64) kubernetes/{K8S_COMMIT}"
UA_KCM = f"kube-controller-manager/{K8S} (linux/amd64) kubernetes/{K8S_COMMIT}"
UA_SCHEDULER = f"kube-scheduler/{K8S} (linux/amd64) kubernetes/{K8S_COMMIT}/scheduler"


# --- events --------------------------------------------------------------------------------

READ_VERBS = {"get", "list", "watch"}
WRITE_VERBS = {"create", "update", "patch", "delete", "deletecollection"}

REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    409: "AlreadyExists",
    422: "Invalid",
}


def level_for(resource, verb):
    if resource in ("secrets", "configmaps"):
        return "Metadata"
    if verb in WRITE_VERBS:
        return "RequestResponse"
    return "Request"


def event(
    ctx,
    who,
    verb,
    uri,
    ips,
    ua,
    resource=None,
    namespace=None,
    name=None,
    subresource=None,
    group="",
    version="v1",
    code=None,
    stage="ResponseComplete",
    req=None,
    resp=None,
    reason="",
    decision="allow",
    impersonated=None,
    message=None,
    extra_annotations=None,
):
    """One audit event. `code` defaults to what the verb answers on success."""
    if code is None:
        code = {"create": 201}.get(verb, 200)
    received, done = ctx.clock.tick()
    level = level_for(resource, verb) if resource else "Metadata"
    e = {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": level,
        "auditID": ctx.uid(),
        "stage": stage,
        "requestURI": uri,
        "verb": verb,
        "user": who,
    }
    if impersonated:
        e["impersonatedUser"] = impersonated
    e["sourceIPs"] = list(ips)
    e["userAgent"] = ua
    if resource:
        ref = {"resource": resource}
        if namespace:
            ref["namespace"] = namespace
        if name:
            ref["name"] = name
        if group:
            ref["apiGroup"] = group
        ref["apiVersion"] = version
        if subresource:
            ref["subresource"] = subresource
        e["objectRef"] = ref
    status = {"metadata": {}, "code": code}
    refused = code >= 400
    if refused:
        status = {
            "metadata": {},
            "status": "Failure",
            "message": message or default_message(who, verb, resource, subresource, group, namespace, name),
            "reason": REASONS.get(code, "InternalError"),
            "code": code,
        }
    e["responseStatus"] = status
    if level == "RequestResponse" or (level == "Request" and req is not None):
        if req is not None:
            e["requestObject"] = req
        if level == "RequestResponse":
            if refused:
                e["responseObject"] = {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "metadata": {},
                    "status": "Failure",
                    "message": status["message"],
                    "reason": status["reason"],
                    "details": {"kind": resource or "", "group": group},
                    "code": code,
                }
            elif resp is not None:
                e["responseObject"] = resp
    e["requestReceivedTimestamp"] = received
    e["stageTimestamp"] = done
    ann = {}
    if code == 403 and decision == "allow" and message is None:
        decision = "forbid"
    if decision is not None:
        ann["authorization.k8s.io/decision"] = decision
        ann["authorization.k8s.io/reason"] = reason if decision == "allow" else ""
    if extra_annotations:
        ann.update(extra_annotations)
    if ann:
        e["annotations"] = ann
    return e


def default_message(who, verb, resource, subresource, group, namespace, name):
    res = resource or "resource"
    if subresource:
        res += "/" + subresource
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    target = f'{resource} "{name}"' if name else resource
    return (
        f'{target} is forbidden: User "{who["username"]}" cannot {verb} resource "{res}" '
        f'in API group "{group}" {scope}'
    )


def rbac_reason(binding, role, subject):
    return f'RBAC: allowed by {binding} of {role} to {subject}'


ADMIN_REASON = rbac_reason(
    'ClusterRoleBinding "cluster-admin"', 'ClusterRole "cluster-admin"', 'Group "system:masters"'
)


def api_path(group, version, resource, namespace=None, name=None, subresource=None):
    base = f"/api/{version}" if not group else f"/apis/{group}/{version}"
    if namespace:
        base += f"/namespaces/{namespace}"
    base += f"/{resource}"
    if name:
        base += f"/{name}"
    if subresource:
        base += f"/{subresource}"
    return base


def request(
    ctx,
    who,
    verb,
    resource,
    ips,
    ua,
    namespace=None,
    name=None,
    subresource=None,
    group="",
    version="v1",
    query="",
    **kw,
):
    """An API request on a resource: the URI is built from the resource path. A create names
    its object only in the response (or in the path, for a subresource)."""
    has_name = bool(name) and (verb != "create" or bool(subresource))
    uri = api_path(group, version, resource, namespace, name if has_name else None, subresource)
    if query:
        uri += "?" + query
    elif verb in ("create", "update", "patch") and not subresource:
        uri += "?fieldManager=" + field_manager(ua)
    return event(
        ctx,
        who,
        verb,
        uri,
        ips,
        ua,
        resource=resource,
        namespace=namespace,
        name=name if has_name else None,
        subresource=subresource,
        group=group,
        version=version,
        **kw,
    )


def field_manager(ua):
    if ua.startswith("kubectl"):
        return "kubectl-client-side-apply"
    if ua.startswith("Helm"):
        return "helm"
    if ua.startswith("argocd"):
        return "argocd-controller"
    return ua.split("/")[0]


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


# --- objects --------------------------------------------------------------------------------


def container(name, image, privileged=None, command=None, args=None, mounts=None, caps=None,
              run_as_root=False, ports=None, resources=None, stdin=False):
    c = {"name": name, "image": image}
    if command:
        c["command"] = command
    if args:
        c["args"] = args
    if ports:
        c["ports"] = ports
    c["resources"] = resources or {}
    if mounts:
        c["volumeMounts"] = mounts
    c["terminationMessagePath"] = "/dev/termination-log"
    c["terminationMessagePolicy"] = "File"
    c["imagePullPolicy"] = "IfNotPresent"
    sc = {}
    if privileged is not None:
        sc["privileged"] = privileged
    if caps:
        sc["capabilities"] = {"add": caps}
    if run_as_root:
        sc["runAsUser"] = 0
    if sc:
        c["securityContext"] = sc
    if stdin:
        c["stdin"] = True
        c["tty"] = True
    return c


def host_path_volume(name, path, type_=""):
    return {"name": name, "hostPath": {"path": path, "type": type_}}


def pod_spec(containers, init=None, volumes=None, host_network=None, host_pid=None,
             host_ipc=None, sa_name="default", node_name=None, tolerations=None,
             node_selector=None, restart="Always", priority_class=None, dns=None):
    spec = {}
    if volumes:
        spec["volumes"] = volumes
    if init:
        spec["initContainers"] = init
    spec["containers"] = containers
    spec["restartPolicy"] = restart
    spec["terminationGracePeriodSeconds"] = 30
    spec["dnsPolicy"] = dns or ("ClusterFirstWithHostNet" if host_network else "ClusterFirst")
    if node_selector:
        spec["nodeSelector"] = node_selector
    spec["serviceAccountName"] = sa_name
    spec["serviceAccount"] = sa_name
    if node_name:
        spec["nodeName"] = node_name
    if host_network is not None:
        spec["hostNetwork"] = host_network
    if host_pid is not None:
        spec["hostPID"] = host_pid
    if host_ipc is not None:
        spec["hostIPC"] = host_ipc
    spec["securityContext"] = {}
    spec["schedulerName"] = "default-scheduler"
    if tolerations:
        spec["tolerations"] = tolerations
    if priority_class:
        spec["priorityClassName"] = priority_class
    return spec


def pod_object(ctx, namespace, spec, name=None, generate_name=None, owner=None, labels=None,
               created=True):
    meta = {}
    if name:
        meta["name"] = name
    if generate_name:
        meta["generateName"] = generate_name
    meta["namespace"] = namespace
    if created:
        meta["uid"] = ctx.uid()
        meta["resourceVersion"] = str(ctx.rng.randint(1000000, 9000000))
        meta["creationTimestamp"] = "2025-03-12T00:00:00Z"
    else:
        meta["creationTimestamp"] = None
    if labels:
        meta["labels"] = labels
    if owner:
        meta["ownerReferences"] = [owner]
    return {"kind": "Pod", "apiVersion": "v1", "metadata": meta, "spec": spec,
            "status": {"phase": "Pending", "qosClass": "BestEffort"} if created else {}}


def owner_ref(ctx, kind, name, group="apps/v1"):
    return {"apiVersion": group, "kind": kind, "name": name, "uid": ctx.uid(),
            "controller": True, "blockOwnerDeletion": True}


def workload(ctx, kind, namespace, name, spec, labels=None, created=True, schedule=None,
             replicas=1):
    app = labels or {"app.kubernetes.io/name": name}
    meta = {"name": name, "namespace": namespace, "labels": app}
    if created:
        meta.update({"uid": ctx.uid(), "resourceVersion": str(ctx.rng.randint(1000000, 9000000)),
                     "generation": 1, "creationTimestamp": "2025-03-12T00:00:00Z"})
    else:
        meta["creationTimestamp"] = None
    template = {"metadata": {"creationTimestamp": None, "labels": app}, "spec": spec}
    if kind == "CronJob":
        body = {"schedule": schedule or "*/5 * * * *", "concurrencyPolicy": "Allow",
                "suspend": False,
                "jobTemplate": {"metadata": {"creationTimestamp": None},
                                "spec": {"template": template}},
                "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 1}
        api = "batch/v1"
    elif kind == "Job":
        body = {"backoffLimit": 6, "completions": 1, "parallelism": 1, "template": template}
        api = "batch/v1"
    else:
        body = {"selector": {"matchLabels": app}, "template": template}
        if kind in ("Deployment", "StatefulSet", "ReplicaSet"):
            body = {"replicas": replicas, **body}
        if kind == "Deployment":
            body["strategy"] = {"type": "RollingUpdate",
                                "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}
        if kind == "DaemonSet":
            body["updateStrategy"] = {"type": "RollingUpdate",
                                      "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}
        api = "apps/v1"
    obj = {"kind": kind, "apiVersion": api, "metadata": meta, "spec": body}
    if created:
        obj["status"] = {}
    return obj


WORKLOAD_RESOURCE = {
    "Deployment": ("apps", "deployments"),
    "DaemonSet": ("apps", "daemonsets"),
    "StatefulSet": ("apps", "statefulsets"),
    "ReplicaSet": ("apps", "replicasets"),
    "Job": ("batch", "jobs"),
    "CronJob": ("batch", "cronjobs"),
}


def role_object(kind, name, rules, namespace=None, labels=None, aggregation=None):
    meta = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    if labels:
        meta["labels"] = labels
    meta["creationTimestamp"] = None
    obj = {"kind": kind, "apiVersion": "rbac.authorization.k8s.io/v1", "metadata": meta}
    if aggregation:
        obj["aggregationRule"] = aggregation
    obj["rules"] = rules
    return obj


def rule(groups, resources, verbs, names=None):
    r = {"verbs": verbs, "apiGroups": groups, "resources": resources}
    if names:
        r["resourceNames"] = names
    return r


def binding_object(kind, name, role_kind, role, subjects, namespace=None):
    meta = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    meta["creationTimestamp"] = None
    return {
        "kind": kind,
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "metadata": meta,
        "subjects": subjects,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role},
    }


def subj_user(name):
    return {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": name}


def subj_group(name):
    return {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": name}


def subj_sa(ns, name):
    return {"kind": "ServiceAccount", "name": name, "namespace": ns}


def created(ctx, obj):
    """The response object of a create: the request object with server-set metadata."""
    out = json.loads(json.dumps(obj))
    meta = out.setdefault("metadata", {})
    meta["uid"] = ctx.uid()
    meta["resourceVersion"] = str(ctx.rng.randint(1000000, 9000000))
    meta["creationTimestamp"] = "2025-03-12T00:00:00Z"
    return out
