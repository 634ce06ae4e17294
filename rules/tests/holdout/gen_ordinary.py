"""Ordinary traffic of the day: heartbeats, informers, controllers, CI, developers."""
import copy
from gen_base import *  # noqa
from gen_objects import *  # noqa
from gen_ops import *  # noqa

O = []


def o(note, e):
    O.append({"note": note, "event": e})


APPS = [("shop", "storefront"), ("shop", "checkout"), ("shop", "recs-api"), ("payments", "payments-api"),
        ("search-api", "search-api"), ("data-pipeline", "etl-worker")]


def lease_update(who, ns, name, holder):
    body = {"kind": "Lease", "apiVersion": "coordination.k8s.io/v1",
            "metadata": {"name": name, "namespace": ns, "resourceVersion": str(R.randint(4000000, 9900000))},
            "spec": {"holderIdentity": holder, "leaseDurationSeconds": 40 if ns == "kube-node-lease" else 15,
                     "renewTime": fmt(rand_time())}}
    return update(who, "leases", name, body, ns=ns, q="?timeout=10s")


for _ in range(70):
    n = R.choice(NODES)
    o(f"kubelet heartbeat: lease {n}", lease_update(kubelet(n), "kube-node-lease", n, n))
for name, who in [("kube-controller-manager", KCM), ("kube-scheduler", SCHED)]:
    for _ in range(12):
        o(f"leader election lease {name}", lease_update(who, "kube-system", name, f"{name}-ovh-cp-{hexs(4)}_{uid()}"))
for sa_, lname, ns in [("cilium-operator", "cilium-operator-resource-lock", "kube-system"),
                       ("cert-manager", "cert-manager-controller", "kube-system"),
                       ("kyverno-admission-controller", "kyverno", "kyverno"),
                       ("argocd-application-controller", "argocd-application-controller", "argocd")]:
    who = sa_user(ns if ns != "kube-system" or sa_ == "cilium-operator" else "cert-manager", sa_, pod_ip(),
                  f"{sa_}/v0.0.0 (linux/amd64) kubernetes/$Format", pod=f"{sa_}-{alnum(9)}-{alnum(5)}", node=R.choice(NODES))
    for _ in range(6):
        o(f"leader election lease {lname}", lease_update(who, ns, lname, f"{sa_}-{alnum(5)}"))

for _ in range(30):
    n = R.choice(NODES)
    body = {"status": {"conditions": [{"type": "Ready", "status": "True", "lastHeartbeatTime": rfc(rand_time()),
                                       "reason": "KubeletReady", "message": "kubelet is posting ready status"}]}}
    o(f"kubelet patches node status of {n}",
      patch(kubelet(n), "nodes", n, body, {"kind": "Node", "apiVersion": "v1", "metadata": {"name": n}, "status": body["status"]},
            sub="status"))

for _ in range(25):
    ns, app = R.choice(APPS)
    n = R.choice(NODES)
    pn = f"{app}-{alnum(9)}-{alnum(5)}"
    body = {"metadata": {"uid": uid()}, "status": {"conditions": [{"type": "Ready", "status": "True"}],
                                                   "containerStatuses": [{"name": app, "ready": True, "restartCount": 0,
                                                                          "image": f"ghcr.io/lumenstack/{app}:1.0", "started": True}]}}
    o(f"kubelet patches pod status {ns}/{pn}",
      patch(kubelet(n), "pods", pn, body, {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": pn, "namespace": ns},
                                          "status": {"phase": "Running"}}, ns=ns, sub="status"))
for _ in range(20):
    ns, app = R.choice(APPS)
    w = kubelet()
    if R.random() < 0.5:
        o(f"kubelet watches kube-root-ca.crt in {ns}", watch(w, "configmaps", ns, name="kube-root-ca.crt"))
    else:
        o(f"kubelet reads secret {app}-env in {ns}", get(w, "secrets", f"{app}-env", ns))
for _ in range(15):
    ns, app = R.choice(APPS)
    w = kubelet()
    evt = {"kind": "Event", "apiVersion": "v1", "metadata": {"name": f"{app}.{hexs(16)}", "namespace": ns},
           "involvedObject": {"kind": "Pod", "namespace": ns, "name": f"{app}-{alnum(9)}-{alnum(5)}"},
           "reason": R.choice(["Pulled", "Created", "Started", "Killing"]), "message": "Container image already present on machine",
           "source": {"component": "kubelet", "host": w.username.split(":")[-1]}, "type": "Normal"}
    o(f"kubelet records an event in {ns}", create(w, "events", evt, ns=ns))

