#!/usr/bin/env python3
"""Writes the held-out corpus: attacks.jsonl, lookalikes.jsonl, ordinary.jsonl (deterministic).

    python3 rules/tests/holdout/gen.py
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from gen_base import dump  # noqa: E402
from gen_attacks import A  # noqa: E402
from gen_lookalikes import L  # noqa: E402
from gen_ordinary import O  # noqa: E402


def key(row):
    return row["event"]["requestReceivedTimestamp"]


ids = [r["event"]["auditID"] for r in A + L + O]
assert len(ids) == len(set(ids)), "duplicate auditID"
for r in A + L + O:
    e = r["event"]
    assert e["stage"] in ("ResponseStarted", "ResponseComplete"), e
    if e.get("objectRef", {}).get("resource") in ("secrets", "configmaps"):
        assert e["level"] == "Metadata" and "requestObject" not in e and "responseObject" not in e, r["note"]
dump(os.path.join(HERE, "attacks.jsonl"), A)
dump(os.path.join(HERE, "lookalikes.jsonl"), L)
dump(os.path.join(HERE, "ordinary.jsonl"), sorted(O, key=key))
print(f"attacks {len(A)} ({len({r['technique'] for r in A})} techniques), look-alikes {len(L)} "
      f"({len({r['actor'] for r in L})} actors), ordinary {len(O)}")
