"""Kubernetes objects as the API server logs them (request as sent, response as stored)."""
import copy
from gen_base import R, uid, rfc, alnum, hexs, NODES


def container(name, image, command=None, args=None, sc=None, mounts=None, ports=None, env=None,
              resources=None, pull="IfNotPresent", stdin=False, tty=False):
    c = {"name": name, "image": image}
    if command:
        c["command"] = command
    if args:
        c["args"] = args
    if env:
        c["env"] = [{"name": k, "value": v} for k, v in env.items()]
    if ports:
        c["ports"] = [{"containerPort": p, "protocol": "TCP"} if isinstance(p, int) else p for p in ports]
    c["resources"] = resources if resources is not None else {}
    if mounts:
        c["volumeMounts"] = [{"name": n, "mountPath": m} for n, m in mounts]
    if sc is not None:
        c["securityContext"] = sc
    c["imagePullPolicy"] = pull
    if stdin:
        c["stdin"] = True
    if tty:
        c["tty"] = True
    return c


def hostpath(name, p, typ=None):
    v = {"name": name, "hostPath": {"path": p}}
    if typ is not None:
        v["hostPath"]["type"] = typ
    return v


def pod_spec(containers, volumes=None, sa=None, node=None, host_pid=False, host_net=False,
             host_ipc=False, tolerations=None, node_selector=None, restart=None, psc=None,
             init=None, priority_class=None, automount=None):
    s = {}
    if volumes:
        s["volumes"] = volumes
    if init:
        s["initContainers"] = init
    s["containers"] = containers
    if restart:
        s["restartPolicy"] = restart
    if node_selector:
        s["nodeSelector"] = node_selector
    if sa:
        s["serviceAccountName"] = sa
    if automount is not None:
        s["automountServiceAccountToken"] = automount
    if node:
        s["nodeName"] = node
    if host_net:
        s["hostNetwork"] = True
    if host_pid:
        s["hostPID"] = True
    if host_ipc:
        s["hostIPC"] = True
    if psc is not None:
        s["securityContext"] = psc
    if tolerations:
        s["tolerations"] = tolerations
    if priority_class:
        s["priorityClassName"] = priority_class
    return s


TOLERATE_ALL = [{"operator": "Exists"}]


def meta(name=None, ns=None, labels=None, annotations=None, generate_name=None, owner=None):
    m = {}
    if name:
        m["name"] = name
    if generate_name:
        m["generateName"] = generate_name
    if ns:
        m["namespace"] = ns
    if labels:
        m["labels"] = labels
    if annotations:
        m["annotations"] = annotations
    if owner:
        m["ownerReferences"] = [owner]
    return m


def stored_meta(m, t, name=None, gen=1):
    s = copy.deepcopy(m)
    if name:
        s["name"] = name
    s["uid"] = uid()
    s["resourceVersion"] = str(R.randint(4000000, 9900000))
    if gen is not None:
        s["generation"] = gen
    s["creationTimestamp"] = rfc(t)
    return s


