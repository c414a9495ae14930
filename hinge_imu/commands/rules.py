"""``hinge-imu rules``: print the default rules file, or check one."""

from __future__ import annotations

import argparse

NAME = "rules"
HELP = "print the default rules TOML (to copy and edit), or check a rules file"
ORDER = 90


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--check", metavar="FILE", help="validate FILE and list its rules")


def run(args: argparse.Namespace) -> int:
    from hinge_imu.core.rules import default_rules_text, load_rules

    if args.check is None:
        print(default_rules_text(), end="")
        return 0
    rules = load_rules(args.check)
    for r in rules.rules:
        conds = " or ".join(map(str, r.fires_when)) or "not assessed (not observable)"
        guard = f" (only if {' and '.join(map(str, r.only_if))})" if r.only_if else ""
        print(f"{r.rule_id:15s} weight {r.weight:4g}  fires when {conds}{guard}")
    print(f"a rep is bad when a rule of weight ≥ {rules.bad_rep_min_weight:g} fires")
    return 0
