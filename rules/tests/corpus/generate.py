#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the detection corpus: one day of audit events of an MKS cluster.

    python3 rules/tests/corpus/generate.py

- attacks.jsonl:    {"technique", "note", "event"}: several variants of each technique of
                    issue 11, allowed and refused, by people, stolen credentials and controllers;
- lookalikes.jsonl: {"actor", "note", "event"}: OVH's agents, kubelets, controllers, Argo CD,
                    cert-manager, Prometheus and admins during an incident doing things that
                    resemble the techniques;
- ordinary.jsonl:   {"note", "event"}: the rest of the day.

Deterministic (fixed seed): rerunning it rewrites the same files. The events are written for
the behaviour, not for the rules: names, namespaces, images and addresses are those of a
made-up shop (acme-shop.fr), unrelated to the rule examples.
"""

import datetime
import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import mks  # noqa: E402
from attacks import Attacks  # noqa: E402
from benign import Benign  # noqa: E402
from variants import Variants  # noqa: E402
from world import World  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ORDINARY = 560


def retime(ctx, rows):
    """Spreads every event over the day in a shuffled order, keeping each event's duration."""
    order = list(range(len(rows)))
    ctx.rng.shuffle(order)
    t = datetime.datetime.fromisoformat("2025-03-12T00:00:05+00:00")
    step = 86000 / len(rows)
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ"
    for i in order:
        ev = rows[i][-1]
        t += datetime.timedelta(seconds=ctx.rng.uniform(0.2 * step, 1.8 * step))
        a = datetime.datetime.strptime(ev["requestReceivedTimestamp"], fmt)
        b = datetime.datetime.strptime(ev["stageTimestamp"], fmt)
        ev["requestReceivedTimestamp"] = t.strftime(fmt)
        ev["stageTimestamp"] = (t + (b - a)).strftime(fmt)


def write(name, rows, key):
    with open(os.path.join(HERE, name), "w") as f:
        for label, note, ev in rows:
            line = {key: label, "note": note, "event": ev} if key else {"note": note, "event": ev}
            f.write(mks.dumps(line) + "\n")


def main():
    ctx = mks.Ctx(20250312)
    world = World(ctx)
    attacks = Attacks(ctx, world).all()
    looks, ordinary = Benign(ctx, world).all(ORDINARY)
    more_attacks, more_looks, more_ordinary = Variants(ctx, world).all()
    attacks += more_attacks
    looks += more_looks
    ordinary += more_ordinary
    retime(ctx, attacks + looks + ordinary)
    ids = [ev["auditID"] for *_, ev in attacks + looks + ordinary]
    assert len(ids) == len(set(ids)), "auditIDs must be unique"
    write("attacks.jsonl", attacks, "technique")
    write("lookalikes.jsonl", looks, "actor")
    write("ordinary.jsonl", ordinary, None)
    techniques = sorted({t for t, _, _ in attacks})
    print(f"{len(attacks)} attack events over {len(techniques)} techniques, "
          f"{len(looks)} look-alikes, {len(ordinary)} ordinary events")


if __name__ == "__main__":
    main()
