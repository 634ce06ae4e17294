"""Look-alikes: benign events that resemble attacks (a sane team would not want a page)."""
import copy
from gen_base import *  # noqa
from gen_objects import *  # noqa
from gen_ops import *  # noqa

L = []
PRIV = {"privileged": True}


def l(actor, note, e):
    L.append({"actor": actor, "note": note, "event": e})


def owned_pod(ns, spec, owner_kind, owner_name, labels, gen_name):
    return pod(None, ns, spec, labels=labels, generate_name=gen_name,
               owner={"apiVersion": "apps/v1" if owner_kind != "Job" else "batch/v1", "kind": owner_kind,
                      "name": owner_name, "uid": uid(), "controller": True, "blockOwnerDeletion": True})


# ---------------------------------------------------------------- OVH's agents
YACHT2 = YACHT.at(ip="141.94.213.78")
for i, np in enumerate(["web-b2-15", "ingest-b3-16"]):
    o = {"apiVersion": "kube.cloud.ovh.com/v1alpha1", "kind": "NodePool", "metadata": {"name": np},
         "status": {"availableNodes": 4 - i, "currentNodes": 4 - i, "upToDateNodes": 4 - i, "observedGeneration": 7,
                    "conditions": [{"type": "Ready", "status": "True"}]}}
    l("yacht", f"yacht updates the status of nodepool {np}",
      update(YACHT if i else YACHT2, "nodepools", np, o, sub="status"))
npo = {"apiVersion": "kube.cloud.ovh.com/v1alpha1", "kind": "NodePool", "metadata": {"name": "web-b2-15"},
       "spec": {"desiredNodes": 5, "flavor": "b2-15", "maxNodes": 8, "minNodes": 3, "autoscale": True}}
l("yacht", "yacht merge-patches nodepool web-b2-15 desiredNodes (autoscaler decision)",
  patch(YACHT, "nodepools", "web-b2-15", {"spec": {"desiredNodes": 5}}, stored(npo, rand_time(), gen=8)))
l("yacht", "yacht lists nodepools", get(YACHT, "nodepools", q="?limit=500"))
l("yacht", "yacht watches nodepools", watch(YACHT2, "nodepools"))
for ns_ in ["kube-system", None]:
    l("yacht", "yacht's recurring 403 on events", refused(YACHT, "list", "events", None, ns_, q="?limit=500"))
l("yacht", "yacht's recurring 403 creating an event", refused(YACHT2, "create", "events", None, "kube-system"))
kp = daemonset("kube-proxy", "kube-system", pod_spec(
    [container("kube-proxy", "registry.kubernatine.ovh/public/kube-proxy:v1.31.6",
               command=["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf"], sc=PRIV,
               mounts=[("kube-proxy", "/var/lib/kube-proxy"), ("xtables-lock", "/run/xtables.lock"),
                       ("lib-modules", "/lib/modules")])],
    volumes=[{"name": "kube-proxy", "configMap": {"name": "kube-proxy"}}, hostpath("xtables-lock", "/run/xtables.lock", "FileOrCreate"),
             hostpath("lib-modules", "/lib/modules")], host_net=True, tolerations=TOLERATE_ALL,
    priority_class="system-node-critical", sa="kube-proxy"), labels={"k8s-app": "kube-proxy"})
l("yacht", "yacht rolls the privileged hostNetwork kube-proxy DaemonSet to the new patch version (update)",
  update(YACHT, "daemonsets", "kube-proxy", stored(kp, at(9, 1), gen=4), ns="kube-system", t=at(9, 2)))
l("yacht", "yacht updates the kube-proxy ConfigMap in kube-system (metadata only)",
  event(YACHT, "update", "/api/v1/namespaces/kube-system/configmaps/kube-proxy", ref("configmaps", "kube-system", "kube-proxy"),
        t=at(9, 1)))
l("yacht", "yacht reads a kube-system secret it manages",
  get(YACHT2, "secrets", "csi-cinder-cloud-credentials", "kube-system"))
l("yacht", "yacht cordons a node before replacing it (node upgrade)",
  patch(YACHT, "nodes", "ingest-b3-16-node-93b02f", {"spec": {"unschedulable": True}},
        {"kind": "Node", "apiVersion": "v1", "metadata": {"name": "ingest-b3-16-node-93b02f"}, "spec": {"unschedulable": True}},
        t=at(9, 10)))
ev = {"kind": "Eviction", "apiVersion": "policy/v1", "metadata": {"name": "etl-worker-6d8f7c9b5-2qkwn", "namespace": "data-pipeline"},
      "deleteOptions": {}}
