# SPDX-License-Identifier: Apache-2.0
"""The cluster the corpus is a day of: node pools, nodes, namespaces, identities, addresses."""

import mks

POOLS = ["general-b2-15", "batch-c2-30"]
NAMESPACES = ["shop", "payments", "search", "web", "data", "staging"]
APPS = {
    "shop": ["storefront", "cart", "catalog"],
    "payments": ["payments-api", "ledger"],
    "search": ["search-api", "indexer"],
    "web": ["frontend", "blog"],
    "data": ["postgres", "redis"],
    "staging": ["storefront", "cart"],
}
APP_IMAGES = [
    "registry.acme-shop.fr/shop/storefront:2.14.1",
    "registry.acme-shop.fr/shop/cart:1.9.0",
    "registry.acme-shop.fr/payments/api:4.2.7",
    "docker.io/library/nginx:1.27.2",
    "docker.io/bitnami/postgresql:16.4.0",
    "docker.io/library/redis:7.4.1",
    "ghcr.io/acme-shop/search-api:0.31.2",
]

# Components OVHcloud runs in kube-system (Canal on this cluster).
OVH_DAEMONSETS = {
    "canal": {
        "containers": [("calico-node", "docker.io/calico/node:v3.28.2", True),
                       ("kube-flannel", "docker.io/flannel/flannel:v0.25.6", True)],
        "init": [("install-cni", "docker.io/calico/cni:v3.28.2", True),
                 ("flexvol-driver", "docker.io/calico/pod2daemon-flexvol:v3.28.2", True)],
        "host_network": True,
        "paths": ["/lib/modules", "/run/xtables.lock", "/var/run/calico", "/var/lib/calico",
                  "/opt/cni/bin", "/etc/cni/net.d", "/var/log/calico/cni",
                  "/usr/libexec/kubernetes/kubelet-plugins/volume/exec/nodeagent~uds",
                  "/run/flannel"],
    },
    "kube-proxy": {
        "containers": [("kube-proxy", "registry.k8s.io/kube-proxy:v1.31.1", True)],
        "init": [],
        "host_network": True,
        "paths": ["/run/xtables.lock", "/lib/modules"],
    },
    "csi-cinder-nodeplugin": {
        "containers": [
            ("node-driver-registrar", "registry.k8s.io/sig-storage/csi-node-driver-registrar:v2.10.1", None),
            ("liveness-probe", "registry.k8s.io/sig-storage/livenessprobe:v2.12.0", None),
            ("cinder-csi-plugin", "registry.k8s.io/provider-os/cinder-csi-plugin:v1.31.1", True),
        ],
        "init": [],
        "host_network": True,
        "paths": ["/var/lib/kubelet/plugins/cinder.csi.openstack.org",
                  "/var/lib/kubelet/plugins_registry", "/var/lib/kubelet", "/dev",
                  "/etc/kubernetes"],
    },
}
OVH_DEPLOYMENTS = {
    "coredns": ["registry.k8s.io/coredns/coredns:v1.11.3"],
    "metrics-server": ["registry.k8s.io/metrics-server/metrics-server:v0.7.2"],
    "calico-kube-controllers": ["docker.io/calico/kube-controllers:v3.28.2"],
    "konnectivity-agent": ["registry.k8s.io/kas-network-proxy/proxy-agent:v0.30.3"],
    "csi-cinder-controllerplugin": [
        "registry.k8s.io/sig-storage/csi-attacher:v4.6.1",
        "registry.k8s.io/sig-storage/csi-provisioner:v5.0.1",
        "registry.k8s.io/sig-storage/csi-snapshotter:v8.0.1",
        "registry.k8s.io/sig-storage/csi-resizer:v1.11.1",
        "registry.k8s.io/sig-storage/livenessprobe:v2.12.0",
        "registry.k8s.io/provider-os/cinder-csi-plugin:v1.31.1",
    ],
}

YACHT_IPS = ["141.95.162.17", "141.95.162.18"]
CONTROL_PLANE_IPS = ["141.95.162.40"]
OFFICE_IPS = ["203.0.113.10", "203.0.113.24", "203.0.113.77"]
HOME_IPS = ["90.118.41.201", "2a01:e0a:5c3:9a40:3d1e:77f2:1c04:b2a1", "82.64.17.93"]
ATTACKER_IPS = ["185.220.101.47", "45.133.1.88", "5.188.206.14", "198.51.100.73",
                "104.28.54.212", "2a0b:f4c2:2::19", "91.92.244.5", "194.26.192.71"]
CI_RUNNER_IPS = ["34.140.77.12", "35.205.19.246"]  # a hosted CI outside the cluster


class World:
    def __init__(self, ctx):
        self.ctx = ctx
        self.nodes = [f"{p}-node-{ctx.hexs(6)}" for p in POOLS for _ in range(3)]
        self.node_ips = {n: f"10.10.0.{10 + i * 7}" for i, n in enumerate(self.nodes)}

    def node(self):
        return self.ctx.pick(self.nodes)

    def pod_ip(self):
        return f"10.2.{self.ctx.rng.randint(0, 5)}.{self.ctx.rng.randint(2, 250)}"

    def ns(self):
        return self.ctx.pick(NAMESPACES)

    def app(self, ns=None):
        ns = ns or self.ns()
        return ns, self.ctx.pick(APPS[ns])

    def pod_name(self, app):
        return f"{app}-{self.ctx.hexs(9) if self.ctx.rng.random() < 0.7 else self.ctx.hexs(10)}-{self.ctx.suffix()}"

    # identities
    def admin(self):
        return mks.admin()

    def human(self):
        return mks.oidc(self.ctx.pick(["alice.martin@acme-shop.fr", "bob.nguyen@acme-shop.fr",
                                       "chloe.dubois@acme-shop.fr", "sre-oncall@acme-shop.fr"]),
                        ["acme:developers"])

    def attacker_user(self):
        return self.ctx.pick([
            mks.admin(),
            mks.oidc("m.leroy@acme-shop.fr", ["acme:developers"]),
            mks.oidc("ext-contractor@acme-shop.fr", ["acme:contractors"]),
            mks.oidc("qa-bot@acme-shop.fr"),
        ])

    def compromised_sa(self):
        ns, app = self.app()
        pod = self.pod_name(app)
        return mks.sa(self.ctx, ns, self.ctx.pick([app, "default"]), pod=pod, node=self.node())

    def attacker_ip(self):
        return self.ctx.pick(ATTACKER_IPS)

    def human_ip(self):
        return self.ctx.pick(OFFICE_IPS + HOME_IPS)

    def kubectl(self):
        return mks.ua_kubectl(self.ctx.rng)

    def old_kubectl(self):
        return mks.ua_kubectl(self.ctx.rng, self.ctx.pick(["v1.28.4", "v1.29.3", "v1.27.9"]))