EPS = controller("endpointslice-controller")
for _ in range(25):
    ns, app = R.choice(APPS)
    nm = f"{app}-{alnum(5)}"
    es = {"kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1",
          "metadata": {"name": nm, "namespace": ns, "labels": {"kubernetes.io/service-name": app,
                                                                 "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}},
          "addressType": "IPv4", "endpoints": [{"addresses": [pod_ip()], "conditions": {"ready": True}, "nodeName": R.choice(NODES)}],
          "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}
    o(f"endpointslice-controller updates {ns}/{nm}", update(EPS, "endpointslices", nm, es, ns=ns))
for _ in range(18):
    ns, app = R.choice(APPS)
    pn = f"{app}-{alnum(9)}-{alnum(5)}"
    b = {"kind": "Binding", "apiVersion": "v1", "metadata": {"name": pn, "namespace": ns, "uid": uid()},
         "target": {"kind": "Node", "name": R.choice(NODES)}}
    o(f"scheduler binds {ns}/{pn}", create(SCHED, "pods", b, ns=ns, name=pn, sub="binding",
                                           resp={"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}))
RSC = controller("replicaset-controller")
for _ in range(16):
    ns, app = R.choice(APPS)
    h = alnum(9)
    spec = pod_spec([container(app, f"ghcr.io/lumenstack/{app}:{R.randint(1, 9)}.{R.randint(0, 20)}.{R.randint(0, 9)}",
                               ports=[8080], sc={"runAsNonRoot": True, "allowPrivilegeEscalation": False,
                                                 "capabilities": {"drop": ["ALL"]}, "readOnlyRootFilesystem": True},
                               resources={"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}},
                               env={"LOG_LEVEL": "info"})], sa=app,
                    psc={"runAsUser": 10001, "fsGroup": 10001, "seccompProfile": {"type": "RuntimeDefault"}})
    p = pod(None, ns, spec, labels={"app": app, "pod-template-hash": h}, generate_name=f"{app}-{h}-",
            owner={"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": f"{app}-{h}", "uid": uid(), "controller": True,
                   "blockOwnerDeletion": True})
    o(f"replicaset-controller creates an app pod in {ns}", create(RSC, "pods", p))
for _ in range(6):
    ns, app = R.choice(APPS)
    pn = f"{app}-{alnum(9)}-{alnum(5)}"
    o(f"replicaset-controller deletes a surplus pod {ns}/{pn}",
      delete(RSC, "pods", pn, ns, kind="pods", resp={"kind": "Pod", "apiVersion": "v1", "metadata": {"name": pn, "namespace": ns}}))
DC = controller("deployment-controller")
for _ in range(14):
    ns, app = R.choice(APPS)
    st = {"kind": "Deployment", "apiVersion": "apps/v1", "metadata": {"name": app, "namespace": ns},
          "status": {"observedGeneration": R.randint(3, 40), "replicas": 3, "updatedReplicas": 3, "readyReplicas": 3, "availableReplicas": 3}}
    o(f"deployment-controller updates {ns}/{app} status", update(DC, "deployments", app, st, ns=ns, sub="status"))
HPA = controller("horizontal-pod-autoscaler")
for _ in range(14):
    ns, app = R.choice(APPS)
    if R.random() < 0.5:
        o(f"HPA reads the scale of {ns}/{app}", get(HPA, "deployments", app, ns, sub="scale"))
    else:
        hpa = {"kind": "HorizontalPodAutoscaler", "apiVersion": "autoscaling/v2", "metadata": {"name": app, "namespace": ns},
               "status": {"currentReplicas": 3, "desiredReplicas": R.randint(2, 6),
                          "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": R.randint(20, 90)}}}]}}
        o(f"HPA updates status of {ns}/{app}", update(HPA, "horizontalpodautoscalers", app, hpa, ns=ns, sub="status"))
for _ in range(6):
    ns, app = R.choice(APPS)
    o(f"HPA reads pod metrics in {ns}", get(HPA, "pods", ns=ns, group="metrics.k8s.io", version="v1beta1",
                                            q=f"?labelSelector=app%3D{app}"))

COREDNS = sa_user("kube-system", "coredns", pod_ip(), "coredns/v1.11.3 (linux/amd64) kubernetes/$Format",
                  pod="coredns-6f9c8d7b5-zx8lq", node="web-b2-15-node-a8e5f1")
for res in ["endpointslices", "services", "namespaces"] * 3:
    o(f"coredns watches {res}", watch(COREDNS, res))
KPROXY = Who("system:kube-proxy", ["system:authenticated"], NODE_IPS["ingest-b3-16-node-5d0c7e"],
             f"kube-proxy/{K8S} (linux/amd64) kubernetes/{GIT}")
for res in ["services", "endpointslices", "nodes"] * 2:
    o(f"kube-proxy watches {res}", watch(KPROXY.at(ip=NODE_IPS[R.choice(NODES)]), res))
for _ in range(16):
    n = R.choice(NODES)
    cil = sa_user("kube-system", "cilium", NODE_IPS[n], "cilium-agent/1.16.5 (linux/amd64)", pod=f"cilium-{alnum(5)}", node=n)
    if R.random() < 0.5:
        o("cilium agent watches ciliumendpoints", watch(cil, "ciliumendpoints"))
    else:
        cn = {"apiVersion": "cilium.io/v2", "kind": "CiliumNode", "metadata": {"name": n},
              "spec": {"ipam": {"podCIDRs": [f"10.{R.randint(240, 247)}.{R.randint(0, 255)}.0/24"]}}}
        o(f"cilium agent updates CiliumNode {n}", update(cil, "ciliumnodes", n, cn))
KONN = sa_user("kube-system", "konnectivity-agent", NODE_IPS[NODES[0]], "konnectivity-agent/v0.31.0", pod="konnectivity-agent-7kx2m", node=NODES[0])
for _ in range(4):
    o("konnectivity agent watches its lease", watch(KONN, "leases", "kube-system", name="konnectivity-agent"))

MS = sa_user("kube-system", "metrics-server", pod_ip(), "metrics-server/v0.7.2 (linux/amd64) kubernetes/$Format",
             pod="metrics-server-5c7d9f8b6-qh2lx", node="ingest-b3-16-node-e1a498")
for _ in range(8):
    if R.random() < 0.5:
        tr = {"kind": "TokenReview", "apiVersion": "authentication.k8s.io/v1", "metadata": {"creationTimestamp": None},
              "spec": {"token": "eyJhbGciOiJSUzI1NiIs" + alnum(20)}, "status": {"user": {}}}
        trr = copy.deepcopy(tr)
        trr["status"] = {"authenticated": True, "user": {"username": "system:serviceaccount:kube-system:horizontal-pod-autoscaler"}}
        o("metrics-server reviews a bearer token (TokenReview)", create(MS, "tokenreviews", tr, resp=trr))
    else:
        sr, srr = sar_obj("SubjectAccessReview", {"nonResourceAttributes": {"path": "/apis/metrics.k8s.io/v1beta1", "verb": "get"},
                                                  "user": "system:serviceaccount:kube-system:horizontal-pod-autoscaler"}, True)
        o("metrics-server delegates authorization (SubjectAccessReview)", create(MS, "subjectaccessreviews", sr, resp=srr))

ARGO = sa_user("argocd", "argocd-application-controller", "10.240.4.33",
               "argocd-application-controller/v2.13.3+a25c8a0 (linux/amd64) kubernetes/$Format",
               pod="argocd-application-controller-0", node="ingest-b3-16-node-5d0c7e")
for res in ["deployments", "services", "configmaps", "statefulsets", "ingresses", "clusterroles", "cronjobs", "daemonsets"]:
    o(f"Argo CD watches {res} cluster-wide", watch(ARGO, res))
for app in ["shop", "payments", "monitoring", "ingress-nginx", "kyverno", "cert-manager", "velero", "search"]:
    body = {"status": {"sync": {"status": "Synced", "revision": hexs(40)}, "health": {"status": "Healthy"},
                       "reconciledAt": rfc(rand_time())}}
    o(f"Argo CD patches status of application {app}",
      patch(ARGO, "applications", app, body, {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
                                              "metadata": {"name": app, "namespace": "argocd"}, **body},
            ns="argocd", q="", version="v1alpha1"))
ARGO_REPO = sa_user("argocd", "argocd-server", "10.240.4.35", "argocd-server/v2.13.3+a25c8a0 (linux/amd64) kubernetes/$Format",
                    pod="argocd-server-6c9d8b7f5-k2lmw", node="ingest-b3-16-node-5d0c7e")
for _ in range(4):
    o("Argo CD server reads its cluster secrets in argocd",
      get(ARGO_REPO, "secrets", ns="argocd", q="?labelSelector=argocd.argoproj.io%2Fsecret-type%3Dcluster&limit=500"))
FLUX_K = sa_user("flux-system", "kustomize-controller", "10.241.6.12", "kustomize-controller/v1.4.0 (linux/amd64)",
                 pod="kustomize-controller-7f6d8c9b5-wq2xn", node="web-b2-15-node-a8e5f1")
for k in ["apps", "infra", "monitoring", "tenants"] * 2:
    body = {"status": {"lastAppliedRevision": f"main@sha1:{hexs(40)}", "conditions": [{"type": "Ready", "status": "True", "reason": "ReconciliationSucceeded"}]}}
    o(f"Flux updates status of kustomization {k}",
      patch(FLUX_K, "kustomizations", k, body, {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
                                                "metadata": {"name": k, "namespace": "flux-system"}, **body},
            ns="flux-system", sub="status", q="?fieldManager=gotk-kustomize-controller"))
CM = sa_user("cert-manager", "cert-manager", "10.242.1.41", "cert-manager-controller/v1.16.2 (linux/amd64) cert-manager/a3c7d5b2",
             pod="cert-manager-7c9d8b6f5-hx4lp", node="ingest-b3-16-node-93b02f")
for res in ["certificates", "certificaterequests", "orders", "ingresses"]:
    o(f"cert-manager watches {res}", watch(CM, res))
for ns, c in [("shop", "storefront-tls"), ("payments", "payments-tls"), ("search-api", "search-tls")]:
    body = {"status": {"conditions": [{"type": "Ready", "status": "True", "reason": "Ready"}], "notAfter": rfc(rand_time())}}
    o(f"cert-manager updates certificate status {ns}/{c}",
      patch(CM, "certificates", c, body, {"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
                                          "metadata": {"name": c, "namespace": ns}, **body}, ns=ns, sub="status",
            q="?fieldManager=cert-manager-certificates-readiness"))
PROM = sa_user("monitoring", "prometheus-k8s", "10.242.5.30", "Prometheus/2.55.1", pod="prometheus-k8s-0", node="web-b2-15-node-c6d710")
for res in ["endpointslices", "services", "pods", "nodes", "endpointslices", "pods"]:
    o(f"Prometheus watches {res} (service discovery)", watch(PROM, res))
PO = sa_user("monitoring", "prometheus-operator", "10.242.5.33", "PrometheusOperator/0.78.2",
             pod="prometheus-operator-6f8d7c9b5-z2xkl", node="web-b2-15-node-c6d710")
for res in ["servicemonitors", "statefulsets"]:
    o(f"prometheus-operator watches {res}", watch(PO, res))
YW = YACHT.at(ip="141.94.213.78")
for _ in range(6):
    o("yacht reads nodepool", get(YW, "nodepools", R.choice(list(POOLS))))
for _ in range(4):
    o("yacht lists nodes", get(YACHT, "nodes", q="?labelSelector=nodepool%3Dweb-b2-15&limit=500"))
for _ in range(6):
    o("Cinder CSI watches volumeattachments", watch(CINDER, "volumeattachments"))
for _ in range(3):
    o("Cinder CSI reads a CSINode", get(CINDER, "csinodes", R.choice(NODES)))
VELERO = sa_user("velero", "velero-server", "10.241.2.50", "velero-server/v1.15.0 (linux/amd64) 6c0cd9e",
                 pod="velero-7c8d9b6f5-p4kwz", node="web-b2-15-node-0b9f3a")
for _ in range(4):
    o("Velero lists backups", get(VELERO, "backups", ns="velero", q="?limit=500"))

CI_IN = sa_user("ci", "gitlab-deployer", "10.240.7.91", KUBECTL_LINUX, pod="gitlab-runner-7dc8f96b4-lk5wd",
                node="web-b2-15-node-0b9f3a")
for i in range(10):
    ns, app = R.choice(APPS[:5])
    tag = f"{R.randint(1, 9)}.{R.randint(0, 20)}.{R.randint(0, 9)}"
    d = deployment(app, ns, pod_spec([container(app, f"ghcr.io/lumenstack/{app}:{tag}", ports=[8080],
                                                sc={"runAsNonRoot": True, "allowPrivilegeEscalation": False})], sa=app), replicas=3)
    t = rand_time(8, 19)
    o(f"CI deploys {ns}/{app}:{tag} (kubectl apply)",
      patch(CI_IN, "deployments", app, {"spec": {"template": {"spec": {"containers": [{"name": app, "image": f"ghcr.io/lumenstack/{app}:{tag}"}]}}}},
            stored(d, t, gen=R.randint(10, 90)), ns=ns, q="?fieldManager=kubectl-client-side-apply&fieldValidation=Strict", t=t))
    o(f"CI reads {ns}/{app} to wait for the rollout", get(CI_IN, "deployments", app, ns, t=t + dt.timedelta(seconds=3)))

import datetime as dt  # noqa: E402
DEVS = [THEO, CAMILLE, NINA.at(ip="86.247.11.203")]
for _ in range(40):
    who = R.choice(DEVS)
    ns, app = R.choice(APPS)
    t = rand_time(8, 19)
    k = R.random()
    if k < 0.35:
        o(f"developer lists pods in {ns}", get(who, "pods", ns=ns, q="?limit=500", t=t))
    elif k < 0.55:
        o(f"developer reads logs of an {app} pod",
          get(who, "pods", f"{app}-{alnum(9)}-{alnum(5)}", ns, sub="log", q=f"?container={app}&follow=true&tailLines=100", t=t))
    elif k < 0.7:
        o(f"developer describes deployment {ns}/{app}", get(who, "deployments", app, ns, t=t))
    elif k < 0.8:
        o(f"developer lists events in {ns}", get(who, "events", ns=ns, q="?fieldSelector=involvedObject.kind%3DPod&limit=500", t=t))
    elif k < 0.9:
        o(f"developer reads configmap {app}-config", get(who, "configmaps", f"{app}-config", ns, t=t))
    else:
        o(f"developer watches pods in {ns}", watch(who, "pods", ns, t=t))
for _ in range(16):
    who = R.choice(DEVS + [CI_IN, ARGO])
    uri = R.choice(["/api", "/apis", "/api/v1", "/apis/apps/v1", "/openapi/v3", "/version"])
    o(f"discovery GET {uri}", nonres(who, uri + ("?timeout=32s" if uri in ("/api", "/apis") else "")))
for _ in range(6):
    ns, app = R.choice(APPS)
    o(f"app reads its configmap {ns}/{app}-config",
      get(sa_user(ns, app, pod_ip(), "Go-http-client/2.0", pod=f"{app}-{alnum(9)}-{alnum(5)}", node=R.choice(NODES)),
          "configmaps", f"{app}-config", ns))
JC = controller("job-controller")
CJC = controller("cronjob-controller")
for i in range(4):
    nm = f"ledger-dump-{29170560 + i * 1440}"
    j = job(nm, "payments", pod_spec([container("dump", "postgres:16.3", command=["sh", "-c", "pg_dump -h ledger-db ledger > /backup/l.sql"])]),
            owner={"apiVersion": "batch/v1", "kind": "CronJob", "name": "ledger-dump", "uid": uid(), "controller": True, "blockOwnerDeletion": True})
    o("cronjob-controller creates a ledger-dump Job", create(CJC, "jobs", j))
    o("job-controller updates the Job status", update(JC, "jobs", nm, {"kind": "Job", "apiVersion": "batch/v1",
                                                                       "metadata": {"name": nm, "namespace": "payments"},
                                                                       "status": {"succeeded": 1}}, ns="payments", sub="status"))
GC = controller("generic-garbage-collector")
for _ in range(5):
    ns, app = R.choice(APPS)
    rsn = f"{app}-{alnum(9)}"
    o(f"garbage collector deletes old ReplicaSet {ns}/{rsn}",
      delete(GC, "replicasets", rsn, ns, kind="replicasets", opts=delete_options("Background")))
PVB = controller("persistent-volume-binder")
for _ in range(3):
    pvn = f"ovh-managed-kubernetes-{alnum(6)}-pvc-{uid()}"
    o("persistent-volume-binder updates a PV", update(PVB, "persistentvolumes", pvn,
                                                      {"kind": "PersistentVolume", "apiVersion": "v1", "metadata": {"name": pvn},
                                                       "spec": {"storageClassName": "csi-cinder-high-speed", "csi": {"driver": "cinder.csi.openstack.org"}},
                                                       "status": {"phase": "Bound"}}))
NSC = controller("namespace-controller")
for _ in range(3):
    o("namespace-controller lists in a terminating namespace", get(NSC, "pods", ns="preview-pr-1432", q="?limit=500"))
