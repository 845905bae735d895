#!/usr/bin/env python3
"""Parsing and comparison behind scripts/bench-gate and scripts/bench-compare.

Kept in one standard-library-only file so the shell scripts stay short and the CI machine needs
nothing beyond python3. Subcommands:

  lock-version NAME LOCKFILE           print the version of package NAME in Cargo.lock
  icount-compare  --baseline F --summaries DIR --rustc S --valgrind S --gungraun S
                                       compare gungraun summary.json files with the baseline
  icount-bless    (same arguments) [--commit SHA] [--limits-from F]
                                       rewrite the baseline from the summaries, recording the
                                       commit the numbers were measured at; --limits-from takes
                                       the limits from another baseline (the gate's fresh base)
  icount-toolchain-matches (same, no --summaries)
                                       exit 0 when the baseline's toolchain is this one
  icount-baseline-commit --baseline F  print the commit recorded at bless time (exit 1: none)
  criterion-compare --criterion DIR --since EPOCH [--threshold PCT]
                                       read criterion's change/estimates.json files

Exit codes: 0 pass, 1 regression (or a benchmark missing), 2 usage or input error.
"""

import argparse
import json
import os
import sys
import tomllib

DEFAULT_LIMIT_PCT = 5.0
BASELINE_NOTE = (
    "Instruction counts (callgrind Ir) of bench/benches/icount.rs, compared by scripts/bench-gate. "
    "Regenerate with `scripts/bench-gate --bless` (on the CI machine kind, never with "
    "-C target-cpu=native). `limit_pct` per benchmark overrides `default_limit_pct`; "
    "the toolchain below is the one these numbers came from."
)


class InputError(Exception):
    """A file that is missing or not in the expected shape; the message says which and why."""


def fail_input(message):
    print(f"bench-gate: error: {message}", file=sys.stderr)
    sys.exit(2)


# --- Cargo.lock ------------------------------------------------------------------------------


def lock_version(name, lockfile):
    try:
        with open(lockfile, "rb") as handle:
            lock = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise InputError(f"{lockfile}: cannot read it as TOML: {error}") from error
    versions = sorted({p["version"] for p in lock.get("package", []) if p.get("name") == name})
    if len(versions) != 1:
        raise InputError(
            f"{lockfile}: expected exactly one version of package '{name}', found {versions or 'none'}"
        )
    return versions[0]


# --- gungraun summaries ----------------------------------------------------------------------


def benchmark_key(summary, path):
    """`group::function::id` (the file name is dropped: every summary here is from icount)."""
    try:
        module_path = summary["module_path"]
    except KeyError as error:
        raise InputError(f"{path}: no 'module_path' field (not a gungraun summary?)") from error
    parts = module_path.split("::")
    key = "::".join(parts[1:]) if len(parts) > 1 else module_path
    if summary.get("id"):
        key += "::" + summary["id"]
    return key


def summary_ir(summary, path):
    """The callgrind total Ir of one summary.json (schema version 7, gungraun 0.20)."""
    for profile in summary.get("profiles", []):
        if profile.get("tool") != "Callgrind":
            continue
        try:
            values = profile["data"]["total"]["metrics"]["Ir"]["values"]
            ir = values["new"]
        except (KeyError, TypeError) as error:
            raise InputError(
                f"{path}: callgrind profile without data.total.metrics.Ir.values.new ({error!r})"
            ) from error
        if not isinstance(ir, int):
            raise InputError(f"{path}: Ir is {ir!r}, expected an integer")
        return ir
    raise InputError(f"{path}: no Callgrind profile (was the bench run under another tool?)")


