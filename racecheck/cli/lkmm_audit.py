"""``racecheck audit FILE.yaml``: the audit of a memory: lkmm scenario,
variant by variant (explore.lkmm_audit, report.lkmm_audit)."""

from __future__ import annotations

import json
import sys

from racecheck.errors import ScenarioError, UsageError
from racecheck.explore.executions import TooBig
from racecheck.explore.lkmm_audit import audit_variant
from racecheck.report.lkmm_audit import render_counterexamples, render_scenario_audit, scenario_audit_json

from .common import EXIT_BOUND, EXIT_OK, EXIT_USAGE, load_variants, worse


def run(paths: list, args) -> int:
    status, documents, printed = EXIT_OK, [], 0
    for path in paths:
        try:
            scenario, variants = load_variants(path, args.variant, memory=args.memory)
        except ScenarioError as exc:
            print(exc.render(), file=sys.stderr)
            status = worse(status, EXIT_USAGE)
            continue
        if scenario.memory != "lkmm":
            raise UsageError(f"{path} is checked under memory: sc, where no ordering is weaker than another; "
                             "give it memory: lkmm, or pass --memory lkmm")
        for variant in variants:
            try:
                audit = audit_variant(scenario, variant, args.max_candidates)
            except TooBig as exc:
                print(f"racecheck audit: {path}: {exc}", file=sys.stderr)
                status = worse(status, EXIT_BOUND)
                continue
            documents.append(scenario_audit_json(audit, path))
            if args.json:
                continue
            print(("\n" if printed else "") + render_scenario_audit(audit, path))
            printed += 1
            for text in render_counterexamples(audit):
                print("\n" + text)
    if args.json:
        print(json.dumps({"schema": "racecheck-audit", "schema_version": 1, "scenarios": documents}, indent=2))
    return status
