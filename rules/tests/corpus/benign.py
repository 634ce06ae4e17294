# SPDX-License-Identifier: Apache-2.0
"""Benign events: look-alikes (the platform, tools and admins doing things that resemble the
techniques) and a day of ordinary traffic."""

import mks
from mks import (container, host_path_volume, pod_spec, pod_object, owner_ref, workload,
                 role_object, rule, binding_object, subj_user, subj_group, subj_sa, created)
from world import (OVH_DAEMONSETS, OVH_DEPLOYMENTS, YACHT_IPS, CONTROL_PLANE_IPS, APP_IMAGES,
                   NAMESPACES, APPS, CI_RUNNER_IPS)


class Benign:
    def __init__(self, ctx, w):
        self.ctx, self.w = ctx, w
        self.looks = []
        self.ordinary = []

    def look(self, actor, note, ev):
        self.looks.append((actor, note, ev))

    def day(self, note, ev):
        self.ordinary.append((None, note, ev))

    # ------------------------------------------------------------------ identities

    def yacht(self):
        return mks.plain("yacht", ["system:authenticated"])

    def csi(self):
        return mks.plain("csi-cinder-controller", ["system:authenticated"])

    def ctrl(self, name):
        return mks.sa(self.ctx, "kube-system", name), mks.ua_controller(name), list(CONTROL_PLANE_IPS)

    def argocd(self):
        return (mks.sa(self.ctx, "argocd", "argocd-application-controller", pod="argocd-application-controller-0",
                       node=self.w.node()),
                "argocd-application-controller/v2.13.1+af54ef8 (linux/amd64)", [self.w.pod_ip()])

    def pod_create_by(self, who, ua, ips, ns, spec, owner_kind, owner_name, group="apps/v1"):
        c = self.ctx
        owner = owner_ref(c, owner_kind, owner_name, group)
        req = pod_object(c, ns, spec, generate_name=owner_name + "-", owner=owner, created=False)
        resp = pod_object(c, ns, spec, name=owner_name + "-" + c.suffix(), generate_name=owner_name + "-", owner=owner)
        return mks.request(c, who, "create", "pods", ips, ua, namespace=ns, req=req, resp=resp, reason="")

    # ------------------------------------------------------------------ look-alikes

    def ovh(self):
        w, c = self.w, self.ctx
        y, yua = self.yacht(), mks.UA_YACHT
        pool = w.nodes[0].rsplit("-node-", 1)[0]
        np = {"apiVersion": "kube.cloud.ovh.com/v1alpha1", "kind": "NodePool",
              "metadata": {"name": pool, "resourceVersion": "2270433"},
              "spec": {"antiAffinity": False, "autoscale": True, "desiredNodes": 4, "flavor": "b2-15",
                       "maxNodes": 10, "minNodes": 3, "monthlyBilled": False},
              "status": {"availableNodes": 3, "currentNodes": 3, "upToDateNodes": 3, "conditions": []}}
        for verb, sub, req, note in [
            ("patch", None, {"spec": {"desiredNodes": 4}}, "yacht applies a scale-up the customer asked in the console"),
            ("update", "status", np, "yacht updates a node pool's status"),
            ("patch", "status", {"status": {"currentNodes": 4, "availableNodes": 4}}, "yacht patches a node pool's status"),
            ("update", None, np, "yacht rewrites a node pool during an upgrade"),
        ]:
            ev = mks.request(c, y, verb, "nodepools", [c.pick(YACHT_IPS)], yua, name=pool, subresource=sub,
                             group="kube.cloud.ovh.com", version="v1alpha1", req=req, resp=np)
            self.look("yacht", note, ev)
        ev = mks.request(c, y, "create", "nodepools", [c.pick(YACHT_IPS)], yua, name="batch-c2-30",
                         group="kube.cloud.ovh.com", version="v1alpha1", req=np, resp=created(c, np))
        self.look("yacht", "yacht creates the node pool the customer ordered", ev)
        # kube-system components
        for name, d in OVH_DAEMONSETS.items():
            spec = pod_spec([container(n, i, privileged=p) for n, i, p in d["containers"]],
                            init=[container(n, i, privileged=p) for n, i, p in d["init"]] or None,
                            volumes=[host_path_volume(f"v{i}", p) for i, p in enumerate(d["paths"])],
                            host_network=d["host_network"], sa_name=name, priority_class="system-node-critical",
                            tolerations=[{"operator": "Exists"}])
            obj = workload(c, "DaemonSet", "kube-system", name, spec, created=False)
            ev = mks.request(c, y, c.pick(["patch", "update"]), "daemonsets", [c.pick(YACHT_IPS)], yua,
                             namespace="kube-system", name=name, group="apps", req=obj, resp=created(c, obj))
            self.look("yacht", f"yacht rolls out {name} in kube-system", ev)
            who, ua, ips = self.ctrl("daemon-set-controller")
            spec["nodeName"] = w.node()
            self.look("controllers", f"the DaemonSet controller creates a {name} pod (privileged, host network, host paths)",
                      self.pod_create_by(who, ua, ips, "kube-system", spec, "DaemonSet", name))
        obj = workload(c, "DaemonSet", "kube-system", "canal", pod_spec([container("calico-node", "docker.io/calico/node:v3.28.2", privileged=True)]),
                       created=False)
        ev = mks.request(c, y, "create", "daemonsets", [c.pick(YACHT_IPS)], yua, namespace="kube-system", group="apps",
                         req=obj, resp=created(c, obj))
        self.look("yacht", "yacht creates the CNI DaemonSet of a new cluster", ev)
        for name, images in OVH_DEPLOYMENTS.items():
            spec = pod_spec([container(i.split("/")[-1].split(":")[0], i) for i in images], sa_name=name,
                            priority_class="system-cluster-critical")
            if name in ("coredns", "metrics-server"):
                obj = workload(c, "Deployment", "kube-system", name, spec, created=False)
                ev = mks.request(c, y, "patch", "deployments", [c.pick(YACHT_IPS)], yua, namespace="kube-system", name=name,
                                 group="apps", req={"spec": {"template": {"spec": {"containers": [
                                     {"name": name, "image": images[0]}]}}}}, resp=created(c, obj))
                self.look("yacht", f"yacht upgrades {name}", ev)
            who, ua, ips = self.ctrl("replicaset-controller")
            self.look("controllers", f"the ReplicaSet controller creates a {name} pod in kube-system",
                      self.pod_create_by(who, ua, ips, "kube-system", spec, "ReplicaSet", f"{name}-{c.hexs(10)}"))
        for verb, name, note in [("get", "csi-cinder-cloud-config", "yacht reads the Cinder CSI cloud config"),
                                 ("list", None, "yacht lists kube-system secrets"),
                                 ("update", "csi-cinder-cloud-config", "yacht rotates the OpenStack credentials"),
                                 ("create", "konnectivity-agent-token", "yacht creates a secret in kube-system")]:
            ev = mks.request(c, y, verb, "secrets", [c.pick(YACHT_IPS)], yua, namespace="kube-system", name=name,
                             query="limit=500" if verb == "list" else "")
            self.look("yacht", note, ev)
        for verb, name in [("patch", "coredns"), ("update", "kube-proxy"), ("create", "canal-config")]:
            ev = mks.request(c, y, verb, "configmaps", [c.pick(YACHT_IPS)], yua, namespace="kube-system", name=name)
            self.look("yacht", f"yacht writes the {name} ConfigMap in kube-system", ev)
        for _ in range(3):
            ev = mks.request(c, y, c.pick(["create", "patch"]), "events", [c.pick(YACHT_IPS)], yua, namespace="kube-system",
                             name=f"{c.pick(['canal', 'coredns'])}.17f3a{c.hexs(11)}", code=403)
            self.look("yacht", "yacht's recurring 403 on events", ev)
        r = role_object("ClusterRole", "system:coredns", [rule([""], ["endpoints", "services", "pods", "namespaces"], ["list", "watch"]),
                                                          rule(["discovery.k8s.io"], ["endpointslices"], ["list", "watch"])])
        ev = mks.request(c, y, "update", "clusterroles", [c.pick(YACHT_IPS)], yua, name="system:coredns",
                         group="rbac.authorization.k8s.io", req=r, resp=created(c, r))
        self.look("yacht", "yacht updates system:coredns during an upgrade", ev)
        r = role_object("ClusterRole", "system:csi-cinder-nodeplugin", [rule([""], ["nodes"], ["get", "list", "update"])])
        ev = mks.request(c, y, "create", "clusterroles", [c.pick(YACHT_IPS)], yua, group="rbac.authorization.k8s.io", req=r,
                         resp=created(c, r))
        self.look("yacht", "yacht creates a system: ClusterRole for the CSI node plugin", ev)
        b = binding_object("ClusterRoleBinding", "csi-cinder-nodeplugin", "ClusterRole", "system:csi-cinder-nodeplugin",
                           [subj_sa("kube-system", "csi-cinder-node-sa")])
        ev = mks.request(c, y, "create", "clusterrolebindings", [c.pick(YACHT_IPS)], yua, group="rbac.authorization.k8s.io",
                         req=b, resp=created(c, b))
        self.look("yacht", "yacht binds the CSI node plugin's role", ev)
        ev = mks.request(c, y, "create", "serviceaccounts", [c.pick(YACHT_IPS)], yua, namespace="kube-system",
                         req={"kind": "ServiceAccount", "apiVersion": "v1", "metadata": {"name": "konnectivity-agent",
                                                                                         "namespace": "kube-system"}},
                         resp={"kind": "ServiceAccount", "apiVersion": "v1", "metadata": {"name": "konnectivity-agent",
                                                                                          "namespace": "kube-system"}})
        self.look("yacht", "yacht creates a kube-system service account", ev)
        ev = mks.request(c, y, "delete", "pods", [c.pick(YACHT_IPS)], yua, namespace="kube-system",
                         name=f"coredns-{c.hexs(10)}-{c.suffix()}")
        self.look("yacht", "yacht restarts a CoreDNS pod", ev)
        ev = mks.request(c, y, "patch", "nodes", [c.pick(YACHT_IPS)], yua, name=w.node(),
                         req={"metadata": {"labels": {"nodepool": pool}}}, resp={"kind": "Node", "apiVersion": "v1",
                                                                                  "metadata": {"name": "n"}})
        self.look("yacht", "yacht labels a node", ev)
        # Cinder CSI
        csi = self.csi()
        for verb, res, ns, name, sub in [("get", "secrets", "kube-system", "csi-cinder-cloud-config", None),
                                         ("patch", "volumeattachments", None, "csi-" + c.hexs(64), "status"),
                                         ("patch", "persistentvolumes", None, "ovh-managed-kubernetes-" + c.hexs(8), None),
                                         ("create", "events", "data", None, None)]:
            group = "storage.k8s.io" if res == "volumeattachments" else ""
            ev = mks.request(c, csi, verb, res, [w.pod_ip()], "csi-attacher/v4.6.1 (linux/amd64) kubernetes/$Format",
                             namespace=ns, name=name, subresource=sub, group=group)
            self.look("csi-cinder-controller", f"the Cinder CSI controller: {verb} {res}", ev)

    def kubelets(self):
        w, c = self.w, self.ctx
        for _ in range(4):
            node = w.node()
            ns, app = w.app()
            ev = mks.request(c, mks.node_user(node), "get", "secrets", [w.node_ips[node]], mks.UA_KUBELET, namespace=ns,
                             name=c.pick([f"{app}-db-credentials", f"{app}-tls", "registry-pull-secret"]))
            self.look("kubelets", "a kubelet reads a secret a pod of its node mounts", ev)
        node = w.node()
        ev = mks.request(c, mks.node_user(node), "watch", "secrets", [w.node_ips[node]], mks.UA_KUBELET, namespace="kube-system",
                         query="allowWatchBookmarks=true&fieldSelector=metadata.name%3Dcsi-cinder-cloud-config&resourceVersion=2270433&timeout=6m21s&timeoutSeconds=381&watch=true",
                         stage="ResponseStarted")
        self.look("kubelets", "a kubelet watches a kube-system secret its CSI pod mounts", ev)
        ev = mks.request(c, mks.node_user(node), "get", "secrets", [w.node_ips[node]], mks.UA_KUBELET, namespace="kube-system",
                         name="csi-cinder-cloud-config")
        self.look("kubelets", "a kubelet reads a kube-system secret its CSI pod mounts", ev)
        for _ in range(4):
            node = w.node()
            ns, app = w.app()
            pod = w.pod_name(app)
            req = {"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1", "metadata": {"creationTimestamp": None},
                   "spec": {"audiences": ["https://kubernetes.default.svc.cluster.local"], "expirationSeconds": 3607,
                            "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": pod, "uid": c.uid()}},
                   "status": {"token": "", "expirationTimestamp": None}}
            ev = mks.request(c, mks.node_user(node), "create", "serviceaccounts", [w.node_ips[node]], mks.UA_KUBELET,
                             namespace=ns, name=c.pick([app, "default"]), subresource="token", req=req, resp=req)
            self.look("kubelets", "a kubelet requests a bound token for a pod", ev)
        node = w.node()
        ev = mks.request(c, mks.node_user(node), "create", "serviceaccounts", [w.node_ips[node]], mks.UA_KUBELET,
                         namespace="kube-system", name="canal", subresource="token",
                         req={"kind": "TokenRequest", "spec": {"boundObjectRef": {"kind": "Pod", "name": "canal-x"}}})
        self.look("kubelets", "a kubelet requests a token for a kube-system pod", ev)
        for signer in ["kubernetes.io/kubelet-serving", "kubernetes.io/kube-apiserver-client-kubelet"]:
            node = w.node()
            req = {"kind": "CertificateSigningRequest", "apiVersion": "certificates.k8s.io/v1",
                   "metadata": {"generateName": "csr-", "creationTimestamp": None},
                   "spec": {"request": "LS0tLS1CRUdJTi...", "signerName": signer,
                            "usages": ["digital signature", "server auth"] if "serving" in signer else
                            ["digital signature", "client auth"]}, "status": {}}
            ev = mks.request(c, mks.node_user(node), "create", "certificatesigningrequests", [w.node_ips[node]], mks.UA_KUBELET,
                             group="certificates.k8s.io", req=req, resp=created(c, req))
            self.look("kubelets", f"a kubelet asks for a {signer.split('/')[1]} certificate", ev)
        boot = mks.user("system:bootstrap:5emitj", ["system:bootstrappers", "system:bootstrappers:kubeadm:default-node-token",
                                                    "system:authenticated"])
        req = {"kind": "CertificateSigningRequest", "apiVersion": "certificates.k8s.io/v1",
               "metadata": {"generateName": "node-csr-", "creationTimestamp": None},
               "spec": {"request": "LS0tLS1CRUdJTi...", "signerName": "kubernetes.io/kube-apiserver-client-kubelet",
                        "usages": ["digital signature", "client auth"]}, "status": {}}
        ev = mks.request(c, boot, "create", "certificatesigningrequests", ["10.10.0.91"], mks.UA_KUBELET,
                         group="certificates.k8s.io", req=req, resp=created(c, req))
        self.look("kubelets", "a new node bootstraps with a bootstrap token", ev)
        node = w.node()
        ev = mks.request(c, mks.node_user(node), "list", "pods", [w.node_ips[node]], mks.UA_KUBELET,
                         query=f"fieldSelector=spec.nodeName%3D{node}&limit=500&resourceVersion=0")
        self.look("kubelets", "a kubelet lists the pods of its node", ev)

    def controllers(self):
        w, c = self.w, self.ctx
        who, ua, ips = self.ctrl("namespace-controller")
        ns = "review-app-1482"
        for res in ["events", "secrets", "configmaps", "pods"]:
            ev = mks.request(c, who, "deletecollection", res, ips, ua, namespace=ns,
                             group="events.k8s.io" if res == "events" and c.rng.random() < 0.5 else "",
                             resp={"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"})
            self.look("controllers", f"the namespace controller empties a deleted namespace: {res}", ev)
        who, ua, ips = self.ctrl("clusterrole-aggregation-controller")
        for name, rules in [
            ("edit", [rule([""], ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"],
                           ["create", "delete", "deletecollection", "patch", "update"]),
                      rule([""], ["serviceaccounts"], ["impersonate"]),
                      rule(["cert-manager.io"], ["certificates", "issuers"], ["create", "delete", "patch", "update"])]),
            ("view", [rule([""], ["configmaps", "endpoints", "pods", "services"], ["get", "list", "watch"]),
                      rule(["cert-manager.io"], ["certificates", "issuers"], ["get", "list", "watch"])]),
            ("admin", [rule([""], ["pods/exec", "pods/attach", "secrets"], ["create", "delete", "get", "list", "patch", "update", "watch"]),
                       rule(["rbac.authorization.k8s.io"], ["roles", "rolebindings"], ["create", "delete", "get", "list", "patch", "update", "watch"]),
                       rule(["argoproj.io"], ["applications"], ["create", "delete", "get", "list", "patch", "update", "watch"])]),
        ]:
            r = role_object("ClusterRole", name, rules, labels={"kubernetes.io/bootstrapping": "rbac-defaults"},
                            aggregation={"clusterRoleSelectors": [{"matchLabels": {f"rbac.authorization.k8s.io/aggregate-to-{name}": "true"}}]})
            ev = mks.request(c, who, "update", "clusterroles", ips, ua, name=name, group="rbac.authorization.k8s.io", req=r,
                             resp=created(c, r))
            self.look("controllers", f"the aggregation controller refreshes the built-in {name} role", ev)
        who, ua, ips = self.ctrl("certificate-controller")
        for _ in range(2):
            name = "csr-" + c.suffix()
            req = {"kind": "CertificateSigningRequest", "apiVersion": "certificates.k8s.io/v1", "metadata": {"name": name},
                   "spec": {"signerName": "kubernetes.io/kube-apiserver-client-kubelet", "usages": ["client auth"],
                            "username": f"system:node:{w.node()}"},
                   "status": {"conditions": [{"type": "Approved", "status": "True", "reason": "AutoApproved"}]}}
            ev = mks.request(c, who, "update", "certificatesigningrequests", ips, ua, name=name, subresource="approval",
                             group="certificates.k8s.io", req=req, resp=req)
            self.look("controllers", "the CSR approver approves a kubelet's certificate", ev)
        csr_ip = ["10.2.0.14"]
        kw = mks.sa(c, "kube-system", "kubelet-csr-approver")
        name = "csr-" + c.suffix()
        req = {"kind": "CertificateSigningRequest", "apiVersion": "certificates.k8s.io/v1", "metadata": {"name": name},
               "spec": {"signerName": "kubernetes.io/kubelet-serving", "usages": ["server auth"]},
               "status": {"conditions": [{"type": "Approved", "status": "True", "reason": "kubelet-csr-approver"}]}}
        ev = mks.request(c, kw, "update", "certificatesigningrequests", csr_ip, "kubelet-csr-approver/v1.2.2 (linux/amd64)",
                         name=name, subresource="approval", group="certificates.k8s.io", req=req, resp=req)
        self.look("controllers", "a kube-system approver approves a kubelet serving certificate", ev)
        who, ua, ips = self.ctrl("token-cleaner")
        ev = mks.request(c, who, "delete", "secrets", ips, ua, namespace="kube-system", name="bootstrap-token-" + c.suffix(6))
        self.look("controllers", "the token cleaner deletes an expired bootstrap token", ev)
        who, ua, ips = self.ctrl("bootstrap-signer")
        ev = mks.request(c, who, "update", "configmaps", ips, ua, namespace="kube-public", name="cluster-info")
        self.look("controllers", "the bootstrap signer updates cluster-info in kube-public", ev)
        who, ua, ips = self.ctrl("root-ca-cert-publisher")
        ev = mks.request(c, who, "create", "configmaps", ips, ua, namespace="kube-system")
        self.look("controllers", "the root CA publisher writes kube-root-ca.crt", ev)
        who, ua, ips = self.ctrl("job-controller")
        self.look("controllers", "the Job controller starts a nightly backup",
                  self.pod_create_by(who, ua, ips, "data", pod_spec([container("pg-dump", "docker.io/bitnami/postgresql:16.4.0",
                                                                               command=["/bin/sh", "-c", "pg_dump > /backup/db.sql"])],
                                                                    restart="OnFailure"),
                                     "Job", f"db-backup-{c.rng.randint(28900000, 28999999)}", "batch/v1"))
        who, ua, ips = self.ctrl("generic-garbage-collector")
        ev = mks.request(c, who, "delete", "pods", ips, ua, namespace="kube-system", name=f"canal-{c.suffix()}")
        self.look("controllers", "the garbage collector deletes an orphaned kube-system pod", ev)
        api = mks.user("system:apiserver", ["system:authenticated"], uid=c.uid())
        r = role_object("ClusterRole", "system:aggregate-to-edit", [rule([""], ["pods/exec", "pods/attach"], ["create", "delete"])])
        ev = mks.request(c, api, "update", "clusterroles", ["::1"], mks.UA_APISERVER, name="system:aggregate-to-edit",
                         group="rbac.authorization.k8s.io", req=r, resp=created(c, r))
        self.look("controllers", "the API server reconciles a bootstrap role after an upgrade", ev)
        kcm = mks.user("system:kube-controller-manager", ["system:authenticated"])
        ev = mks.request(c, kcm, "update", "leases", CONTROL_PLANE_IPS, mks.UA_KCM + "/leader-election", namespace="kube-system",
                         name="kube-controller-manager", group="coordination.k8s.io")
        self.look("controllers", "the controller manager renews its lease in kube-system", ev)
        sched = mks.user("system:kube-scheduler", ["system:authenticated"])
        ev = mks.request(c, sched, "create", "pods", CONTROL_PLANE_IPS, mks.UA_SCHEDULER, namespace="kube-system",
                         name=f"canal-{c.suffix()}", subresource="binding",
                         req={"kind": "Binding", "apiVersion": "v1", "metadata": {"name": "canal"},
                              "target": {"kind": "Node", "name": w.node()}})
        self.look("controllers", "the scheduler binds a kube-system pod", ev)

    def argocd_looks(self):
        w, c = self.w, self.ctx
        who, ua, ips = self.argocd()
        r = role_object("ClusterRole", "prometheus-operator", [
            rule(["monitoring.coreos.com"], ["alertmanagers", "prometheuses", "servicemonitors", "podmonitors",
                                             "prometheusrules", "thanosrulers"], ["*"]),
            rule(["apps"], ["statefulsets"], ["*"]),
            rule([""], ["configmaps", "secrets"], ["*"]),
            rule([""], ["pods"], ["list", "delete"])])
        ev = mks.request(c, who, "create", "clusterroles", ips, ua, group="rbac.authorization.k8s.io", req=r, resp=created(c, r))
        self.look("argocd", "Argo CD syncs the Prometheus operator's ClusterRole (verbs *)", ev)
        b = binding_object("ClusterRoleBinding", "prometheus-operator", "ClusterRole", "prometheus-operator",
                           [subj_sa("monitoring", "prometheus-operator")])
        ev = mks.request(c, who, "create", "clusterrolebindings", ips, ua, group="rbac.authorization.k8s.io", req=b,
                         resp=created(c, b))
        self.look("argocd", "Argo CD binds it", ev)
        r = role_object("ClusterRole", "cert-manager-controller-certificates", [
            rule(["cert-manager.io"], ["certificates", "certificates/status", "certificaterequests"], ["update", "patch"]),
            rule([""], ["secrets"], ["get", "list", "watch", "create", "update", "delete", "patch"])])
        ev = mks.request(c, who, "patch", "clusterroles", ips, ua, name="cert-manager-controller-certificates",
                         group="rbac.authorization.k8s.io", req=r, resp=created(c, r))
        self.look("argocd", "Argo CD syncs cert-manager's ClusterRole (secrets)", ev)
        ns = "shop"
        b = binding_object("RoleBinding", "shop-team-admin", "ClusterRole", "admin", [subj_group("acme:shop-team")], ns)
        ev = mks.request(c, who, "create", "rolebindings", ips, ua, namespace=ns, group="rbac.authorization.k8s.io", req=b,
                         resp=created(c, b))
        self.look("argocd", "Argo CD gives a team admin on its namespace", ev)
        spec = pod_spec([container("node-exporter", "quay.io/prometheus/node-exporter:v1.8.2",
                                   args=["--path.procfs=/host/proc", "--path.sysfs=/host/sys", "--path.rootfs=/host/root"])],
                        volumes=[host_path_volume("proc", "/proc"), host_path_volume("sys", "/sys"), host_path_volume("root", "/")],
                        host_network=True, host_pid=True, sa_name="node-exporter")
        obj = workload(c, "DaemonSet", "monitoring", "node-exporter", spec, created=False)
        ev = mks.request(c, who, "create", "daemonsets", ips, ua, namespace="monitoring", group="apps", req=obj,
                         resp=created(c, obj))
        self.look("argocd", "Argo CD creates the node-exporter DaemonSet", ev)
        dw, dua, dips = self.ctrl("daemon-set-controller")
        spec["nodeName"] = w.node()
        self.look("prometheus", "the DaemonSet controller creates a node-exporter pod (host network, PID, /proc, /sys, /)",
                  self.pod_create_by(dw, dua, dips, "monitoring", spec, "DaemonSet", "node-exporter"))
        fspec = pod_spec([container("falco", "docker.io/falcosecurity/falco:0.39.2", privileged=True)],
                         volumes=[host_path_volume(n, p) for n, p in [("proc", "/proc"), ("etc", "/etc"), ("dev", "/dev"),
                                                                       ("boot", "/boot"), ("lib-modules", "/lib/modules"),
                                                                       ("usr", "/usr"),
                                                                       ("containerd", "/run/containerd/containerd.sock")]],
                         sa_name="falco", tolerations=[{"operator": "Exists"}])
        obj = workload(c, "DaemonSet", "falco", "falco", fspec, created=False)
        ev = mks.request(c, who, "patch", "daemonsets", ips, ua, namespace="falco", name="falco", group="apps", req=obj,
                         resp=created(c, obj))
        self.look("argocd", "Argo CD upgrades Falco", ev)
        fspec["nodeName"] = w.node()
        self.look("controllers", "the DaemonSet controller creates a Falco pod (privileged, host paths)",
                  self.pod_create_by(dw, dua, dips, "falco", fspec, "DaemonSet", "falco"))
        obj = workload(c, "CronJob", "data", "db-backup",
                       pod_spec([container("pg-dump", "docker.io/bitnami/postgresql:16.4.0")], restart="OnFailure"),
                       created=False, schedule="0 3 * * *")
        ev = mks.request(c, who, "create", "cronjobs", ips, ua, namespace="data", group="batch", req=obj, resp=created(c, obj))
        self.look("argocd", "Argo CD creates a backup CronJob", ev)
        vwc = {"kind": "ValidatingWebhookConfiguration", "apiVersion": "admissionregistration.k8s.io/v1",
               "metadata": {"name": "cert-manager-webhook", "annotations": {"cert-manager.io/inject-ca-from-secret": "cert-manager/cert-manager-webhook-ca"}},
               "webhooks": [{"name": "webhook.cert-manager.io", "clientConfig": {"service": {"name": "cert-manager-webhook", "namespace": "cert-manager"}},
                             "failurePolicy": "Fail", "sideEffects": "None", "admissionReviewVersions": ["v1"]}]}
        ev = mks.request(c, who, "create", "validatingwebhookconfigurations", ips, ua, group="admissionregistration.k8s.io",
                         req=vwc, resp=created(c, vwc))
        self.look("argocd", "Argo CD creates cert-manager's validating webhook", ev)
        svc = {"kind": "Service", "apiVersion": "v1", "metadata": {"name": "ingress-nginx-controller", "namespace": "ingress-nginx",
                                                                   "annotations": {"loadbalancer.ovhcloud.com/flavor": "small"}},
               "spec": {"type": "LoadBalancer", "externalTrafficPolicy": "Local",
                        "ports": [{"name": "http", "port": 80, "targetPort": "http"}, {"name": "https", "port": 443, "targetPort": "https"}],
                        "selector": {"app.kubernetes.io/name": "ingress-nginx"}}}
        ev = mks.request(c, who, "create", "services", ips, ua, namespace="ingress-nginx", req=svc, resp=created(c, svc))
        self.look("argocd", "Argo CD creates the ingress controller's LoadBalancer", ev)
        ev = mks.event(c, who, "watch", "/api/v1/secrets?allowWatchBookmarks=true&resourceVersion=2270433&watch=true", ips, ua,
                       resource="secrets", stage="ResponseStarted")
        self.look("argocd", "Argo CD's cluster cache watches every secret", ev)
        ev = mks.event(c, who, "list", "/api/v1/secrets?limit=500", ips, ua, resource="secrets")
        self.look("argocd", "Argo CD's cluster cache lists every secret", ev)
        srv = mks.sa(c, "argocd", "argocd-server")
        ev = mks.request(c, srv, "get", "secrets", [w.pod_ip()], "argocd-server/v2.13.1+af54ef8 (linux/amd64)", namespace="argocd",
                         name="argocd-secret")
        self.look("argocd", "argocd-server reads its own secret", ev)

    def cert_manager(self):
        w, c = self.w, self.ctx
        ctl = mks.sa(c, "cert-manager", "cert-manager")
        ua = "cert-manager-controller/v1.16.1 (linux/amd64) cert-manager/9e2e6ebb"
        for verb, query in [("list", "limit=500"), ("watch", "allowWatchBookmarks=true&labelSelector=controller.cert-manager.io%2Ffao%3Dtrue&watch=true")]:
            ev = mks.event(c, ctl, verb, "/api/v1/secrets?" + query, [w.pod_ip()], ua, resource="secrets",
                           stage="ResponseStarted" if verb == "watch" else "ResponseComplete")
            self.look("cert-manager", f"cert-manager {verb}s secrets cluster-wide", ev)
        ns, app = w.app()
        ev = mks.request(c, ctl, "create", "secrets", [w.pod_ip()], ua, namespace=ns)
        self.look("cert-manager", "cert-manager stores a new certificate", ev)
        ev = mks.request(c, ctl, "update", "leases", [w.pod_ip()], ua + "/leader-election", namespace="kube-system",
                         name="cert-manager-controller", group="coordination.k8s.io")
        self.look("cert-manager", "cert-manager renews its leader lease in kube-system", ev)
        inj = mks.sa(c, "cert-manager", "cert-manager-cainjector")
        iua = "cainjector/v1.16.1 (linux/amd64) cert-manager/9e2e6ebb"
        for res, name in [("validatingwebhookconfigurations", "cert-manager-webhook"),
                          ("mutatingwebhookconfigurations", "cert-manager-webhook"),
                          ("validatingwebhookconfigurations", "kyverno-resource-validating-webhook-cfg")]:
            patch = {"webhooks": [{"name": "webhook.cert-manager.io", "clientConfig": {"caBundle": "LS0tLS1CRUdJTi..."}}]}
            ev = mks.request(c, inj, "patch", res, [w.pod_ip()], iua, name=name, group="admissionregistration.k8s.io",
                             req=patch, resp={"kind": "X", "metadata": {"name": name}})
            self.look("cert-manager", f"cainjector injects the CA into {res}/{name}", ev)
        ev = mks.request(c, inj, "update", "configmaps", [w.pod_ip()], iua, namespace="kube-system",
                         name="cert-manager-cainjector-leader-election")
        self.look("cert-manager", "cainjector's leader election ConfigMap in kube-system (older releases)", ev)
        wh = mks.sa(c, "cert-manager", "cert-manager-webhook")
        req = {"kind": "SubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
               "spec": {"resourceAttributes": {"verb": "create", "group": "cert-manager.io", "resource": "certificaterequests"},
                        "user": "system:serviceaccount:cert-manager:cert-manager"}}
        ev = mks.request(c, wh, "create", "subjectaccessreviews", [w.pod_ip()], "webhook/v1.16.1 (linux/amd64) cert-manager/9e2e6ebb",
                         group="authorization.k8s.io", req=req, resp=req)
        self.look("cert-manager", "cert-manager's webhook asks the API server who may do what", ev)

    def prometheus(self):
        w, c = self.w, self.ctx
        prom = mks.sa(c, "monitoring", "prometheus-k8s")
        pua = "Prometheus/2.55.0"
        for path in ["metrics", "metrics/cadvisor", "metrics/probes", "metrics/resource"]:
            node = w.node()
            ev = mks.event(c, prom, "get", f"/api/v1/nodes/{node}/proxy/{path}", [w.pod_ip()], pua, resource="nodes",
                           name=node, subresource="proxy")
            self.look("prometheus", f"Prometheus scrapes the kubelet's /{path} through the API server", ev)
        for res in ["pods", "endpoints", "services"]:
            ev = mks.event(c, prom, "watch", f"/api/v1/{res}?allowWatchBookmarks=true&watch=true", [w.pod_ip()], pua,
                           resource=res, stage="ResponseStarted")
            self.look("prometheus", f"Prometheus watches every {res}", ev)
        op = mks.sa(c, "monitoring", "prometheus-operator")
        oua = "PrometheusOperator/0.78.1"
        ev = mks.event(c, op, "list", "/api/v1/secrets?limit=500", [w.pod_ip()], oua, resource="secrets")
        self.look("prometheus", "the Prometheus operator lists secrets cluster-wide", ev)
        ev = mks.request(c, op, "update", "secrets", [w.pod_ip()], oua, namespace="monitoring", name="prometheus-k8s")
        self.look("prometheus", "the Prometheus operator writes Prometheus's configuration secret", ev)
        ksm = mks.sa(c, "monitoring", "kube-state-metrics")
        ev = mks.event(c, ksm, "watch", "/api/v1/secrets?allowWatchBookmarks=true&watch=true", [w.pod_ip()],
                       "kube-state-metrics/v2.13.0 (linux/amd64) kubernetes/$Format", resource="secrets", stage="ResponseStarted")
        self.look("prometheus", "kube-state-metrics watches every secret", ev)
        ev = mks.event(c, ksm, "list", "/api/v1/secrets?limit=500&resourceVersion=0", [w.pod_ip()],
                       "kube-state-metrics/v2.13.0 (linux/amd64) kubernetes/$Format", resource="secrets")
        self.look("prometheus", "kube-state-metrics lists every secret", ev)

    def incident(self):
        """Admins responding to an incident at night."""
        w, c = self.w, self.ctx
        admin, oncall = w.admin(), mks.oidc("sre-oncall@acme-shop.fr", ["acme:sre"])
        ip = c.pick(["90.118.41.201", "82.64.17.93"])
        kub = w.kubectl()
        ev = mks.request(c, admin, "patch", "deployments", [ip], kub, namespace="kube-system", name="coredns", group="apps",
                         query="fieldManager=kubectl-rollout",
                         req={"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2025-03-12T02:14:07+01:00"}}}}},
                         resp=created(c, workload(c, "Deployment", "kube-system", "coredns",
                                                  pod_spec([container("coredns", "registry.k8s.io/coredns/coredns:v1.11.3")]), created=False)))
        self.look("admins", "kubectl rollout restart deployment/coredns -n kube-system", ev)
        ev = mks.request(c, oncall, "patch", "deployments", [ip], kub, namespace="kube-system", name="coredns", subresource="scale",
                         group="apps", req={"spec": {"replicas": 4}},
                         resp={"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": {"name": "coredns", "namespace": "kube-system"},
                               "spec": {"replicas": 4}})
        self.look("admins", "CoreDNS scaled up during a DNS incident", ev)
        node = w.node()
        ev = mks.request(c, oncall, "patch", "nodes", [ip], kub, name=node, req={"spec": {"unschedulable": True}},
                         resp={"kind": "Node", "apiVersion": "v1", "metadata": {"name": node}, "spec": {"unschedulable": True}})
        self.look("admins", "kubectl cordon", ev)
        for _ in range(3):
            ns, app = w.app()
            pod = w.pod_name(app)
            ev = mks.request(c, oncall, "create", "pods", [ip], kub, namespace=ns, name=pod, subresource="eviction",
                             req={"kind": "Eviction", "apiVersion": "policy/v1", "metadata": {"name": pod, "namespace": ns}},
                             resp={"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201})
            self.look("admins", "kubectl drain evicts a pod", ev)
        ns, app = w.app()
        ev = mks.request(c, admin, "delete", "pods", [ip], kub, namespace=ns, name=w.pod_name(app),
                         query="gracePeriodSeconds=0")
        self.look("admins", "kubectl delete pod --force", ev)
        ns, app = w.app()
        ev = mks.request(c, oncall, "get", "pods", [ip], kub, namespace=ns, name=w.pod_name(app), subresource="log",
                         query=f"container={app}&follow=true&tailLines=200")
        self.look("admins", "kubectl logs -f", ev)
        ev = mks.event(c, oncall, "list", "/api/v1/events?limit=500", [ip], kub, resource="events")
        self.look("admins", "kubectl get events -A", ev)
        ev = mks.request(c, admin, "get", "secrets", [ip], kub, namespace="payments", name="payments-db-credentials")
        self.look("admins", "an admin reads an app's database password", ev)
        req = {"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
               "spec": {"resourceAttributes": {"namespace": "payments", "verb": "delete", "resource": "pods"}}}
        ev = mks.request(c, oncall, "create", "selfsubjectaccessreviews", [ip], kub, group="authorization.k8s.io", req=req,
                         resp=req)
        self.look("admins", "kubectl auth can-i delete pods", ev)
        ev = mks.event(c, oncall, "list", "/apis/metrics.k8s.io/v1beta1/nodes", [ip], kub, resource="nodes",
                       group="metrics.k8s.io", version="v1beta1")
        self.look("admins", "kubectl top nodes", ev)
        ev = mks.request(c, admin, "patch", "configmaps", [ip], kub, namespace="shop", name="storefront-config")
        self.look("admins", "an admin edits an app's ConfigMap", ev)
        ev = mks.request(c, admin, "patch", "cronjobs", [ip], kub, namespace="data", name="db-backup", group="batch",
                         req={"spec": {"suspend": True}},
                         resp=created(c, workload(c, "CronJob", "data", "db-backup",
                                                  pod_spec([container("pg-dump", "docker.io/bitnami/postgresql:16.4.0")]), created=False)))
        self.look("admins", "an admin suspends the backup CronJob during the incident", ev)
        ns, app = w.app()
        ev = mks.request(c, oncall, "get", "pods", [ip], kub, namespace=ns, name=w.pod_name(app), subresource="exec",
                         query=f"command=sh&command=-c&command=nslookup+kubernetes.default&container={app}&stdin=true&stdout=true&tty=true",
                         code=101, stage="ResponseStarted")
        self.look("admins", "on-call checks DNS from inside an app pod (exec)", ev)
        ev = mks.event(c, oncall, "get", f"/api/v1/nodes/{node}/proxy/stats/summary", [ip], kub, resource="nodes", name=node,
                       subresource="proxy")
        self.look("admins", "kubectl get --raw of a node's stats summary", ev)
        ev = mks.request(c, admin, "patch", "configmaps", [ip], kub, namespace="kube-system", name="coredns")
        self.look("admins", "on-call edits CoreDNS's Corefile to forward an internal zone", ev)
        spec = pod_spec([container("netshoot", "nicolaka/netshoot:v0.13", stdin=True)], restart="Never")
        req = pod_object(c, "shop", spec, name="netshoot", created=False)
        ev = mks.request(c, oncall, "create", "pods", [ip], kub, namespace="shop", req=req,
                         resp=pod_object(c, "shop", spec, name="netshoot"))
        self.look("admins", "kubectl run -it --rm netshoot in an app namespace", ev)

    def installs(self):
        """Ordinary work that creates RBAC objects and host-path pods: a Helm chart installed
        from a laptop, a log collector's pods, an app that mounts the node's time zone."""
        w, c = self.w, self.ctx
        who, ip, ua = w.human(), [w.human_ip()], "Helm/3.16.2"
        ns, app = "search", "search-api"
        sa_obj = {"kind": "ServiceAccount", "apiVersion": "v1", "metadata": {"name": app, "namespace": ns}}
        self.day("helm install: service account", mks.request(c, who, "create", "serviceaccounts", ip, ua, namespace=ns,
                                                               req=sa_obj, resp=created(c, sa_obj)))
        r = role_object("Role", f"{app}-leader-election", [rule([""], ["configmaps"], ["get", "list", "watch", "create", "update"]),
                                                            rule(["coordination.k8s.io"], ["leases"], ["get", "create", "update"])],
                        namespace=ns)
        self.day("helm install: the chart's Role", mks.request(c, who, "create", "roles", ip, ua, namespace=ns,
                                                              group="rbac.authorization.k8s.io", req=r, resp=created(c, r)))
        b = binding_object("RoleBinding", f"{app}-leader-election", "Role", f"{app}-leader-election", [subj_sa(ns, app)], ns)
        self.day("helm install: the chart's RoleBinding", mks.request(c, who, "create", "rolebindings", ip, ua, namespace=ns,
                                                                     group="rbac.authorization.k8s.io", req=b, resp=created(c, b)))
        obj = workload(c, "Deployment", ns, app, pod_spec([container(app, "ghcr.io/acme-shop/search-api:0.31.2")], sa_name=app),
                       created=False, replicas=2)
        self.day("helm install: the Deployment", mks.request(c, who, "create", "deployments", ip, ua, namespace=ns, group="apps",
                                                             req=obj, resp=created(c, obj)))
        self.day("helm install: the release secret", mks.request(c, who, "create", "secrets", ip, ua, namespace=ns))
        dw, dua, dips = self.ctrl("daemon-set-controller")
        for _ in range(2):
            spec = pod_spec([container("fluent-bit", "cr.fluentbit.io/fluent/fluent-bit:3.1.9",
                                       mounts=[{"name": "varlog", "mountPath": "/var/log"}])],
                            volumes=[host_path_volume("varlog", "/var/log"),
                                     host_path_volume("containers", "/var/lib/docker/containers"),
                                     host_path_volume("etcmachineid", "/etc/machine-id", "File")],
                            sa_name="fluent-bit", node_name=w.node())
            self.day("the DaemonSet controller creates a fluent-bit pod",
                     self.pod_create_by(dw, dua, dips, "logging", spec, "DaemonSet", "fluent-bit"))
        rw, rua, rips = self.ctrl("replicaset-controller")
        spec = pod_spec([container("ledger", "registry.acme-shop.fr/payments/api:4.2.7",
                                   mounts=[{"name": "tz", "mountPath": "/etc/localtime", "readOnly": True}])],
                        volumes=[host_path_volume("tz", "/etc/localtime", "File")], sa_name="ledger")
        self.day("an app pod mounts the node's time zone",
                 self.pod_create_by(rw, rua, rips, "payments", spec, "ReplicaSet", f"ledger-{c.hexs(9)}"))

    # ------------------------------------------------------------------ a day of traffic

    def traffic(self, n):
        w, c = self.w, self.ctx
        gens = [
            (12, self.t_kubelet_status), (10, self.t_lease), (8, self.t_kubelet_watch), (6, self.t_controller_status),
            (5, self.t_human_read), (3, self.t_human_apply), (2, self.t_ci_deploy), (3, self.t_app_pod),
            (3, self.t_argocd_sync), (2, self.t_cert_renew), (3, self.t_prom), (2, self.t_yacht_read),
            (2, self.t_csi), (2, self.t_coredns), (1, self.t_human_misc), (1, self.t_scanner), (2, self.t_hpa),
            (1, self.t_events), (1, self.t_sched),
        ]
        weights = [g[0] for g in gens]
        while len(self.ordinary) < n:
            c.rng.choices(gens, weights)[0][1]()

    def t_kubelet_status(self):
        w, c = self.w, self.ctx
        node = w.node()
        kind = c.pick(["node", "pod", "lease"])
        if kind == "node":
            ev = mks.request(c, mks.node_user(node), "patch", "nodes", [w.node_ips[node]], mks.UA_KUBELET, name=node,
                             subresource="status", req={"status": {"conditions": [{"type": "Ready", "status": "True"}]}},
                             resp={"kind": "Node", "apiVersion": "v1", "metadata": {"name": node}})
        elif kind == "pod":
            ns, app = w.app()
            ev = mks.request(c, mks.node_user(node), "patch", "pods", [w.node_ips[node]], mks.UA_KUBELET, namespace=ns,
                             name=w.pod_name(app), subresource="status",
                             req={"status": {"conditions": [{"type": "Ready", "status": "True"}]}},
                             resp={"kind": "Pod", "apiVersion": "v1", "metadata": {"name": app}})
        else:
            ev = mks.request(c, mks.node_user(node), "update", "leases", [w.node_ips[node]], mks.UA_KUBELET,
                             namespace="kube-node-lease", name=node, group="coordination.k8s.io",
                             req={"kind": "Lease", "spec": {"holderIdentity": node, "leaseDurationSeconds": 40}},
                             resp={"kind": "Lease", "metadata": {"name": node}})
        self.day("kubelet heartbeat", ev)

    def t_lease(self):
        c = self.ctx
        who, ua, name = c.pick([
            (mks.user("system:kube-controller-manager", ["system:authenticated"]), mks.UA_KCM + "/leader-election", "kube-controller-manager"),
            (mks.user("system:kube-scheduler", ["system:authenticated"]), mks.UA_SCHEDULER + "/leader-election", "kube-scheduler"),
            (mks.sa(c, "cert-manager", "cert-manager"), "cert-manager-controller/v1.16.1 (linux/amd64) cert-manager/9e2e6ebb/leader-election", "cert-manager-controller"),
            (mks.sa(c, "ingress-nginx", "ingress-nginx"), "nginx-ingress-controller/v1.11.3 (linux/amd64) ingress-nginx/abc", "ingress-nginx-leader"),
        ])
        ns = "ingress-nginx" if "ingress" in name else "kube-system"
        ev = mks.request(c, who, "update", "leases", [c.pick(CONTROL_PLANE_IPS) if "system:kube" in who["username"] else self.w.pod_ip()],
                         ua, namespace=ns, name=name, group="coordination.k8s.io",
                         req={"kind": "Lease", "spec": {"holderIdentity": name + "_" + c.uid()}}, resp={"kind": "Lease"})
        self.day("leader election", ev)

    def t_kubelet_watch(self):
        w, c = self.w, self.ctx
        node = w.node()
        ns, app = w.app()
        res = c.pick(["configmaps", "secrets", "configmaps"])
        name = "kube-root-ca.crt" if res == "configmaps" else f"{app}-db-credentials"
        verb = c.pick(["watch", "get", "list"])
        if verb == "get":
            ev = mks.request(c, mks.node_user(node), "get", res, [w.node_ips[node]], mks.UA_KUBELET, namespace=ns, name=name)
        else:
            q = f"fieldSelector=metadata.name%3D{name}&limit=500&resourceVersion=0" if verb == "list" else \
                f"allowWatchBookmarks=true&fieldSelector=metadata.name%3D{name}&resourceVersion={c.rng.randint(10 ** 6, 9 * 10 ** 6)}&timeout=7m52s&timeoutSeconds=472&watch=true"
            ev = mks.request(c, mks.node_user(node), verb, res, [w.node_ips[node]], mks.UA_KUBELET, namespace=ns, query=q,
                             stage=c.pick(["ResponseStarted", "ResponseComplete"]) if verb == "watch" else "ResponseComplete")
        self.day("kubelet keeps a pod's volumes current", ev)

    def t_controller_status(self):
        w, c = self.w, self.ctx
        name, res, group = c.pick([("deployment-controller", "deployments", "apps"), ("replicaset-controller", "replicasets", "apps"),
                                   ("endpointslice-controller", "endpointslices", "discovery.k8s.io"),
                                   ("statefulset-controller", "statefulsets", "apps"), ("job-controller", "jobs", "batch"),
                                   ("cronjob-controller", "cronjobs", "batch")])
        who, ua, ips = self.ctrl(name)
        ns, app = w.app()
        sub = None if res == "endpointslices" else "status"
        ev = mks.request(c, who, "update", res, ips, ua, namespace=ns, name=app if res != "endpointslices" else f"{app}-{c.suffix()}",
                         subresource=sub, group=group, req={"kind": "X", "metadata": {"name": app}},
                         resp={"kind": "X", "metadata": {"name": app}})
        self.day("a controller updates status", ev)

    def t_human_read(self):
        w, c = self.w, self.ctx
        who = c.pick([w.admin(), w.human(), w.human()])
        ns, app = w.app()
        verb, res, name, sub, q = c.pick([
            ("list", "pods", None, None, "limit=500"), ("get", "deployments", app, None, ""),
            ("get", "pods", w.pod_name(app), "log", f"container={app}&tailLines=100"),
            ("list", "services", None, None, "limit=500"), ("list", "events", None, None, "fieldSelector=involvedObject.name%3D" + app),
            ("get", "configmaps", f"{app}-config", None, ""), ("list", "ingresses", None, None, "limit=500"),
            ("list", "secrets", None, None, "limit=500"), ("get", "secrets", f"{app}-tls", None, ""),
        ])
        group = {"deployments": "apps", "ingresses": "networking.k8s.io"}.get(res, "")
        ev = mks.request(c, who, verb, res, [w.human_ip()], w.kubectl(), namespace=ns, name=name, subresource=sub,
                         group=group, query=q, reason=mks.ADMIN_REASON if who["username"] == "kubernetes-admin" else
                         f'RBAC: allowed by RoleBinding "devs/{ns}" of ClusterRole "edit" to Group "acme:developers"')
        self.day("a developer looks around", ev)

    def t_human_apply(self):
        w, c = self.w, self.ctx
        who = c.pick([w.admin(), w.human()])
        ns, app = w.app()
        kind = c.pick(["deployment", "configmap", "secret", "service", "ingress", "namespace", "pvc", "delete-pod", "job"])
        ip, ua = [w.human_ip()], w.kubectl()
        if kind == "deployment":
            obj = workload(c, "Deployment", ns, app, pod_spec([container(app, c.pick(APP_IMAGES), ports=[{"containerPort": 8080}])]),
                           created=False, replicas=c.pick([2, 3]))
            ev = mks.request(c, who, "patch", "deployments", ip, ua, namespace=ns, name=app, group="apps", req=obj, resp=created(c, obj))
        elif kind in ("configmap", "secret"):
            ev = mks.request(c, who, c.pick(["create", "patch", "update"]), kind + "s", ip, ua, namespace=ns, name=f"{app}-{kind}")
        elif kind == "service":
            svc = {"kind": "Service", "apiVersion": "v1", "metadata": {"name": app, "namespace": ns},
                   "spec": {"type": "ClusterIP", "ports": [{"port": 80, "targetPort": 8080}], "selector": {"app": app}}}
            ev = mks.request(c, who, "create", "services", ip, ua, namespace=ns, req=svc, resp=created(c, svc))
        elif kind == "ingress":
            ing = {"kind": "Ingress", "apiVersion": "networking.k8s.io/v1", "metadata": {"name": app, "namespace": ns},
                   "spec": {"ingressClassName": "nginx", "tls": [{"hosts": [f"{app}.acme-shop.fr"], "secretName": f"{app}-tls"}],
                            "rules": [{"host": f"{app}.acme-shop.fr"}]}}
            ev = mks.request(c, who, "create", "ingresses", ip, ua, namespace=ns, group="networking.k8s.io", req=ing, resp=created(c, ing))
        elif kind == "namespace":
            obj = {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": f"review-app-{c.rng.randint(1000, 2000)}"}}
            ev = mks.request(c, who, "create", "namespaces", ip, ua, req=obj, resp=created(c, obj))
        elif kind == "pvc":
            obj = {"kind": "PersistentVolumeClaim", "apiVersion": "v1", "metadata": {"name": f"{app}-data", "namespace": ns},
                   "spec": {"storageClassName": "csi-cinder-high-speed", "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": "20Gi"}}}}
            ev = mks.request(c, who, "create", "persistentvolumeclaims", ip, ua, namespace=ns, req=obj, resp=created(c, obj))
        elif kind == "job":
            obj = workload(c, "Job", ns, f"{app}-migrate-{c.suffix()}", pod_spec([container("migrate", c.pick(APP_IMAGES))], restart="Never"),
                           created=False)
            ev = mks.request(c, who, "create", "jobs", ip, ua, namespace=ns, group="batch", req=obj, resp=created(c, obj))
        else:
            ev = mks.request(c, who, "delete", "pods", ip, ua, namespace=ns, name=w.pod_name(app))
        self.day(f"a developer works: {kind}", ev)

    def t_ci_deploy(self):
        w, c = self.w, self.ctx
        ns, app = w.app()
        if c.rng.random() < 0.5:
            # A hosted CI runner: Linux.
            who, ips, ua = (mks.sa(c, "ci", "deployer"), [c.pick(CI_RUNNER_IPS)],
                            c.pick(["Helm/3.16.2", "kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46"]))
        else:
            who, ips, ua = mks.oidc("gitlab-ci@acme-shop.fr", ["acme:ci"]), [c.pick(CI_RUNNER_IPS)], "Helm/3.16.2"
        kind = c.pick(["deployments", "services", "configmaps", "secrets", "deployments"])
        if kind == "deployments":
            obj = workload(c, "Deployment", ns, app, pod_spec([container(app, c.pick(APP_IMAGES))]), created=False, replicas=3)
            ev = mks.request(c, who, "patch", kind, ips, ua, namespace=ns, name=app, group="apps", req=obj, resp=created(c, obj))
        elif kind == "services":
            svc = {"kind": "Service", "apiVersion": "v1", "metadata": {"name": app, "namespace": ns},
                   "spec": {"type": "ClusterIP", "ports": [{"port": 80}]}}
            ev = mks.request(c, who, "patch", kind, ips, ua, namespace=ns, name=app, req=svc, resp=created(c, svc))
        else:
            ev = mks.request(c, who, c.pick(["patch", "get"]), kind, ips, ua, namespace=ns,
                             name=f"sh.helm.release.v1.{app}.v{c.rng.randint(2, 90)}" if kind == "secrets" else f"{app}-config")
        self.day("CI deploys an app", ev)

    def t_app_pod(self):
        w, c = self.w, self.ctx
        ns, app = w.app()
        who, ua, ips = self.ctrl(c.pick(["replicaset-controller", "replicaset-controller", "statefulset-controller"]))
        spec = pod_spec([container(app, c.pick(APP_IMAGES), ports=[{"containerPort": 8080}],
                                   resources={"requests": {"cpu": "100m", "memory": "128Mi"}})], sa_name=app)
        self.day("a controller creates an app pod", self.pod_create_by(who, ua, ips, ns, spec, "ReplicaSet", f"{app}-{c.hexs(9)}"))

    def t_argocd_sync(self):
        w, c = self.w, self.ctx
        who, ua, ips = self.argocd()
        ns, app = w.app()
        verb, res, group = c.pick([("patch", "deployments", "apps"), ("patch", "services", ""), ("patch", "configmaps", ""),
                                   ("update", "applications", "argoproj.io"), ("patch", "applications", "argoproj.io"),
                                   ("get", "deployments", "apps"), ("list", "pods", "")])
        if verb == "list":
            ev = mks.request(c, who, verb, res, ips, ua, namespace=ns, query="limit=500")
        else:
            ev = mks.request(c, who, verb, res, ips, ua, namespace="argocd" if res == "applications" else ns,
                             name=app, group=group, req={"metadata": {"labels": {"app.kubernetes.io/instance": app}}} if verb != "get" else None,
                             resp={"kind": "X", "metadata": {"name": app}} if verb != "get" else None)
        self.day("Argo CD syncs", ev)

    def t_cert_renew(self):
        w, c = self.w, self.ctx
        who = mks.sa(c, "cert-manager", "cert-manager")
        ua = "cert-manager-controller/v1.16.1 (linux/amd64) cert-manager/9e2e6ebb"
        ns, app = w.app()
        verb, res, group, sub = c.pick([("create", "certificaterequests", "cert-manager.io", None),
                                        ("update", "certificates", "cert-manager.io", "status"),
                                        ("patch", "secrets", "", None), ("create", "orders", "acme.cert-manager.io", None)])
        ev = mks.request(c, who, verb, res, [w.pod_ip()], ua, namespace=ns, name=f"{app}-tls" if verb != "create" else None,
                         subresource=sub, group=group, req={"kind": "X", "metadata": {"name": f"{app}-tls"}} if res != "secrets" else None,
                         resp={"kind": "X", "metadata": {"name": f"{app}-tls-1"}} if res != "secrets" else None)
        self.day("cert-manager renews a certificate", ev)

    def t_prom(self):
        w, c = self.w, self.ctx
        who = mks.sa(c, "monitoring", "prometheus-k8s")
        ns, app = w.app()
        res = c.pick(["endpoints", "pods", "services"])
        ev = mks.event(c, who, "list", f"/api/v1/namespaces/{ns}/{res}?limit=500", [w.pod_ip()], "Prometheus/2.55.0",
                       resource=res, namespace=ns)
        self.day("Prometheus discovers targets", ev)

    def t_yacht_read(self):
        w, c = self.w, self.ctx
        verb = c.pick(["get", "list", "watch"])
        pool = w.nodes[0].rsplit("-node-", 1)[0]
        if verb == "get":
            ev = mks.request(c, self.yacht(), "get", "nodepools", [c.pick(YACHT_IPS)], mks.UA_YACHT, name=pool,
                             group="kube.cloud.ovh.com", version="v1alpha1")
        else:
            res = c.pick(["nodepools", "nodes", "pods"])
            ev = mks.request(c, self.yacht(), verb, res, [c.pick(YACHT_IPS)], mks.UA_YACHT,
                             group="kube.cloud.ovh.com" if res == "nodepools" else "", version="v1alpha1" if res == "nodepools" else "v1",
                             query="limit=500" if verb == "list" else "watch=true",
                             stage="ResponseStarted" if verb == "watch" else "ResponseComplete")
        self.day("yacht watches the cluster", ev)

    def t_csi(self):
        w, c = self.w, self.ctx
        ev = mks.request(c, self.csi(), c.pick(["get", "patch"]), "volumeattachments", [w.pod_ip()],
                         "csi-attacher/v4.6.1 (linux/amd64) kubernetes/$Format", name="csi-" + c.hexs(64), group="storage.k8s.io")
        self.day("the Cinder CSI controller attaches a volume", ev)

    def t_coredns(self):
        w, c = self.w, self.ctx
        who = mks.sa(c, "kube-system", "coredns")
        res = c.pick(["endpointslices", "services", "namespaces"])
        ev = mks.event(c, who, "watch", f"/apis/discovery.k8s.io/v1/{res}?watch=true" if res == "endpointslices" else f"/api/v1/{res}?watch=true",
                       [w.pod_ip()], "coredns/v1.11.3 (linux/amd64) kubernetes/$Format", resource=res,
                       group="discovery.k8s.io" if res == "endpointslices" else "", stage="ResponseComplete")
        self.day("CoreDNS watch ends", ev)

    def t_human_misc(self):
        w, c = self.w, self.ctx
        who = c.pick([w.admin(), w.human()])
        kind = c.pick(["ssar", "rollout", "scale", "version", "top", "ns-list"])
        ip, ua = [w.human_ip()], w.kubectl()
        ns, app = w.app()
        if kind == "ssar":
            req = {"kind": "SelfSubjectAccessReview", "spec": {"resourceAttributes": {"verb": "create", "resource": "deployments"}}}
            ev = mks.request(c, who, "create", "selfsubjectaccessreviews", ip, ua, group="authorization.k8s.io", req=req, resp=req)
        elif kind == "rollout":
            ev = mks.request(c, who, "patch", "deployments", ip, ua, namespace=ns, name=app, group="apps",
                             req={"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2025-03-12T10:00:00Z"}}}}},
                             resp={"kind": "Deployment", "metadata": {"name": app}})
        elif kind == "scale":
            ev = mks.request(c, who, "patch", "deployments", ip, ua, namespace=ns, name=app, subresource="scale", group="apps",
                             req={"spec": {"replicas": 5}}, resp={"kind": "Scale", "spec": {"replicas": 5}})
        elif kind == "version":
            ev = mks.event(c, who, "get", "/version?timeout=32s", ip, ua)
        elif kind == "top":
            ev = mks.event(c, who, "list", f"/apis/metrics.k8s.io/v1beta1/namespaces/{ns}/pods", ip, ua, resource="pods",
                           namespace=ns, group="metrics.k8s.io", version="v1beta1")
        else:
            ev = mks.event(c, who, "list", "/api/v1/namespaces?limit=500", ip, ua, resource="namespaces")
        self.day(f"kubectl {kind}", ev)

    def t_scanner(self):
        w, c = self.w, self.ctx
        uri = c.pick(["/", "/api/v1/namespaces/kube-system/secrets", "/api/v1/pods", "/.env", "/apis"])
        res = "secrets" if "secrets" in uri else ("pods" if "pods" in uri else None)
        ev = mks.event(c, mks.ANONYMOUS, "get" if res is None else "list", uri, [c.pick(["162.142.125.221", "167.94.138.35",
                                                                                          "71.6.199.23", "198.235.24.131"])],
                       c.pick(["Mozilla/5.0 (compatible; CensysInspect/1.1; +https://about.censys.io/)", "Expanse, a Palo Alto Networks company",
                               "python-requests/2.31.0"]),
                       resource=res, namespace="kube-system" if "kube-system" in uri else None, code=403, decision="forbid",
                       message=f'forbidden: User "system:anonymous" cannot get path "{uri}"')
        self.day("an Internet scanner is refused", ev)

    def t_hpa(self):
        w, c = self.w, self.ctx
        who, ua, ips = self.ctrl("horizontal-pod-autoscaler")
        ns, app = w.app()
        ev = mks.request(c, who, "update", "deployments", ips, ua, namespace=ns, name=app, subresource="scale", group="apps",
                         req={"kind": "Scale", "spec": {"replicas": c.rng.randint(2, 9)}}, resp={"kind": "Scale"})
        self.day("the HPA scales an app", ev)

    def t_events(self):
        w, c = self.w, self.ctx
        node = w.node()
        ns, app = w.app()
        ev = mks.request(c, mks.node_user(node), c.pick(["create", "patch"]), "events", [w.node_ips[node]], mks.UA_KUBELET,
                         namespace=ns, name=f"{app}.17f3a{c.hexs(11)}",
                         req={"kind": "Event", "reason": "Pulled", "message": "Successfully pulled image"},
                         resp={"kind": "Event", "metadata": {"name": app}})
        self.day("a kubelet records an event", ev)

    def t_sched(self):
        w, c = self.w, self.ctx
        sched = mks.user("system:kube-scheduler", ["system:authenticated"])
        ns, app = w.app()
        pod = w.pod_name(app)
        ev = mks.request(c, sched, "create", "pods", CONTROL_PLANE_IPS, mks.UA_SCHEDULER, namespace=ns, name=pod,
                         subresource="binding", req={"kind": "Binding", "target": {"kind": "Node", "name": w.node()}})
        self.day("the scheduler binds a pod", ev)

    def all(self, ordinary):
        self.ovh()
        self.kubelets()
        self.controllers()
        self.argocd_looks()
        self.cert_manager()
        self.prometheus()
        self.incident()
        self.installs()
        self.traffic(ordinary)
        return self.looks, self.ordinary
