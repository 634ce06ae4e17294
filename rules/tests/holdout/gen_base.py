"""Building blocks for the held-out corpus: audit.k8s.io/v1 Events shaped like MKS ones.

Written blind to the project's rules. MKS audit policy: secrets/configmaps at Metadata,
create/update/patch/delete(collection) at RequestResponse, other verbs at Request; no
RequestReceived stage.
"""
import copy
import datetime as dt
import json
import random
import uuid

R = random.Random(20250617)
DAY = dt.datetime(2025, 6, 17, 0, 0, 0, tzinfo=dt.timezone.utc)
K8S = "v1.31.6"
GIT = "2f5e3e2"


def uid():
    return str(uuid.UUID(int=R.getrandbits(128), version=4))


def hexs(n):
    return "".join(R.choice("0123456789abcdef") for _ in range(n))


def alnum(n):
    return "".join(R.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(n))


def at(hh, mm, ss=None):
    """A moment of the day (hh:mm[:ss], random microseconds)."""
    if ss is None:
        ss = R.randint(0, 59)
    return DAY + dt.timedelta(hours=hh, minutes=mm, seconds=ss, microseconds=R.randint(0, 999999))


def rand_time(h0=0, h1=24):
    return DAY + dt.timedelta(seconds=R.uniform(h0 * 3600, h1 * 3600 - 1))