l("yacht", "yacht evicts a pod while draining the node",
  create(YACHT, "pods", ev, ns="data-pipeline", name="etl-worker-6d8f7c9b5-2qkwn", sub="eviction",
         resp={"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}, t=at(9, 11)))

l("csi-cinder-controller", "Cinder CSI attacher patches a VolumeAttachment status",
  patch(CINDER, "volumeattachments", "csi-" + hexs(64), {"status": {"attached": True}},
        {"kind": "VolumeAttachment", "apiVersion": "storage.k8s.io/v1", "metadata": {"name": "csi-x"},
         "spec": {"attacher": "cinder.csi.openstack.org", "nodeName": "web-b2-15-node-a8e5f1"}, "status": {"attached": True}},
        sub="status"))
l("csi-cinder-controller", "Cinder CSI provisioner reads a kube-system secret (cloud config)",
  get(CINDER.at(ua="csi-provisioner/v5.0.2 (linux/amd64) kubernetes/$Format"), "secrets", "csi-cinder-cloud-credentials", "kube-system"))
l("csi-cinder-controller", "Cinder CSI resizer lists PVCs cluster-wide",
  get(CINDER.at(ua="csi-resizer/v1.11.2 (linux/amd64) kubernetes/$Format"), "persistentvolumeclaims", q="?limit=500"))

# ---------------------------------------------------------------- kubelets
for n, ns_, sec in [("web-b2-15-node-a8e5f1", "payments", "ledger-db-credentials"),
                    ("ingest-b3-16-node-5d0c7e", "kube-system", "hubble-server-certs"),
                    ("web-b2-15-node-71c2d4", "kube-system", "cilium-ca"),
                    ("ingest-b3-16-node-e1a498", "argocd", "argocd-secret")]:
    l("kubelet", f"kubelet of {n} reads secret {ns_}/{sec} mounted by one of its pods",
      get(kubelet(n), "secrets", sec, ns_))
l("kubelet", "kubelet watches a kube-system ConfigMap mounted by cilium",
  watch(kubelet("web-b2-15-node-0b9f3a"), "configmaps", "kube-system", name="cilium-config"))
for n, ns_, sa_, pod_ in [("web-b2-15-node-71c2d4", "kube-system", "cilium", "cilium-8xq4n"),
                          ("ingest-b3-16-node-93b02f", "kube-system", "csi-cinder-node-sa", "csi-cinder-nodeplugin-l7x2v"),
                          ("web-b2-15-node-c6d710", "monitoring", "prometheus-k8s", "prometheus-k8s-0"),
                          ("ingest-b3-16-node-e1a498", "argocd", "argocd-application-controller", "argocd-application-controller-0")]:
    rq = {"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1", "metadata": {"creationTimestamp": None},
          "spec": {"audiences": None, "expirationSeconds": 3607,
                   "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": pod_, "uid": uid()}},
          "status": {"token": "", "expirationTimestamp": None}}
    rp = copy.deepcopy(rq)
    rp["spec"]["audiences"] = ["https://kubernetes.default.svc.cluster.local"]
    rp["status"] = {"token": "eyJhbGciOiJSUzI1NiIsImtpZCI6Ik" + alnum(40), "expirationTimestamp": rfc(rand_time())}
    l("kubelet", f"kubelet requests the projected token of {ns_}/{pod_} (TokenRequest bound to the pod)",
      create(kubelet(n), "serviceaccounts", rq, ns=ns_, name=sa_, sub="token", resp=rp))
kcsr = {"kind": "CertificateSigningRequest", "apiVersion": "certificates.k8s.io/v1",
        "metadata": {"generateName": "csr-"},
        "spec": {"request": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0K" + alnum(40),
                 "signerName": "kubernetes.io/kubelet-serving", "usages": ["digital signature", "server auth"]}, "status": {}}
l("kubelet", "kubelet creates its serving-certificate CSR (rotation)",
  create(kubelet("web-b2-15-node-a8e5f1"), "certificatesigningrequests", kcsr))
l("kubelet", "kubelet refused a secret its pods no longer use (node authorizer, 403)",
  refused(kubelet("ingest-b3-16-node-5d0c7e"), "get", "secrets", "search-api-tls", "search-api",
          node_reason="no relationship found between node 'ingest-b3-16-node-5d0c7e' and this object"))

# ---------------------------------------------------------------- controllers
cil_spec = pod_spec(
    [container("cilium-agent", "quay.io/cilium/cilium:v1.16.5@sha256:" + hexs(64), command=["cilium-agent"],
               args=["--config-dir=/tmp/cilium/config-map"], sc={"privileged": True},
               mounts=[("bpf-maps", "/sys/fs/bpf"), ("cilium-cgroup", "/run/cilium/cgroupv2"), ("cilium-run", "/var/run/cilium"),
                       ("lib-modules", "/lib/modules"), ("xtables-lock", "/run/xtables.lock")])],
    init=[container("mount-cgroup", "quay.io/cilium/cilium:v1.16.5", command=["sh", "-ec", "nsenter --cgroup=/hostproc/1/ns/cgroup --mount=/hostproc/1/ns/mnt mount -t cgroup2 none /run/cilium/cgroupv2"],
                    sc={"privileged": True}, mounts=[("hostproc", "/hostproc"), ("cni-path", "/hostbin")])],
    volumes=[hostpath("bpf-maps", "/sys/fs/bpf", "DirectoryOrCreate"), hostpath("cilium-cgroup", "/run/cilium/cgroupv2", "DirectoryOrCreate"),
             hostpath("cilium-run", "/var/run/cilium", "DirectoryOrCreate"), hostpath("lib-modules", "/lib/modules"),
             hostpath("xtables-lock", "/run/xtables.lock", "FileOrCreate"), hostpath("hostproc", "/proc", "Directory"),
             hostpath("cni-path", "/opt/cni/bin", "DirectoryOrCreate")],
    host_net=True, sa="cilium", tolerations=TOLERATE_ALL, priority_class="system-node-critical",
    node="web-b2-15-node-c6d710")
l("daemonset-controller", "daemonset-controller creates a privileged hostNetwork cilium agent pod in kube-system",
  create(controller("daemon-set-controller"), "pods",
         owned_pod("kube-system", cil_spec, "DaemonSet", "cilium", {"k8s-app": "cilium", "controller-revision-hash": "6b9f7d8c5"}, "cilium-"),
         t=at(9, 20)))
csi_spec = pod_spec(
    [container("cinder-csi-plugin", "registry.kubernatine.ovh/public/cinder-csi-plugin:v1.31.1", sc={"privileged": True,
               "capabilities": {"add": ["SYS_ADMIN"]}, "allowPrivilegeEscalation": True},
               mounts=[("kubelet-dir", "/var/lib/kubelet"), ("pods-probe-dir", "/dev"), ("socket-dir", "/csi")])],
    volumes=[hostpath("kubelet-dir", "/var/lib/kubelet", "Directory"), hostpath("pods-probe-dir", "/dev", "Directory"),
             hostpath("socket-dir", "/var/lib/kubelet/plugins/cinder.csi.openstack.org", "DirectoryOrCreate")],
    host_net=True, sa="csi-cinder-node-sa", tolerations=TOLERATE_ALL, node="web-b2-15-node-c6d710")
l("daemonset-controller", "daemonset-controller creates a privileged csi-cinder-nodeplugin pod mounting /var/lib/kubelet and /dev",
  create(controller("daemon-set-controller"), "pods",
         owned_pod("kube-system", csi_spec, "DaemonSet", "csi-cinder-nodeplugin", {"app": "csi-cinder-nodeplugin"}, "csi-cinder-nodeplugin-"),
         t=at(9, 20, 30)))
l("daemonset-controller", "daemonset-controller creates a kube-proxy pod (privileged, hostNetwork)",
  create(controller("daemon-set-controller"), "pods",
         owned_pod("kube-system", dict(kp["spec"]["template"]["spec"], nodeName="web-b2-15-node-c6d710"), "DaemonSet", "kube-proxy",
                   {"k8s-app": "kube-proxy"}, "kube-proxy-"), t=at(9, 21)))
ne_spec = pod_spec(
    [container("node-exporter", "quay.io/prometheus/node-exporter:v1.8.2",
               args=["--path.procfs=/host/proc", "--path.sysfs=/host/sys", "--path.rootfs=/host/root"],
               mounts=[("proc", "/host/proc"), ("sys", "/host/sys"), ("root", "/host/root")])],
    volumes=[hostpath("proc", "/proc"), hostpath("sys", "/sys"), hostpath("root", "/")], host_net=True, host_pid=True,
    sa="node-exporter", tolerations=TOLERATE_ALL, node="web-b2-15-node-c6d710")
l("daemonset-controller", "daemonset-controller creates a node-exporter pod (hostPID, hostNetwork, host / read)",
  create(controller("daemon-set-controller"), "pods",
         owned_pod("monitoring", ne_spec, "DaemonSet", "node-exporter", {"app.kubernetes.io/name": "node-exporter"}, "node-exporter-"),
         t=at(9, 21, 40)))
fal_spec = pod_spec(
    [container("falco", "docker.io/falcosecurity/falco:0.40.0", sc={"privileged": True},
               mounts=[("proc-fs", "/host/proc"), ("etc-fs", "/host/etc"), ("dev-fs", "/host/dev"),
                       ("containerd-socket", "/host/run/containerd")])],
    volumes=[hostpath("proc-fs", "/proc"), hostpath("etc-fs", "/etc"), hostpath("dev-fs", "/dev"),
             hostpath("containerd-socket", "/run/containerd")], sa="falco", tolerations=TOLERATE_ALL,
    node="web-b2-15-node-c6d710")
l("daemonset-controller", "daemonset-controller creates a Falco pod (privileged, containerd socket, /proc, /etc)",
  create(controller("daemon-set-controller"), "pods",
         owned_pod("falco", fal_spec, "DaemonSet", "falco", {"app.kubernetes.io/name": "falco"}, "falco-"), t=at(9, 22)))
l("daemonset-controller", "daemonset-controller deletes an old Falco pod during a rolling update",
  delete(controller("daemon-set-controller"), "pods", "falco-9lmq2", "falco", kind="pods",
         resp={"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "falco-9lmq2", "namespace": "falco",
                                                              "deletionTimestamp": rfc(at(11, 3)), "deletionGracePeriodSeconds": 30}},
         t=at(11, 3)))
cd_spec = pod_spec([container("coredns", "registry.kubernatine.ovh/public/coredns:v1.11.3", args=["-conf", "/etc/coredns/Corefile"],
                              sc={"capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]}, "readOnlyRootFilesystem": True})],
                   sa="coredns", priority_class="system-cluster-critical")
l("replicaset-controller", "replicaset-controller creates a coredns pod in kube-system",
  create(controller("replicaset-controller"), "pods",
         owned_pod("kube-system", cd_spec, "ReplicaSet", "coredns-6f9c8d7b5", {"k8s-app": "kube-dns"}, "coredns-6f9c8d7b5-")))
l("certificate-controller", "csrapproving controller auto-approves a node's kubelet client CSR",
  update(controller("certificate-controller"), "certificatesigningrequests", "csr-" + alnum(5),
         {"kind": "CertificateSigningRequest", "apiVersion": "certificates.k8s.io/v1", "metadata": {"name": "csr-x"},
          "spec": {"signerName": "kubernetes.io/kube-apiserver-client-kubelet", "username": "system:node:web-b2-15-node-c6d710",
                   "groups": ["system:nodes", "system:authenticated"], "usages": ["digital signature", "client auth"]},
          "status": {"conditions": [{"type": "Approved", "status": "True", "reason": "AutoApproved",
                                     "message": "Auto approving self kubelet client certificate after SubjectAccessReview."}]}},
         sub="approval"))
l("namespace-controller", "namespace-controller deletes every event of a deleted preview namespace",
  event(controller("namespace-controller"), "deletecollection", "/api/v1/namespaces/preview-pr-1432/events",
        ref("events", "preview-pr-1432"), req=delete_options(), resp={"kind": "EventList", "apiVersion": "v1", "metadata": {}, "items": []}))
l("namespace-controller", "namespace-controller deletes events.k8s.io events of the deleted namespace",
  event(controller("namespace-controller"), "deletecollection", "/apis/events.k8s.io/v1/namespaces/preview-pr-1432/events",
        ref("events", "preview-pr-1432", None, "events.k8s.io"), req=delete_options(),
        resp={"kind": "EventList", "apiVersion": "events.k8s.io/v1", "metadata": {}, "items": []}))
for rn in ["admin", "edit", "view"]:
    l("clusterrole-aggregation-controller", f"clusterrole-aggregation-controller updates the aggregated ClusterRole {rn}",
      update(controller("clusterrole-aggregation-controller"), "clusterroles", rn,
             role(rn, [rule(["get", "list", "watch"], ["certificates", "certificaterequests"], ["cert-manager.io"])],
                  labels={"kubernetes.io/bootstrapping": "rbac-defaults"},
                  aggregation={"clusterRoleSelectors": [{"matchLabels": {f"rbac.authorization.k8s.io/aggregate-to-{rn}": "true"}}]}),
             t=at(10, 14)))
l("kube-apiserver", "kube-apiserver reconciles the bootstrap ClusterRole system:discovery at start-up",
  update(APISERVER, "clusterroles", "system:discovery",
         role("system:discovery", [rule(["get"], [], nonres=["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez",
                                                               "/openapi", "/openapi/*", "/readyz", "/version", "/version/"])],
              labels={"kubernetes.io/bootstrapping": "rbac-defaults"},
              annotations={"rbac.authorization.kubernetes.io/autoupdate": "true"}), t=at(3, 0, 5)))
l("kube-apiserver", "kube-apiserver updates extension-apiserver-authentication in kube-system",
  event(APISERVER, "update", "/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication",
        ref("configmaps", "kube-system", "extension-apiserver-authentication"), t=at(3, 0, 6)))
l("root-ca-cert-publisher", "root-ca-cert-publisher creates kube-root-ca.crt in a new namespace",
  event(controller("root-ca-cert-publisher"), "create", "/api/v1/namespaces/preview-pr-1437/configmaps",
        ref("configmaps", "preview-pr-1437", "kube-root-ca.crt"), code=201))
l("cluster-autoscaler", "cluster-autoscaler refreshes its status ConfigMap in kube-system",
  event(Who("system:serviceaccount:kube-system:cluster-autoscaler", ["system:serviceaccounts", "system:serviceaccounts:kube-system",
                                                                     "system:authenticated"], "10.33.0.21",
            "cluster-autoscaler/v1.31.1 (linux/amd64) kubernetes/$Format", uid()),
        "update", "/api/v1/namespaces/kube-system/configmaps/cluster-autoscaler-status",
        ref("configmaps", "kube-system", "cluster-autoscaler-status")))
l("job-controller", "job-controller creates the pod of the nightly pg_dump Job",
  create(controller("job-controller"), "pods",
         owned_pod("payments", pod_spec([container("dump", "postgres:16.3", command=["sh", "-c", "pg_dump -h ledger-db -U backup ledger | gzip > /backup/ledger.sql.gz"],
                                                   mounts=[("backup", "/backup")])],
                                        volumes=[{"name": "backup", "persistentVolumeClaim": {"claimName": "ledger-backup"}}],
                                        restart="Never"), "Job", "ledger-dump-29170560", {"job-name": "ledger-dump-29170560"},
                   "ledger-dump-29170560-"), t=at(2, 0, 3)))

# ---------------------------------------------------------------- GitOps
ARGO = sa_user("argocd", "argocd-application-controller", "10.240.4.33",
               "argocd-application-controller/v2.13.3+a25c8a0 (linux/amd64) kubernetes/$Format",
               pod="argocd-application-controller-0", node="ingest-b3-16-node-5d0c7e")
SSA = "?fieldManager=argocd-controller&fieldValidation=Strict&force=true"
ne = daemonset("node-exporter", "monitoring", {k: v for k, v in ne_spec.items() if k != "nodeName"},
               labels={"app.kubernetes.io/name": "node-exporter"})
l("argocd", "Argo CD server-side applies the node-exporter DaemonSet (hostPID, hostNetwork, host /)",
  patch(ARGO, "daemonsets", "node-exporter", ne, stored(ne, rand_time(), gen=5), ns="monitoring", q=SSA))
cr = role("argocd-application-view", [rule(["get", "list", "watch"], ["applications", "applicationsets"], ["argoproj.io"])],
          labels={"rbac.authorization.k8s.io/aggregate-to-view": "true"})
l("argocd", "Argo CD applies a ClusterRole aggregated into view (read Argo applications)",
  patch(ARGO, "clusterroles", "argocd-application-view", cr, stored(cr, rand_time(), gen=None), q=SSA))
crb = binding("prometheus-operator", "ClusterRole", "prometheus-operator", [subject("ServiceAccount", "prometheus-operator", "monitoring")])
l("argocd", "Argo CD applies the prometheus-operator ClusterRoleBinding",
  patch(ARGO, "clusterrolebindings", "prometheus-operator", crb, stored(crb, rand_time(), gen=None), q=SSA))
ss = deployment("sealed-secrets-controller", "kube-system", pod_spec(
    [container("sealed-secrets-controller", "docker.io/bitnami/sealed-secrets-controller:0.27.3",
               sc={"readOnlyRootFilesystem": True, "runAsNonRoot": True, "runAsUser": 1001})], sa="sealed-secrets-controller"),
    labels={"app.kubernetes.io/name": "sealed-secrets"})
l("argocd", "Argo CD applies the sealed-secrets controller Deployment in kube-system (its standard place)",
  patch(ARGO, "deployments", "sealed-secrets-controller", ss, stored(ss, rand_time(), gen=3), ns="kube-system", q=SSA))
lb = service("ingress-nginx-controller", "ingress-nginx", "LoadBalancer",
             [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"},
              {"name": "https", "port": 443, "targetPort": "https", "protocol": "TCP"}],
             {"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"},
             annotations={"loadbalancer.ovhcloud.com/flavor": "medium", "loadbalancer.ovhcloud.com/class": "octavia"})
l("argocd", "Argo CD applies the ingress-nginx LoadBalancer Service (OVH annotations)",
  patch(ARGO, "services", "ingress-nginx-controller", lb, service_stored(lb, rand_time()), ns="ingress-nginx", q=SSA))
vw = {"kind": "ValidatingWebhookConfiguration", "apiVersion": "admissionregistration.k8s.io/v1",
      "metadata": {"name": "ingress-nginx-admission"},
      "webhooks": [{"name": "validate.nginx.ingress.kubernetes.io",
                    "clientConfig": {"service": {"namespace": "ingress-nginx", "name": "ingress-nginx-controller-admission", "path": "/networking/v1/ingresses"}},
                    "rules": [{"operations": ["CREATE", "UPDATE"], "apiGroups": ["networking.k8s.io"], "apiVersions": ["v1"], "resources": ["ingresses"]}],
                    "failurePolicy": "Fail", "sideEffects": "None", "admissionReviewVersions": ["v1"]}]}
l("argocd", "Argo CD applies the ingress-nginx validating webhook",
  patch(ARGO, "validatingwebhookconfigurations", "ingress-nginx-admission", vw, stored(vw, rand_time()), q=SSA))
cj = cronjob("velero-restic-prune", "velero", "0 3 * * 0", pod_spec([container("prune", "velero/velero:v1.15.0", command=["/velero", "repo", "maintenance"])]))
l("argocd", "Argo CD applies a weekly maintenance CronJob",
  patch(ARGO, "cronjobs", "velero-restic-prune", cj, stored(cj, rand_time(), gen=2), ns="velero", q=SSA))
l("argocd", "Argo CD prunes a removed Deployment",
  delete(ARGO, "deployments", "legacy-recs", "shop", kind="deployments"))

FLUX_K = sa_user("flux-system", "kustomize-controller", "10.241.6.12", "kustomize-controller/v1.4.0 (linux/amd64)",
                 pod="kustomize-controller-7f6d8c9b5-wq2xn", node="web-b2-15-node-a8e5f1")
FLUX_H = sa_user("flux-system", "helm-controller", "10.241.6.14", "helm-controller/v1.1.0 (linux/amd64)",
                 pod="helm-controller-5b9c7d6f8-kr4tm", node="web-b2-15-node-a8e5f1")
pt = daemonset("promtail", "logging", pod_spec(
    [container("promtail", "docker.io/grafana/promtail:3.2.1", args=["-config.file=/etc/promtail/promtail.yaml"],
               sc={"runAsUser": 0, "readOnlyRootFilesystem": True},
               mounts=[("pods", "/var/log/pods"), ("run", "/run/promtail")])],
    volumes=[hostpath("pods", "/var/log/pods"), hostpath("run", "/run/promtail")], sa="promtail", tolerations=TOLERATE_ALL),
    labels={"app.kubernetes.io/name": "promtail"})
l("flux", "Flux helm-controller installs the promtail DaemonSet (host /var/log/pods)",
  create(FLUX_H, "daemonsets", pt, q="?fieldManager=helm-controller"))
d = deployment("recs-api", "shop", pod_spec([container("recs", "ghcr.io/lumenstack/recs-api:4.1.0", ports=[8080],
                                                       sc={"runAsNonRoot": True, "allowPrivilegeEscalation": False})]), replicas=3)
l("flux", "Flux kustomize-controller server-side applies an app Deployment",
  patch(FLUX_K, "deployments", "recs-api", d, stored(d, rand_time(), gen=22), ns="shop",
        q="?fieldManager=kustomize-controller&force=true"))
r = role("flux-ci-exec", [rule(["create"], ["pods/exec"]), rule(["get", "list"], ["pods"])], ns="ci")
l("flux", "Flux applies a Role granting pods/exec to the CI e2e test runner (reviewed in git)",
  patch(FLUX_K, "roles", "flux-ci-exec", r, stored(r, rand_time(), gen=None), ns="ci",
        q="?fieldManager=kustomize-controller&force=true"))

# ---------------------------------------------------------------- cert-manager
CAINJ = sa_user("cert-manager", "cert-manager-cainjector", "10.242.1.40", "cainjector/v1.16.2 (linux/amd64) cert-manager/a3c7d5b2",
                pod="cert-manager-cainjector-6b8d9c7f5-tq2mx", node="ingest-b3-16-node-93b02f")
CM = sa_user("cert-manager", "cert-manager", "10.242.1.41", "cert-manager-controller/v1.16.2 (linux/amd64) cert-manager/a3c7d5b2",
             pod="cert-manager-7c9d8b6f5-hx4lp", node="ingest-b3-16-node-93b02f")
for k, nm in [("validatingwebhookconfigurations", "cert-manager-webhook"), ("mutatingwebhookconfigurations", "cert-manager-webhook"),
              ("validatingwebhookconfigurations", "trust-manager")]:
    body = {"webhooks": [{"name": "webhook.cert-manager.io", "clientConfig": {"caBundle": "LS0tLS1CRUdJTi" + alnum(60)}}]}
    full = {"kind": "ValidatingWebhookConfiguration" if k.startswith("v") else "MutatingWebhookConfiguration",
            "apiVersion": "admissionregistration.k8s.io/v1", "metadata": {"name": nm},
            "webhooks": [{"name": "webhook.cert-manager.io",
                          "clientConfig": {"service": {"namespace": "cert-manager", "name": "cert-manager-webhook", "path": "/validate"},
                                           "caBundle": body["webhooks"][0]["clientConfig"]["caBundle"]},
                          "rules": [{"operations": ["CREATE", "UPDATE"], "apiGroups": ["cert-manager.io", "acme.cert-manager.io"],
                                     "apiVersions": ["v1"], "resources": ["*/*"]}],
                          "failurePolicy": "Fail", "sideEffects": "None", "admissionReviewVersions": ["v1"]}]}
    l("cert-manager", f"cert-manager cainjector patches the caBundle of {nm}",
      patch(CAINJ, k, nm, body, stored(full, rand_time()), q="?fieldManager=cert-manager-cainjector&force=true"))
l("cert-manager", "cert-manager writes a renewed TLS secret (metadata only)",
  event(CM, "update", "/api/v1/namespaces/shop/secrets/storefront-tls", ref("secrets", "shop", "storefront-tls")))
l("cert-manager", "cert-manager lists secrets cluster-wide (its informer)",
  get(CM, "secrets", q="?labelSelector=controller.cert-manager.io%2Ffao%3Dtrue&limit=500"))

# ---------------------------------------------------------------- monitoring
PROM = sa_user("monitoring", "prometheus-k8s", "10.242.5.30", "Prometheus/2.55.1", pod="prometheus-k8s-0",
               node="web-b2-15-node-c6d710")
for n in ["web-b2-15-node-0b9f3a", "ingest-b3-16-node-e1a498"]:
    l("prometheus", f"Prometheus scrapes cAdvisor of {n} through the API server proxy (nodes/proxy)",
      get(PROM, "nodes", n, sub="proxy", q="/metrics/cadvisor"))
l("prometheus", "Prometheus scrapes the kubelet /metrics through nodes/proxy",
  get(PROM, "nodes", "web-b2-15-node-a8e5f1", sub="proxy", q="/metrics"))
l("prometheus", "Prometheus lists pods cluster-wide (service discovery)", get(PROM, "pods", q="?limit=500&resourceVersion=0"))
KSM = sa_user("monitoring", "kube-state-metrics", "10.242.5.31", "kube-state-metrics/v2.14.0 (linux/amd64) kubernetes/$Format",
              pod="kube-state-metrics-7d8c9b6f5-m2xkq", node="web-b2-15-node-c6d710")
l("kube-state-metrics", "kube-state-metrics lists secrets in all namespaces (metadata metrics)",
  get(KSM, "secrets", q="?limit=500&resourceVersion=0"))
l("kube-state-metrics", "kube-state-metrics watches secrets in all namespaces", watch(KSM, "secrets"))

# ---------------------------------------------------------------- backups
VELERO = sa_user("velero", "velero-server", "10.241.2.50", "velero-server/v1.15.0 (linux/amd64) 6c0cd9e",
                 pod="velero-7c8d9b6f5-p4kwz", node="web-b2-15-node-0b9f3a")
l("velero", "Velero backup lists secrets cluster-wide", get(VELERO, "secrets", q="?limit=500"))
l("velero", "Velero backup lists kube-system secrets", get(VELERO, "secrets", ns="kube-system", q="?limit=500"))
l("velero", "Velero backup lists kube-system configmaps", get(VELERO, "configmaps", ns="kube-system", q="?limit=500"))

# ---------------------------------------------------------------- helm installs by the platform team
CAM_HELM = CAMILLE.at(ua="Helm/3.16.3")
fd = daemonset("falco", "falco", {k: v for k, v in fal_spec.items() if k != "nodeName"}, labels={"app.kubernetes.io/name": "falco"})
l("helm-install", "platform engineer upgrades Falco with Helm (privileged DaemonSet, update)",
  update(CAM_HELM, "daemonsets", "falco", stored(fd, at(10, 58), gen=13), ns="falco", t=at(10, 58)))
l("helm-install", "platform engineer's helm upgrade writes its release secret (metadata only)",
  event(CAM_HELM, "create", "/api/v1/namespaces/falco/secrets", ref("secrets", "falco", "sh.helm.release.v1.falco.v14"), code=201,
        t=at(10, 58, 30)))
cr_in = role("ingress-nginx", [rule(["list", "watch"], ["configmaps", "endpoints", "nodes", "pods", "secrets", "namespaces"]),
                               rule(["get"], ["nodes"]), rule(["get", "list", "watch"], ["ingresses", "ingressclasses"], ["networking.k8s.io"])])
l("helm-install", "platform engineer helm-installs ingress-nginx: its ClusterRole",
  create(CAM_HELM, "clusterroles", cr_in, q="?fieldManager=helm", t=at(10, 40)))
l("helm-install", "platform engineer helm-installs ingress-nginx: its ClusterRoleBinding",
  create(CAM_HELM, "clusterrolebindings", binding("ingress-nginx", "ClusterRole", "ingress-nginx",
                                                  [subject("ServiceAccount", "ingress-nginx", "ingress-nginx")]),
         q="?fieldManager=helm", t=at(10, 40, 20)))
lb2 = copy.deepcopy(lb)
l("helm-install", "platform engineer helm-installs ingress-nginx: LoadBalancer Service with OVH annotations",
  create(CAM_HELM, "services", lb2, q="?fieldManager=helm", resp=service_stored(lb2, at(10, 40)), t=at(10, 40, 40)))
mw = {"kind": "MutatingWebhookConfiguration", "apiVersion": "admissionregistration.k8s.io/v1",
      "metadata": {"name": "kyverno-resource-mutating-webhook-cfg"},
      "webhooks": [{"name": "mutate.kyverno.svc-fail", "clientConfig": {"service": {"namespace": "kyverno", "name": "kyverno-svc", "path": "/mutate/fail"}},
                    "rules": [{"operations": ["CREATE", "UPDATE"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["pods"]}],
                    "failurePolicy": "Fail", "sideEffects": "NoneOnDryRun", "admissionReviewVersions": ["v1"], "timeoutSeconds": 10}]}
KYV = sa_user("kyverno", "kyverno-admission-controller", "10.240.2.21", "kyverno/v1.13.2 (linux/amd64) kubernetes/$Format",
              pod="kyverno-admission-controller-6d8f7c9b5-j2xlq", node="ingest-b3-16-node-5d0c7e")
l("kyverno", "Kyverno reconciles its own mutating webhook configuration (update)",
  update(KYV, "mutatingwebhookconfigurations", "kyverno-resource-mutating-webhook-cfg", stored(mw, rand_time())))
l("kyverno", "Kyverno reconciles its own validating webhook configuration (update)",
  update(KYV, "validatingwebhookconfigurations", "kyverno-resource-validating-webhook-cfg",
         stored(dict(mw, kind="ValidatingWebhookConfiguration", metadata={"name": "kyverno-resource-validating-webhook-cfg"}), rand_time())))
SS = sa_user("kube-system", "sealed-secrets-controller", "10.240.3.77", "controller/v0.0.0 (linux/amd64) kubernetes/$Format",
             pod="sealed-secrets-controller-7b9c8d6f5-w2kpx", node="web-b2-15-node-a8e5f1")
l("sealed-secrets", "sealed-secrets controller lists its key secrets in kube-system",
  get(SS, "secrets", ns="kube-system", q="?labelSelector=sealedsecrets.bitnami.com%2Fsealed-secrets-key&limit=500"))
l("sealed-secrets", "sealed-secrets controller watches secrets cluster-wide", watch(SS, "secrets"))

# ---------------------------------------------------------------- on-call admins (incident at ~10:30)
NINA_DAY = NINA.at(ip="86.247.11.203")
inc = [
    (NINA_DAY, "on-call reads logs of a crashing checkout pod",
     lambda t: get(NINA_DAY, "pods", "checkout-5b8d7c9f6-lw2qx", "shop", sub="log", q="?container=checkout&previous=true&tailLines=200", t=t)),
    (ADMIN_OFFICE, "on-call reads kube-system coredns logs",
     lambda t: get(ADMIN_OFFICE, "pods", "coredns-6f9c8d7b5-zx8lq", "kube-system", sub="log", q="?container=coredns&tailLines=500", t=t)),
    (NINA_DAY, "on-call scales checkout up to 6 (patch /scale)",
     lambda t: patch(NINA_DAY, "deployments", "checkout", {"spec": {"replicas": 6}},
                     {"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": {"name": "checkout", "namespace": "shop"},
                      "spec": {"replicas": 6}, "status": {"replicas": 3}}, ns="shop", sub="scale", q="?fieldManager=kubectl-scale", t=t)),
    (ADMIN_OFFICE, "on-call scales a noisy batch worker to 0 (patch /scale)",
     lambda t: patch(ADMIN_OFFICE, "deployments", "etl-worker", {"spec": {"replicas": 0}},
                     {"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": {"name": "etl-worker", "namespace": "data-pipeline"},
                      "spec": {"replicas": 0}, "status": {"replicas": 4}}, ns="data-pipeline", sub="scale", q="?fieldManager=kubectl-scale", t=t)),
    (NINA_DAY, "on-call kubectl rollout restart of checkout",
     lambda t: patch(NINA_DAY, "deployments", "checkout",
                     {"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": rfc(t)}}}}},
                     stored(deployment("checkout", "shop", pod_spec([container("checkout", "ghcr.io/lumenstack/checkout:5.2.0")]), replicas=6), t, gen=15),
                     ns="shop", q="?fieldManager=kubectl-rollout", t=t)),
    (ADMIN_OFFICE, "on-call kubectl rollout restart of coredns in kube-system",
     lambda t: patch(ADMIN_OFFICE, "deployments", "coredns",
                     {"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": rfc(t)}}}}},
                     stored(deployment("coredns", "kube-system", cd_spec, labels={"k8s-app": "kube-dns"}, replicas=2), t, gen=10),
                     ns="kube-system", q="?fieldManager=kubectl-rollout", t=t)),
    (ADMIN_OFFICE, "on-call cordons a sick node",
     lambda t: patch(ADMIN_OFFICE, "nodes", "web-b2-15-node-a8e5f1", {"spec": {"unschedulable": True}},
                     {"kind": "Node", "apiVersion": "v1", "metadata": {"name": "web-b2-15-node-a8e5f1"}, "spec": {"unschedulable": True}},
                     q="?fieldManager=kubectl-cordon", t=t)),
    (ADMIN_OFFICE, "on-call drains it: eviction of a pod",
     lambda t: create(ADMIN_OFFICE, "pods", {"kind": "Eviction", "apiVersion": "policy/v1",
                                             "metadata": {"name": "recs-api-7d9c8b6f5-x2lqk", "namespace": "shop"}},
                      ns="shop", name="recs-api-7d9c8b6f5-x2lqk", sub="eviction",
                      resp={"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}, t=t)),
    (NINA_DAY, "on-call deletes a pod stuck in CrashLoopBackOff",
     lambda t: delete(NINA_DAY, "pods", "checkout-5b8d7c9f6-lw2qx", "shop", kind="pods",
                      resp={"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "checkout-5b8d7c9f6-lw2qx", "namespace": "shop"}}, t=t)),
    (NINA_DAY, "on-call lists events in shop", lambda t: get(NINA_DAY, "events", ns="shop", q="?limit=500", t=t)),
    (ADMIN_OFFICE, "on-call lists kube-system events", lambda t: get(ADMIN_OFFICE, "events", ns="kube-system", q="?limit=500", t=t)),
    (ADMIN_OFFICE, "on-call kubectl top pods -A (metrics API)",
     lambda t: get(ADMIN_OFFICE, "pods", group="metrics.k8s.io", version="v1beta1", q="", t=t)),
    (NINA_DAY, "on-call checks her rights: kubectl auth can-i delete pods (SelfSubjectAccessReview)",
     lambda t: create(NINA_DAY, "selfsubjectaccessreviews",
                      *sar_obj("SelfSubjectAccessReview", {"resourceAttributes": {"namespace": "shop", "verb": "delete", "resource": "pods"}}, True)[:1],
                      resp=sar_obj("SelfSubjectAccessReview", {"resourceAttributes": {"namespace": "shop", "verb": "delete", "resource": "pods"}}, True)[1], t=t)),
    (ADMIN_OFFICE, "on-call lists pods in all namespaces", lambda t: get(ADMIN_OFFICE, "pods", q="?limit=500", t=t)),
    (ADMIN_OFFICE, "on-call reads the nodepools to check autoscaling bounds", lambda t: get(ADMIN_OFFICE, "nodepools", q="?limit=500", t=t)),
    (NINA_DAY, "on-call reads the checkout ConfigMap (metadata only)", lambda t: get(NINA_DAY, "configmaps", "checkout-config", "shop", t=t)),
    (ADMIN_OFFICE, "on-call uncordons the node after the fix",
     lambda t: patch(ADMIN_OFFICE, "nodes", "web-b2-15-node-a8e5f1", {"spec": {"unschedulable": None}},
                     {"kind": "Node", "apiVersion": "v1", "metadata": {"name": "web-b2-15-node-a8e5f1"}, "spec": {}},
                     q="?fieldManager=kubectl-uncordon", t=t)),
    (ADMIN_OFFICE, "on-call reads a kube-system pod's describe (get pod)", lambda t: get(ADMIN_OFFICE, "pods", "cilium-8xq4n", "kube-system", t=t)),
]
for i, (who, note, f) in enumerate(inc):
    l("oncall-admin", note, f(at(10, 25 + i * 2)))

# ---------------------------------------------------------------- CI and the internet
CI_IN = sa_user("ci", "gitlab-deployer", "10.240.7.91", KUBECTL_LINUX, pod="gitlab-runner-7dc8f96b4-lk5wd",
                node="web-b2-15-node-0b9f3a")
CI_EXT = sa_user("ci", "release-bot", "51.68.137.204", KUBECTL_LINUX, bound=True)
d2 = deployment("storefront", "shop", pod_spec([container("storefront", "ghcr.io/lumenstack/storefront:8.3.2", ports=[8080],
                                                          sc={"runAsNonRoot": True, "allowPrivilegeEscalation": False})]), replicas=4)
l("ci-external-runner", "release bot on the company's OVH runner VM deploys with its SA token (client-side apply)",
  patch(CI_EXT, "deployments", "storefront", {"spec": {"template": {"spec": {"containers": [{"name": "storefront", "image": "ghcr.io/lumenstack/storefront:8.3.2"}]}}}},
        stored(d2, at(15, 2), gen=32), ns="shop", q="?fieldManager=kubectl-client-side-apply&fieldValidation=Strict", t=at(15, 2)))
l("ci-external-runner", "release bot on the runner VM watches the rollout", watch(CI_EXT, "deployments", "shop",
                                                                                 q="?fieldSelector=metadata.name%3Dstorefront&watch=true", t=at(15, 2, 30)))
l("ci-deployer", "in-cluster GitLab deployer runs a DB migration Job",
  create(CI_IN, "jobs", job("migrate-8-3-2", "shop", pod_spec([container("migrate", "ghcr.io/lumenstack/storefront:8.3.2", command=["./manage", "migrate"])])),
         q="?fieldManager=kubectl-client-side-apply&fieldValidation=Strict", t=at(15, 1)))

SCAN = [("45.148.10.81", "Mozilla/5.0 zgrab/0.x", "/api/v1/pods", ref("pods")),
        ("167.94.138.44", "Mozilla/5.0 (compatible; CensysInspect/1.1; +https://about.censys.io/)", "/api/v1/namespaces/kube-system/secrets", ref("secrets", "kube-system")),
        ("71.6.199.23", "Go-http-client/1.1", "/api/v1/nodes", ref("nodes"))]
for ip, ua, uri, r_ in SCAN:
    w = Who("system:anonymous", ["system:unauthenticated"], ip, ua)
    l("internet-scanner", f"internet scanner probes {uri} anonymously, refused (403)",
      event(w, "list", uri, r_, code=403, decision="forbid",
            message=forbidden_msg(w, "list", r_["resource"], "", r_.get("namespace"))))
for ip, ua, uri in [("162.142.125.9", "Mozilla/5.0 (compatible; CensysInspect/1.1; +https://about.censys.io/)", "/version"),
                    ("35.203.211.4", "Expanse, a Palo Alto Networks company, searches across the global IPv4 space", "/version")]:
    l("internet-scanner", f"internet scanner reads {uri} anonymously (allowed by system:public-info-viewer)",
      nonres(Who("system:anonymous", ["system:unauthenticated"], ip, ua), uri,
             reason='RBAC: allowed by ClusterRoleBinding "system:public-info-viewer" of ClusterRole "system:public-info-viewer" to Group "system:unauthenticated"'))
l("oidc-discovery", "anonymous fetch of the service-account issuer JWKS (OIDC federation)",
  nonres(Who("system:anonymous", ["system:unauthenticated"], "52.94.133.131", "aws-sdk-go/1.55.5"), "/openid/v1/jwks",
         reason='RBAC: allowed by ClusterRoleBinding "system:service-account-issuer-discovery" of ClusterRole "system:service-account-issuer-discovery" to Group "system:unauthenticated"'))
l("velero", "Velero pre-backup hook execs fsfreeze in the ledger database pod",
  streaming(VELERO, "exec", "payments", "ledger-db-0", exec_q(["/sbin/fsfreeze", "--freeze", "/var/lib/postgresql/data"], "fsfreeze", tty=False, stdin=False),
            verb="create", stage="ResponseComplete", t=at(1, 0, 2)))