def read_summaries(directory):
    if not os.path.isdir(directory):
        raise InputError(f"{directory}: no such directory (did the benchmarks run?)")
    counts = {}
    for root, _dirs, files in os.walk(directory):
        if "summary.json" not in files:
            continue
        path = os.path.join(root, "summary.json")
        try:
            with open(path, encoding="utf-8") as handle:
                summary = json.load(handle)
        except (OSError, json.JSONDecodeError) as error:
            raise InputError(f"{path}: cannot read it as JSON: {error}") from error
        key = benchmark_key(summary, path)
        if key in counts:
            raise InputError(f"{path}: benchmark '{key}' appears twice under {directory}")
        counts[key] = summary_ir(summary, path)
    if not counts:
        raise InputError(f"{directory}: no summary.json files (GUNGRAUN_SAVE_SUMMARY unset?)")
    return counts


# --- the baseline file -----------------------------------------------------------------------


def toolchain_of(args):
    return {"rustc": args.rustc, "valgrind": args.valgrind, "gungraun": args.gungraun}


def read_baseline(path):
    try:
        with open(path, encoding="utf-8") as handle:
            baseline = json.load(handle)
    except FileNotFoundError as error:
        raise InputError(f"{path}: no baseline yet; create it with `scripts/bench-gate --bless`") from error
    except (OSError, json.JSONDecodeError) as error:
        raise InputError(f"{path}: cannot read it as JSON: {error}") from error
    for field in ("toolchain", "benchmarks"):
        if not isinstance(baseline.get(field), dict):
            raise InputError(f"{path}: expected an object field '{field}'")
    for key, entry in baseline["benchmarks"].items():
        if not isinstance(entry, dict) or not isinstance(entry.get("ir"), int):
            raise InputError(f"{path}: benchmark '{key}': expected {{\"ir\": <integer>, ...}}")
        limit = entry.get("limit_pct", baseline.get("default_limit_pct", DEFAULT_LIMIT_PCT))
        if not isinstance(limit, (int, float)) or limit < 0:
            raise InputError(f"{path}: benchmark '{key}': limit_pct must be a number >= 0")
    return baseline


def toolchain_differences(baseline, current):
    recorded = baseline.get("toolchain", {})
    return [
        (name, recorded.get(name, "<not recorded>"), value)
        for name, value in current.items()
        if recorded.get(name) != value
    ]


# --- tables ----------------------------------------------------------------------------------


def print_table(header, rows):
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

    def line(row):
        cells = [
            str(cell).ljust(widths[i]) if i == 0 or i == len(row) - 1 else str(cell).rjust(widths[i])
            for i, cell in enumerate(row)
        ]
        return "  ".join(cells).rstrip()

    print(line(header))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line(row))


def banner(lines):
    width = max(len(line) for line in lines) + 4
    print("!" * width)
    for line in lines:
        print(f"! {line.ljust(width - 4)} !")
    print("!" * width)


# --- icount subcommands ----------------------------------------------------------------------


