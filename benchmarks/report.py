"""Turn one run's results into the Markdown tables and the PNG chart the README shows.

The chart needs matplotlib, a benchmark-only dependency (``pip install '.[bench]'``); without
it the tables are still written and the chart is skipped with a message.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks import footprint, service_call_bench, token_bench


def markdown(results: dict[str, Any]) -> str:
    env = results["environment"]
    packages = ", ".join(f"{k} {v}" for k, v in env["packages"].items())
    parts = [
        f"Machine: {env['cpu']} ({env['cpus']} CPUs), Python {env['python']}, {env['platform']}."
        f" Packages: {packages}.",
        "",
        "### Read throughput and refresh storm (nacos-async against raw aiohttp, static token)",
        "",
        token_bench.markdown(results["token"]),
    ]
    if "peer" in results:
        parts += ["", "### Read throughput against nacos-sdk-python 2.0.11 (threads)", "",
                  _peer_table(results["peer"])]  # fmt: skip
    if "auth_client" in results:
        parts += ["", f"### Login scenarios: {results['auth_client']['contender']}", "",
                  _auth_client_table(results)]  # fmt: skip
    parts += ["", "### Config", "", _config_table(results["config"]),
              "", "### Naming", "", _naming_table(results["naming"])]  # fmt: skip
    if "service_call" in results:
        parts += ["", "### Service calls by name (ServiceSession against plain aiohttp)", "",
                  service_call_bench.markdown(results["service_call"])]  # fmt: skip
    if "footprint" in results:
        parts += ["", "### Start-up and footprint", "", footprint.markdown(results["footprint"])]
    return "\n".join(parts) + "\n"


def _peer_table(peer: dict[str, Any]) -> str:
    lines = [
        "| concurrency | nacos-async req/s | nacos-sdk-python req/s | ratio | nacos-async CPU s / 1,000 | nacos-sdk-python CPU s / 1,000 |",
        "|---|---|---|---|---|---|",
    ]
    for r in peer["read_throughput"]:
        lines.append(
            f"| {r['concurrency']} | {r['nacos_async_rps']} | {r['nacos_sdk_python_rps']} | "
            f"{r['throughput_ratio']}x | {r['nacos_async_cpu_s_per_1000']} | "
            f"{r['nacos_sdk_python_cpu_s_per_1000']} |"
        )
    return "\n".join(lines)


def _auth_client_table(results: dict[str, Any]) -> str:
    ours = max(results["token"]["throughput"], key=lambda r: r["concurrency"])
    revoked = results["token"]["revocation"]
    theirs = results["auth_client"]
    lines = [
        "| client | readers | token TTL | logins / lifetime | 403s surfaced |",
        "|---|---|---|---|---|",
        f"| nacos-async | {ours['concurrency']} | {ours['token_ttl']} s | "
        f"{ours['logins_per_lifetime']} | {ours['forbidden_surfaced']} |",
    ]
    for storm in theirs["storm"]:
        lines.append(
            f"| AuthClient | {storm['concurrency']} | {storm['token_ttl']} s | "
            f"{storm['logins_per_lifetime']} | {storm['forbidden_surfaced']} |"
        )
    r = theirs["revocation"]
    lines += [
        "",
        "| client under secret rotation | readers | rotations | surfaced errors | logins / rotation | replays / rotation |",
        "|---|---|---|---|---|---|",
        f"| nacos-async | {revoked['concurrency']} | {revoked['rotations']} | "
        f"{revoked['surfaced_errors']} | {revoked['forced_logins_per_rotation']} | "
        f"{revoked['replays_per_rotation']} |",
        f"| AuthClient | {r['concurrency']} | {r['rotations']} | {r['surfaced_errors']} | "
        f"{r['logins_per_rotation']} | {r['replays_per_rotation']} |",
    ]
    return "\n".join(lines)


def _config_table(config: dict[str, Any]) -> str:
    lat, mem, md5 = config["latency"], config["memory"], config["md5_polling"]
    growth = (mem["rss_mb_after"] or 0) - (mem["rss_mb_before"] or 0)
    return "\n".join([
        "| figure | value |",
        "|---|---|",
        f"| publish-to-callback latency (long-poll) | p50 {lat['p50_ms']:.1f} ms, p99 {lat['p99_ms']:.1f} ms |",
        f"| memory for {mem['keys']:,} watched keys | +{growth:.1f} MiB (RSS {mem['rss_mb_after']:.0f} MiB) |",
        f"| MD5 polling (3.2), {md5['keys']:,} keys | {md5['server_reads_per_second']} server reads/s in total (budget {md5['budget']}/s) |",
    ])  # fmt: skip


def _naming_table(naming: dict[str, Any]) -> str:
    h = naming["heartbeats"]
    return "\n".join([
        "| figure | value |",
        "|---|---|",
        f"| {h['instances']:,} instances heartbeating (5 s) | {h['cpu_share_of_one_core']:.1%} of one core, "
        f"{h['cpu_us_per_beat']} µs per beat |",
        f"| beats sent / expected over {h['seconds']} s | {h['beats']:,} / {h['beats_expected']:,} |",
        f"| list_instances, {h['instances']:,} instances | p50 {h['list_p50_ms']} ms, p99 {h['list_p99_ms']} ms |",
    ])  # fmt: skip


def chart(results: dict[str, Any], path: Path) -> bool:
    """Write the summary chart to ``path``; False when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, axes = plt.subplots(2, 3, figsize=(15, 8.5))
    (ratio_ax, peer_ax, login_ax), (rotation_ax, size_ax, import_ax) = axes

    rows = results["token"]["throughput"]
    labels = [str(r["concurrency"]) for r in rows]
    xs = range(len(rows))
    ratio_ax.bar(
        [x - 0.2 for x in xs], [r["throughput_ratio"] for r in rows], 0.4, label="throughput"
    )
    ratio_ax.bar(
        [x + 0.2 for x in xs],
        [r["cpu_per_request_ratio"] for r in rows],
        0.4,
        label="CPU / request",
    )
    ratio_ax.axhline(1.0, color="grey", linewidth=0.8)
    ratio_ax.set(title="nacos-async / raw aiohttp (static token)", xlabel="concurrency",
                 xticks=list(xs), xticklabels=labels)  # fmt: skip
    ratio_ax.legend()

    if "peer" in results:
        peer = results["peer"]["read_throughput"]
        px = range(len(peer))
        peer_ax.bar(
            [x - 0.2 for x in px], [r["nacos_async_rps"] for r in peer], 0.4, label="nacos-async"
        )
        peer_ax.bar([x + 0.2 for x in px], [r["nacos_sdk_python_rps"] for r in peer], 0.4,
                    label="nacos-sdk-python 2.0.11")  # fmt: skip
        peer_ax.set(title="config reads per second", xlabel="concurrency", xticks=list(px),
                    xticklabels=[str(r["concurrency"]) for r in peer])  # fmt: skip
        peer_ax.legend(loc="center right")

    ours = max(rows, key=lambda r: r["concurrency"])
    login_names = [f"nacos-async\n{ours['concurrency']} readers\nTTL {ours['token_ttl']} s"]
    login_values = [ours["logins_per_lifetime"]]
    rotation_names = ["nacos-async"]
    rotation_values = [results["token"]["revocation"]["surfaced_errors"]]
    if "auth_client" in results:
        for storm in results["auth_client"]["storm"]:
            login_names.append(
                f"3.x AuthClient\n{storm['concurrency']} readers\nTTL {storm['token_ttl']} s"
            )
            login_values.append(storm["logins_per_lifetime"])
        rotation_names.append("3.x AuthClient")
        rotation_values.append(results["auth_client"]["revocation"]["surfaced_errors"])
    login_ax.bar(
        login_names, login_values, color=["tab:blue"] + ["tab:red"] * (len(login_names) - 1)
    )
    login_ax.set_yscale("log")
    login_ax.set(title="logins per token lifetime (log)")
    rotation_ax.bar(
        rotation_names, rotation_values, color=["tab:blue", "tab:red"][: len(rotation_names)]
    )
    rotation_ax.set_yscale("symlog")
    for i, value in enumerate(rotation_values):
        rotation_ax.annotate(f"{value:,}", (i, value), ha="center", va="bottom")
    for i, value in enumerate(login_values):
        login_ax.annotate(f"{value:g}", (i, value), ha="center", va="bottom")
    rotation_ax.set(title="errors surfaced under secret rotation (symlog)")

    prints = results.get("footprint", {}).get("footprint", [])
    names = [f"{p['distribution']}\n{p['version']}" for p in prints]
    size_ax.bar(names, [p["installed_mib"] for p in prints], color="tab:green")
    size_ax.set(title="installed size with dependencies (MiB)")
    for i, p in enumerate(prints):
        size_ax.annotate(
            f"{p['packages']} packages", (i, p["installed_mib"]), ha="center", va="bottom"
        )
    import_ax.bar(names, [p["import_ms"] for p in prints], color="tab:purple")
    import_ax.set(title="import time (ms)")

    env = results["environment"]
    fig.suptitle(
        f"nacos-async benchmarks — {env['cpu']}, {env['cpus']} CPUs, Python {env['python']}"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return True