def defaulted_pod_spec(spec, sa_default="default"):
    s = copy.deepcopy(spec)
    tok = f"kube-api-access-{alnum(5)}"
    if s.get("automountServiceAccountToken") is not False:
        s.setdefault("volumes", []).append({"name": tok, "projected": {"sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
            {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1",
                                                                           "fieldPath": "metadata.namespace"}}]}}],
            "defaultMode": 420}})
    for c in s["containers"] + s.get("initContainers", []):
        c.setdefault("terminationMessagePath", "/dev/termination-log")
        c.setdefault("terminationMessagePolicy", "File")
        if s.get("automountServiceAccountToken") is not False:
            c.setdefault("volumeMounts", []).append(
                {"name": tok, "readOnly": True, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"})
    s.setdefault("restartPolicy", "Always")
    s["terminationGracePeriodSeconds"] = 30
    s["dnsPolicy"] = "ClusterFirstWithHostNet" if s.get("hostNetwork") else "ClusterFirst"
    s.setdefault("serviceAccountName", sa_default)
    s["serviceAccount"] = s["serviceAccountName"]
    s.setdefault("securityContext", {})
    s["schedulerName"] = "default-scheduler"
    s.setdefault("tolerations", [])
    s["tolerations"] = s["tolerations"] + [
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
         "tolerationSeconds": 300}]
    s["priority"] = 2000001000 if s.get("priorityClassName") == "system-node-critical" else 0
    s["enableServiceLinks"] = True
    s["preemptionPolicy"] = "PreemptLowerPriority"
    return s


def pod(name, ns, spec, labels=None, annotations=None, generate_name=None, owner=None):
    return {"kind": "Pod", "apiVersion": "v1",
            "metadata": meta(name, ns, labels, annotations, generate_name, owner), "spec": spec}


def pod_stored(p, t, name=None):
    s = copy.deepcopy(p)
    s["metadata"] = stored_meta(p["metadata"], t, name=name, gen=None)
    s["spec"] = defaulted_pod_spec(p["spec"])
    s["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
    return s


def template(spec, labels, annotations=None):
    m = {"labels": labels}
    if annotations:
        m["annotations"] = annotations
    return {"metadata": m, "spec": spec}


def deployment(name, ns, spec, labels=None, replicas=1, annotations=None):
    labels = labels or {"app": name}
    return {"kind": "Deployment", "apiVersion": "apps/v1",
            "metadata": meta(name, ns, labels, annotations),
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": template(spec, labels)}}


def daemonset(name, ns, spec, labels=None, annotations=None):
    labels = labels or {"app": name}
    return {"kind": "DaemonSet", "apiVersion": "apps/v1",
            "metadata": meta(name, ns, labels, annotations),
            "spec": {"selector": {"matchLabels": labels}, "template": template(spec, labels),
                     "updateStrategy": {"type": "RollingUpdate"}}}


def statefulset(name, ns, spec, labels=None):
    labels = labels or {"app": name}
    return {"kind": "StatefulSet", "apiVersion": "apps/v1", "metadata": meta(name, ns, labels),
            "spec": {"replicas": 1, "serviceName": name, "selector": {"matchLabels": labels},
                     "template": template(spec, labels)}}


def job(name, ns, spec, labels=None, owner=None, backoff=None):
    spec = copy.deepcopy(spec)
    spec.setdefault("restartPolicy", "Never")
    j = {"kind": "Job", "apiVersion": "batch/v1", "metadata": meta(name, ns, labels, owner=owner),
         "spec": {"template": template(spec, labels or {"job-name": name})}}
    if backoff is not None:
        j["spec"]["backoffLimit"] = backoff
    return j


def cronjob(name, ns, schedule, spec, labels=None):
    spec = copy.deepcopy(spec)
    spec.setdefault("restartPolicy", "OnFailure")
    return {"kind": "CronJob", "apiVersion": "batch/v1", "metadata": meta(name, ns, labels),
            "spec": {"schedule": schedule, "concurrencyPolicy": "Forbid",
                     "jobTemplate": {"spec": {"template": {"metadata": {}, "spec": spec}}}}}


def stored(obj, t, status=None, gen=1):
    s = copy.deepcopy(obj)
    s["metadata"] = stored_meta(obj["metadata"], t, gen=gen)
    if status is not None:
        s["status"] = status
    if s.get("kind") in ("Deployment", "DaemonSet", "StatefulSet"):
        tpl = s["spec"]["template"]
        tpl["metadata"].setdefault("creationTimestamp", None)
        tpl["spec"] = defaulted_pod_spec_no_sa(tpl["spec"])
        s["spec"].setdefault("revisionHistoryLimit", 10)
    if s.get("kind") == "Job":
        s["spec"]["template"]["spec"] = defaulted_pod_spec_no_sa(s["spec"]["template"]["spec"])
        s["spec"].setdefault("backoffLimit", 6)
        s["spec"]["completions"] = 1
        s["spec"]["parallelism"] = 1
    if s.get("kind") == "CronJob":
        tp = s["spec"]["jobTemplate"]["spec"]["template"]
        tp["spec"] = defaulted_pod_spec_no_sa(tp["spec"])
        s["spec"]["suspend"] = False
        s["spec"]["successfulJobsHistoryLimit"] = 3
        s["spec"]["failedJobsHistoryLimit"] = 1
    return s


def defaulted_pod_spec_no_sa(spec):
    s = copy.deepcopy(spec)
    for c in s["containers"] + s.get("initContainers", []):
        c.setdefault("terminationMessagePath", "/dev/termination-log")
        c.setdefault("terminationMessagePolicy", "File")
    s.setdefault("restartPolicy", "Always")
    s.setdefault("terminationGracePeriodSeconds", 30)
    s["dnsPolicy"] = "ClusterFirstWithHostNet" if s.get("hostNetwork") else "ClusterFirst"
    s.setdefault("securityContext", {})
    s["schedulerName"] = "default-scheduler"
    return s


# ----------------------------------------------------------------------------- rbac
def rule(verbs, resources, groups=("",), names=None, nonres=None):
    if nonres:
        return {"verbs": list(verbs), "nonResourceURLs": list(nonres)}
    r = {"verbs": list(verbs), "apiGroups": list(groups), "resources": list(resources)}
    if names:
        r["resourceNames"] = list(names)
    return r


def role(name, rules, ns=None, labels=None, annotations=None, aggregation=None):
    kind = "Role" if ns else "ClusterRole"
    r = {"kind": kind, "apiVersion": "rbac.authorization.k8s.io/v1",
         "metadata": meta(name, ns, labels, annotations), "rules": rules}
    if aggregation:
        r["aggregationRule"] = aggregation
    return r


def subject(kind, name, ns=None):
    s = {"kind": kind, "name": name}
    if kind == "ServiceAccount":
        s["namespace"] = ns
    else:
        s["apiGroup"] = "rbac.authorization.k8s.io"
    return s


def binding(name, role_kind, role_name, subjects, ns=None, labels=None):
    kind = "RoleBinding" if ns else "ClusterRoleBinding"
    return {"kind": kind, "apiVersion": "rbac.authorization.k8s.io/v1",
            "metadata": meta(name, ns, labels),
            "subjects": subjects,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role_name}}


def service(name, ns, typ, ports, selector, annotations=None, labels=None):
    s = {"kind": "Service", "apiVersion": "v1", "metadata": meta(name, ns, labels, annotations),
         "spec": {"ports": ports, "selector": selector, "type": typ}}
    return s


def service_stored(s, t):
    o = stored(s, t, gen=None)
    o["spec"]["clusterIP"] = f"10.3.{R.randint(0, 255)}.{R.randint(2, 254)}"
    o["spec"]["clusterIPs"] = [o["spec"]["clusterIP"]]
    o["spec"]["sessionAffinity"] = "None"
    o["spec"]["ipFamilies"] = ["IPv4"]
    o["spec"]["ipFamilyPolicy"] = "SingleStack"
    o["spec"]["internalTrafficPolicy"] = "Cluster"
    if o["spec"]["type"] in ("NodePort", "LoadBalancer"):
        o["spec"]["externalTrafficPolicy"] = "Cluster"
        for p in o["spec"]["ports"]:
            p.setdefault("nodePort", R.randint(30000, 32767))
        if o["spec"]["type"] == "LoadBalancer":
            o["spec"]["allocateLoadBalancerNodePorts"] = True
    o["status"] = {"loadBalancer": {}}
    return o


def status_obj(code, reason, message, details=None):
    s = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
         "message": message, "reason": reason, "code": code}
    if details:
        s["details"] = details
    return s


def delete_options(prop="Background", grace=None):
    d = {"kind": "DeleteOptions", "apiVersion": "v1"}
    if grace is not None:
        d["gracePeriodSeconds"] = grace
    if prop:
        d["propagationPolicy"] = prop
    return d


def status_success(kind, name, group=None, uid_=None):
    d = {"name": name, "kind": kind, "uid": uid_ or uid()}
    if group:
        d["group"] = group
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": d}