def icount_compare(args):
    baseline = read_baseline(args.baseline)
    counts = read_summaries(args.summaries)
    differences = toolchain_differences(baseline, toolchain_of(args))
    default_limit = baseline.get("default_limit_pct", DEFAULT_LIMIT_PCT)
    recorded = baseline["benchmarks"]

    rows, regressions, missing, new, improved = [], [], [], [], []
    for key in sorted(set(recorded) | set(counts)):
        entry = recorded.get(key)
        now = counts.get(key)
        if entry is None:
            new.append(key)
            rows.append((key, "-", f"{now:,}", "-", "-", "NEW (not in baseline)"))
            continue
        limit = entry.get("limit_pct", default_limit)
        if now is None:
            missing.append(key)
            rows.append((key, f"{entry['ir']:,}", "-", "-", f"+{limit:g}%", "MISSING"))
            continue
        change = (now - entry["ir"]) / entry["ir"] * 100 if entry["ir"] else 0.0
        if differences:
            status = "not compared"
        elif change > limit:
            status = "REGRESSION"
            regressions.append(key)
        elif change < -limit:
            status = "improved"
            improved.append(key)
        else:
            status = "ok"
        rows.append(
            (key, f"{entry['ir']:,}", f"{now:,}", f"{change:+.2f}%", f"+{limit:g}%", status)
        )

    print()
    print_table(("benchmark", "baseline Ir", "now Ir", "change", "limit", "status"), rows)
    print()

    if differences:
        # Reached only when scripts/bench-gate could not build a base with this toolchain to
        # compare against instead; it says why.
        banner(
            [
                "TOOLCHAIN CHANGED and NO BASE COULD BE BUILT: NOTHING WAS GATED.",
                *[f"{name}: baseline {old!r}, now {new_value!r}" for name, old, new_value in differences],
                f"why no base: {args.no_base_reason or 'not given'}",
                "The gate passes only because it has nothing to compare with. Re-bless on the",
                "CI machine kind: scripts/bench-gate --bless",
            ]
        )
        return 0
    if new:
        print(f"bench-gate: {len(new)} benchmark(s) not in the baseline (bless to start gating them)")
    if improved:
        print(
            f"bench-gate: {len(improved)} benchmark(s) improved beyond their limit; "
            "bless to lock the gain in: scripts/bench-gate --bless"
        )
    if missing:
        print(
            f"bench-gate: FAIL: {len(missing)} baseline benchmark(s) were not measured "
            "(removed on purpose? then bless)"
        )
    if regressions:
        print(f"bench-gate: FAIL: {len(regressions)} benchmark(s) over their limit: {', '.join(regressions)}")
    if missing or regressions:
        return 1
    print(f"bench-gate: PASS: {len(counts)} benchmark(s) within their limits")
    return 0


def icount_bless(args):
    counts = read_summaries(args.summaries)
    previous = {}
    default_limit = DEFAULT_LIMIT_PCT
    limits_from = args.limits_from or args.baseline
    if os.path.exists(limits_from):
        old = read_baseline(limits_from)
        previous = old["benchmarks"]
        default_limit = old.get("default_limit_pct", DEFAULT_LIMIT_PCT)
    benchmarks = {}
    for key in sorted(counts):
        entry = {"ir": counts[key]}
        # Per-benchmark limits are a human decision: keep them across blessings.
        if "limit_pct" in previous.get(key, {}):
            entry["limit_pct"] = previous[key]["limit_pct"]
        benchmarks[key] = entry
    baseline = {
        "note": BASELINE_NOTE,
        "toolchain": toolchain_of(args),
        "commit": args.commit,
        "default_limit_pct": default_limit,
        "benchmarks": benchmarks,
    }
    with open(args.baseline, "w", encoding="utf-8") as handle:
        json.dump(baseline, handle, indent=2)
        handle.write("\n")
    dropped = sorted(set(previous) - set(counts))
    print(f"bench-gate: blessed {len(benchmarks)} benchmark(s) into {args.baseline}")
    for key in dropped:
        print(f"bench-gate: dropped from the baseline (no longer measured): {key}")
    for name, value in baseline["toolchain"].items():
        print(f"bench-gate:   {name}: {value}")
    print(f"bench-gate:   commit: {args.commit or '<not recorded>'}")
    return 0


def icount_baseline_commit(args):
    commit = read_baseline(args.baseline).get("commit")
    if not isinstance(commit, str) or not commit:
        return 1
    print(commit)
    return 0


def icount_toolchain_matches(args):
    baseline = read_baseline(args.baseline)
    return 1 if toolchain_differences(baseline, toolchain_of(args)) else 0


# --- criterion -------------------------------------------------------------------------------