def fmt(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def rfc(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


# ----------------------------------------------------------------------------- identities
class Who:
    def __init__(self, username, groups, ip, ua, uid_=None, extra=None):
        self.username, self.groups, self.ip, self.ua = username, groups, ip, ua
        self.uid, self.extra = uid_, extra

    def at(self, ip=None, ua=None):
        w = copy.copy(self)
        if ip:
            w.ip = ip
        if ua:
            w.ua = ua
        return w

    def user(self):
        u = {"username": self.username}
        if self.uid:
            u["uid"] = self.uid
        u["groups"] = list(self.groups)
        if self.extra:
            u["extra"] = self.extra
        return u


KUBECTL_LINUX = f"kubectl/{K8S} (linux/amd64) kubernetes/{GIT}"
KUBECTL_MAC = "kubectl/v1.32.2 (darwin/arm64) kubernetes/67a30c0"
KUBECTL_WIN = "kubectl.exe/v1.30.9 (windows/amd64) kubernetes/0a2f3b1"
KUBECTL_OLD = "kubectl/v1.28.4 (linux/amd64) kubernetes/bae2c62"
KUBECTL_127 = "kubectl/v1.27.3 (linux/amd64) kubernetes/25b4e43"


def kubelet_ua():
    return f"kubelet/{K8S} (linux/amd64) kubernetes/{GIT}"


def kcm_ua(sa):
    return f"kube-controller-manager/{K8S} (linux/amd64) kubernetes/{GIT}/system:serviceaccount:kube-system:{sa}"


def sa_user(ns, name, ip, ua, pod=None, node=None, bound=True):
    groups = ["system:serviceaccounts", f"system:serviceaccounts:{ns}", "system:authenticated"]
    extra = None
    if bound and pod:
        extra = {
            "authentication.kubernetes.io/credential-id": [f"JTI={uid()}"],
            "authentication.kubernetes.io/node-name": [node] if node else [],
            "authentication.kubernetes.io/node-uid": [uid()],
            "authentication.kubernetes.io/pod-name": [pod],
            "authentication.kubernetes.io/pod-uid": [uid()],
        }
        if not node:
            del extra["authentication.kubernetes.io/node-name"]
            del extra["authentication.kubernetes.io/node-uid"]
    elif bound:
        extra = {"authentication.kubernetes.io/credential-id": [f"JTI={uid()}"]}
    return Who(f"system:serviceaccount:{ns}:{name}", groups, ip, ua, uid(), extra)


# cluster: Standard plan, Cilium; pods 10.240.0.0/13, services 10.3.0.0/16
POOLS = {
    "ingest-b3-16": ["5d0c7e", "e1a498", "93b02f"],
    "web-b2-15": ["0b9f3a", "71c2d4", "a8e5f1", "c6d710"],
}
NODE_IPS = {}
_ips = ["57.128.171.23", "57.128.171.88", "57.128.172.140", "51.91.64.17", "51.91.64.140",
        "141.94.70.201", "141.94.70.55"]
NODES = []
for pool, suffixes in POOLS.items():
    for s in suffixes:
        n = f"{pool}-node-{s}"
        NODES.append(n)
        NODE_IPS[n] = _ips[len(NODES) - 1]


def pod_ip():
    return f"10.{R.choice([240, 241, 242])}.{R.randint(0, 7)}.{R.randint(2, 250)}"


def kubelet(node=None):
    node = node or R.choice(NODES)
    return Who(f"system:node:{node}", ["system:nodes", "system:authenticated"], NODE_IPS[node], kubelet_ua())


def controller(sa, ip="10.33.0.12"):
    return Who(f"system:serviceaccount:kube-system:{sa}",
               ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"],
               ip, kcm_ua(sa), uid())


KCM = Who("system:kube-controller-manager", ["system:authenticated"], "10.33.0.12",
          f"kube-controller-manager/{K8S} (linux/amd64) kubernetes/{GIT}/leader-election")
SCHED = Who("system:kube-scheduler", ["system:authenticated"], "10.33.0.12",
            f"kube-scheduler/{K8S} (linux/amd64) kubernetes/{GIT}/scheduler")
APISERVER = Who("system:apiserver", ["system:authenticated", "system:masters"], "::1",
                f"kube-apiserver/{K8S} (linux/amd64) kubernetes/{GIT}", uid())
YACHT = Who("yacht", ["system:authenticated"], "141.94.213.77", "yacht/v0.0.0 (linux/amd64) kubernetes/$Format")
CINDER = Who("csi-cinder-controller", ["system:authenticated"], "10.33.0.19",
             "csi-attacher/v4.6.1 (linux/amd64) kubernetes/$Format")
ADMIN = Who("kubernetes-admin", ["system:masters", "system:authenticated"], "92.154.21.67", KUBECTL_LINUX)
ADMIN_OFFICE = ADMIN.at(ip="212.83.150.10", ua=KUBECTL_MAC)
CAMILLE = Who("oidc:camille.roux@lumenstack.io", ["oidc:platform-team", "system:authenticated"],
              "212.83.150.10", KUBECTL_MAC)
THEO = Who("oidc:theo.marchand@lumenstack.io", ["oidc:developers", "system:authenticated"],
           "78.199.54.12", KUBECTL_LINUX)
NINA = Who("oidc:nina.berger@lumenstack.io", ["oidc:developers", "oidc:oncall", "system:authenticated"],
           "86.247.11.203", KUBECTL_WIN)
ANON = Who("system:anonymous", ["system:unauthenticated"], "198.51.100.9", "curl/8.5.0")

# attacker vantage points
TOR1, TOR2 = "185.220.101.34", "2a0b:f4c2:2::12"
VPS1, VPS2, VPS3 = "45.9.148.221", "159.223.41.72", "194.165.16.77"
VPS4 = "103.145.13.9"


# ----------------------------------------------------------------------------- events
def meta_reason(who):
    return ""


def status(code, reason=None, message=None, details=None):
    s = {"metadata": {}, "code": code}
    if code >= 400:
        s["status"] = "Failure"
        if message:
            s["message"] = message
        if reason:
            s["reason"] = reason
        if details:
            s["details"] = details
    return s


HTTP_REASON = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
               409: "AlreadyExists", 422: "Invalid", 500: "InternalError"}


def event(who, verb, uri, objref, t=None, code=None, stage="ResponseComplete", req=None, resp=None,
          decision="allow", reason=None, ann=None, impersonated=None, message=None, level=None,
          latency_ms=None, details=None, resp_status=None):
    t = t or rand_time()
    if code is None:
        code = {"create": 201}.get(verb, 200)
    res = (objref or {}).get("resource")
    if level is None:
        if res in ("secrets", "configmaps"):
            level = "Metadata"
        elif verb in ("create", "update", "patch", "delete", "deletecollection"):
            level = "RequestResponse"
        else:
            level = "Request"
    if level == "Metadata":
        req = resp = None
    elif level == "Request":
        resp = None
    if latency_ms is None:
        latency_ms = R.uniform(0.8, 14.0)
    e = {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": level,
        "auditID": uid(),
        "stage": stage,
        "requestURI": uri,
        "verb": verb,
        "user": who.user(),
    }
    if impersonated:
        e["impersonatedUser"] = impersonated
    e["sourceIPs"] = [who.ip]
    if who.ua is not None:
        e["userAgent"] = who.ua
    if objref:
        e["objectRef"] = objref
    if resp_status is not None:
        e["responseStatus"] = resp_status
    else:
        rs = {"metadata": {}, "code": code}
        if code >= 400:
            rs["status"] = "Failure"
            if message:
                rs["message"] = message
            rs["reason"] = HTTP_REASON.get(code, "")
            if details:
                rs["details"] = details
        e["responseStatus"] = rs
    if req is not None:
        e["requestObject"] = req
    if resp is not None:
        e["responseObject"] = resp
    e["requestReceivedTimestamp"] = fmt(t)
    e["stageTimestamp"] = fmt(t + dt.timedelta(milliseconds=latency_ms))
    a = {"authorization.k8s.io/decision": decision,
         "authorization.k8s.io/reason": reason if reason is not None else ""}
    if ann:
        a.update(ann)
    e["annotations"] = a
    return e


def forbidden_msg(who, verb, res, group, ns=None, name=None, sub=None):
    r = f"{res}/{sub}" if sub else res
    thing = f'{res} "{name}"' if name else res
    scope = f'in the namespace "{ns}"' if ns else "at the cluster scope"
    return (f'{thing} is forbidden: User "{who.username}" cannot {verb} resource "{r}" '
            f'in API group "{group}" {scope}')


def denied(who, verb, uri, objref, t=None, node_reason=None, **kw):
    """An RBAC (or node authorizer) refusal: 403, no request/response objects."""
    msg = forbidden_msg(who, verb, objref.get("resource"), objref.get("apiGroup", ""),
                        objref.get("namespace"), objref.get("name"), objref.get("subresource"))
    det = {"kind": objref.get("resource")}
    if objref.get("name"):
        det = {"name": objref["name"], "kind": objref.get("resource")}
    if objref.get("apiGroup"):
        det["group"] = objref["apiGroup"]
    return event(who, verb, uri, objref, t=t, code=403, decision="forbid",
                 reason=node_reason or "", message=msg, details=det, **kw)


def ref(resource, ns=None, name=None, group=None, version="v1", sub=None):
    r = {"resource": resource}
    if ns:
        r["namespace"] = ns
    if name:
        r["name"] = name
    if group:
        r["apiGroup"] = group
    r["apiVersion"] = version
    if sub:
        r["subresource"] = sub
    return r


def path(resource, ns=None, name=None, group=None, version="v1", sub=None):
    base = f"/apis/{group}/{version}" if group else f"/api/{version}"
    p = base
    if ns:
        p += f"/namespaces/{ns}"
    p += f"/{resource}"
    if name:
        p += f"/{name}"
    if sub:
        p += f"/{sub}"
    return p


def rbac_reason(kind, binding, role, subj_kind, subj, ns=None):
    where = f' in namespace "{ns}"' if ns and kind == "RoleBinding" else ""
    return f'RBAC: allowed by {kind} "{binding}" of {"Role" if kind == "RoleBinding" and not role.startswith("C:") else "ClusterRole"} "{role.removeprefix("C:")}" to {subj_kind} "{subj}"{where}'


def dump(path_, rows):
    with open(path_, "w") as f:
        for r in rows:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")