def criterion_compare(args):
    if not os.path.isdir(args.criterion):
        raise InputError(f"{args.criterion}: no criterion output directory")
    rows, regressions = [], []
    for root, _dirs, files in os.walk(args.criterion):
        if os.path.basename(root) != "change" or "estimates.json" not in files:
            continue
        path = os.path.join(root, "estimates.json")
        # criterion keeps change/ of benchmarks that did not run this time: only read fresh ones.
        if os.path.getmtime(path) < args.since:
            continue
        try:
            with open(path, encoding="utf-8") as handle:
                estimates = json.load(handle)
            interval = estimates[args.statistic]["confidence_interval"]
            point = estimates[args.statistic]["point_estimate"]
            lower, upper = interval["lower_bound"], interval["upper_bound"]
        except (OSError, json.JSONDecodeError, KeyError, TypeError) as error:
            raise InputError(
                f"{path}: expected {{\"{args.statistic}\": {{\"point_estimate\", "
                f"\"confidence_interval\": {{\"lower_bound\", \"upper_bound\"}}}}}} ({error!r})"
            ) from error
        benchmark_dir = os.path.dirname(root)
        name = os.path.relpath(benchmark_dir, args.criterion)
        meta_path = os.path.join(benchmark_dir, "new", "benchmark.json")
        try:
            with open(meta_path, encoding="utf-8") as handle:
                name = json.load(handle).get("full_id", name)
        except (OSError, json.JSONDecodeError):
            pass  # the directory name is a fine fallback for the table
        if lower * 100 > args.threshold:
            status = "REGRESSION"
            regressions.append(name)
        elif upper * 100 < -args.threshold:
            status = "improved"
        else:
            status = "ok"
        rows.append(
            (name, f"{point * 100:+.2f}%", f"[{lower * 100:+.2f}%, {upper * 100:+.2f}%]", status)
        )
    if not rows:
        raise InputError(
            f"{args.criterion}: no change/estimates.json written by this run "
            "(did the baseline exist? criterion writes changes only when comparing)"
        )
    rows.sort()
    print()
    print_table(
        ("benchmark", f"{args.statistic} change", "confidence interval", "status"), rows
    )
    print()
    if regressions:
        print(
            f"bench-compare: FAIL: {len(regressions)} benchmark(s) slower by more than "
            f"{args.threshold:g}% even at the lower bound of the confidence interval"
        )
        return 1
    print(f"bench-compare: PASS: no change's lower bound exceeds +{args.threshold:g}%")
    return 0


# --- command line ----------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    lock = commands.add_parser("lock-version")
    lock.add_argument("name")
    lock.add_argument("lockfile")

    for name in ("icount-compare", "icount-bless", "icount-toolchain-matches"):
        command = commands.add_parser(name)
        command.add_argument("--baseline", required=True)
        command.add_argument("--rustc", required=True)
        command.add_argument("--valgrind", required=True)
        command.add_argument("--gungraun", required=True)
        if name != "icount-toolchain-matches":
            command.add_argument("--summaries", required=True)
        if name == "icount-compare":
            command.add_argument("--no-base-reason", default="")
        if name == "icount-bless":
            command.add_argument("--commit", default=None)
            command.add_argument("--limits-from", default=None)
    commit = commands.add_parser("icount-baseline-commit")
    commit.add_argument("--baseline", required=True)

    criterion = commands.add_parser("criterion-compare")
    criterion.add_argument("--criterion", required=True, help="target/criterion")
    criterion.add_argument("--since", type=float, required=True, help="epoch seconds of the run start")
    criterion.add_argument("--threshold", type=float, default=5.0, help="percent (default 5)")
    criterion.add_argument("--statistic", choices=("mean", "median"), default="mean")

    args = parser.parse_args()
    try:
        if args.command == "lock-version":
            print(lock_version(args.name, args.lockfile))
            return 0
        handler = {
            "icount-compare": icount_compare,
            "icount-bless": icount_bless,
            "icount-toolchain-matches": icount_toolchain_matches,
            "icount-baseline-commit": icount_baseline_commit,
            "criterion-compare": criterion_compare,
        }[args.command]
        return handler(args)
    except InputError as error:
        fail_input(str(error))
        return 2


if __name__ == "__main__":
    sys.exit(main())
