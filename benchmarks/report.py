"""Turn one run's results into the Markdown tables and the PNG chart the README shows.

Every figure that the issue sets a target for is shown with its target and gap (in its own
table and in the summary at the top), as median (min-max) over repeats, beside the noise row.
The chart needs matplotlib, a benchmark-only dependency (``pip install '.[bench]'``); without
it the tables are still written and the chart is skipped with a message.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks import (
    footprint,
    grpc_bench,
    naming_bench,
    peer_bench,
    service_call_bench,
    token_bench,
)
from benchmarks._compare import spread_text, target_text


def markdown(results: dict[str, Any]) -> str:
    env = results["environment"]
    packages = ", ".join(f"{k} {v}" for k, v in env["packages"].items())
    parts = [
        f"Machine: {env['cpu']} ({env['cpus']} CPUs), Python {env['python']}, {env['platform']}."
        f" Packages: {packages}.",
        "",
        "Ratios are median (min-max) over repeats, contenders alternating in one run; the noise "
        "rows compare raw aiohttp with itself.",
        "",
        "### Targets",
        "",
        _targets_table(results),
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
    parts += ["", "### Config", "", _config_table(results["config"])]
    if "grpc" in results:
        parts += ["", "### Config reads: gRPC, HTTP and nacos-sdk-python 3.2.0", "",
                  grpc_bench.markdown(results["grpc"])]  # fmt: skip
    parts += ["", "### Naming", "", _naming_table(results["naming"])]
    if "grpc" in results["naming"]:
        parts += ["", "### Naming over gRPC, over HTTP and by nacos-sdk-python 3.2.0 (3.2)", "",
                  naming_bench.grpc_markdown(results["naming"]["grpc"])]  # fmt: skip
    if "service_call" in results:
        parts += ["", "### Service calls by name (ServiceSession against plain aiohttp)", "",
                  service_call_bench.markdown(results["service_call"])]  # fmt: skip
    if "footprint" in results:
        parts += ["", "### Start-up and footprint", "", footprint.markdown(results["footprint"])]
    return "\n".join(parts) + "\n"


def targeted_rows(results: dict[str, Any]) -> list[tuple[str, dict[str, float], dict[str, Any]]]:
    """(figure, spread, judged target) for every figure with a target, in report order."""
    rows = []
    for r in results["token"]["throughput"]:
        for name in ("request", "config.get"):
            ratios = r["vs_raw"][name]
            rows += [
                (f"{name} throughput vs raw, concurrency {r['concurrency']}",
                 ratios["throughput"], ratios["throughput_target"]),
                (f"{name} CPU/request vs raw, concurrency {r['concurrency']}",
                 ratios["cpu_per_request"], ratios["cpu_target"]),
            ]  # fmt: skip
    for r in results.get("peer", {}).get("read_throughput", []):
        rows.append((f"throughput vs nacos-sdk-python 2.0.11, concurrency {r['concurrency']}",
                     r["vs_nacos_sdk_python"], r["target"]))  # fmt: skip
    for r in results["config"]["delivery"]:
        if "target" in r:  # one figure, not repeated: its spread is the figure itself
            p50 = {"min": r["p50_ms"], "median": r["p50_ms"], "max": r["p50_ms"]}
            rows.append((f"{r['mode']} p50 ms, {r['keys']:,} watched keys", p50, r["target"]))
    for h in results["naming"]["heartbeats"]:
        rows.append((f"CPU per {h['beats_api']} beat vs raw ({h['flavor']})", h["vs_raw"],
                     h["target"]))  # fmt: skip
        rows.append((f"list_instances p50 ms, {h['instances']:,} instances ({h['flavor']})",
                     h["list_p50_ms"], h["list_target"]))  # fmt: skip
    hold = results["naming"].get("grpc", {}).get("holding")
    if hold is not None:
        rows.append((f"share of a core holding {hold['instances']:,} instances over gRPC",
                     hold["share_of_one_core"][naming_bench.GRPC], hold["target"]))  # fmt: skip
    for f in results.get("footprint", {}).get("footprint", []):
        if "target" in f:
            rows.append((f"{f['contender']} import time vs aiohttp", f["import_vs_aiohttp"],
                         f["target"]))  # fmt: skip
    return rows


def read_noise(results: dict[str, Any]) -> str:
    """How far this run's read noise rows (raw against raw) strayed from 1: a read ratio that
    close to its target is decided by the machine's noise, not by the client."""
    rows = [r["vs_raw"]["raw again (noise)"] for r in results["token"]["throughput"]]
    cpu = max(abs(row["cpu_per_request"]["median"] - 1) for row in rows)
    speed = max(abs(row["throughput"]["median"] - 1) for row in rows)
    return (
        f"In this run the read noise rows (raw aiohttp against itself) strayed from 1 by up to "
        f"{cpu:.3f} in CPU per request and {speed:.3f} in throughput (medians): a read ratio "
        "that close to its target is not decided by this run."
    )


def _targets_table(results: dict[str, Any]) -> str:
    rows = targeted_rows(results)
    met = sum(judged["met"] for _, _, judged in rows)
    lines = [f"{met} of {len(rows)} targets met (judged on the median).", "",
             read_noise(results), "",
             "| figure | median (min-max) | target, gap |", "|---|---|---|"]  # fmt: skip
    lines += [f"| {name} | {spread_text(s)} | {target_text(t)} |" for name, s, t in rows]
    return "\n".join(lines)


def _peer_table(peer: dict[str, Any]) -> str:
    lines = [
        "| concurrency | nacos-async req/s | nacos-sdk-python req/s | ratio | target | CPU/request ratio | nacos-async vs raw | raw vs raw (noise) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in peer["read_throughput"]:
        lines.append(
            f"| {r['concurrency']} | {r['nacos_async_rps']} | {r['nacos_sdk_python_rps']} | "
            f"{spread_text(r['vs_nacos_sdk_python'])} | {target_text(r['target'])} | "
            f"{spread_text(r['cpu_vs_nacos_sdk_python'])} | {spread_text(r['vs_raw'])} | "
            f"{spread_text(r['noise_raw_vs_raw'])} |"
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
    lines = [
        "Publish-to-listener latency against the number of watched keys (keys picked at random;"
        " on a polling watcher, publishes spread over one polling cycle):",
        "",
        "| watching by | keys | time to start watching | p50 | p99 | samples | watcher requests per change | watcher requests/s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in config["delivery"]:
        lines.append(
            f"| {r['mode']} | {r['keys']:,} | {r['start_watching_s'] * 1000:.0f} ms | "
            f"{r['p50_ms']:,} ms | {r['p99_ms']:,} ms | {r['samples']} | "
            f"{r['watcher_requests_per_change']} | {r['watcher_requests_per_s']} |"
        )
    mem = config["memory"]
    growth = (mem["rss_mb_after"] or 0) - (mem["rss_mb_before"] or 0)
    lines += [
        "",
        f"Memory for {mem['keys']:,} watched keys: +{growth:.1f} MiB "
        f"(RSS {mem['rss_mb_after']:.0f} MiB in all).",
    ]
    return "\n".join(lines)


def _naming_table(naming: dict[str, Any]) -> str:
    lines = [
        "Heartbeats: the contenders beat at the same time, each in its own process (the three"
        " on one core, the dev server on the other), and each measures its own CPU over the"
        " same windows.",
        "",
        "| flavor (beats) | instances, interval | CPU per beat: nacos-async / raw / raw again | nacos-async vs raw | target | raw vs raw (noise) | beats: nacos-async / raw / raw again / expected | share of one core | list_instances p50 | raw aiohttp's list p50 (GET + json.loads, beside it) | nacos-async vs raw | target |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for h in naming["heartbeats"]:
        cpu = h["cpu_us_per_beat"]
        per_beat = " / ".join(f"{cpu[name]['median']:g} µs" for name in cpu)
        sent = " / ".join(f"{n:,}" for n in h["beats"].values())
        lines.append(
            f"| {h['flavor']} ({h['beats_api']}) | {h['instances']:,}, {h['beat_ms'] / 1000:g} s | "
            f"{per_beat} | {spread_text(h['vs_raw'])} | {target_text(h['target'])} | "
            f"{spread_text(h['noise_raw_vs_raw'])} | {sent} / {h['beats_expected']:,} | "
            f"{h['cpu_share_of_one_core']:.1%} | {spread_text(h['list_p50_ms'], ' ms')} | "
            f"{spread_text(h['raw_list_p50_ms'], ' ms')} | {spread_text(h['list_vs_raw'])} | "
            f"{target_text(h['list_target'])} |"
        )
    return "\n".join(lines)


def _bars(
    ax: Any, xs: list[float], spreads: list[dict[str, float]], width: float, **kw: Any
) -> None:
    """Bars at the medians with min-max whiskers."""
    medians = [s["median"] for s in spreads]
    whiskers = [[m - s["min"] for m, s in zip(medians, spreads, strict=True)],
                [s["max"] - m for m, s in zip(medians, spreads, strict=True)]]  # fmt: skip
    ax.bar(xs, medians, width, yerr=whiskers, capsize=2, **kw)


def chart(results: dict[str, Any], path: Path) -> bool:
    """Write the summary chart to ``path``; False when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, axes = plt.subplots(2, 4, figsize=(22, 9))
    (ratio_ax, peer_ax, login_ax, rotation_ax), (config_ax, beat_ax, size_ax, import_ax) = axes

    rows = results["token"]["throughput"]
    xs = list(range(len(rows)))
    series = [("request", "throughput"), ("config.get", "throughput"),
              ("raw aiohttp again (noise)", "throughput"), ("request", "cpu_per_request"),
              ("config.get", "cpu_per_request")]  # fmt: skip
    width = 0.8 / len(series)
    for k, (name, figure) in enumerate(series):
        key = "raw again (noise)" if name.startswith("raw") else name
        label = f"{name} {'CPU/request' if figure == 'cpu_per_request' else 'throughput'}"
        _bars(ratio_ax, [x - 0.4 + width * (k + 0.5) for x in xs],
              [r["vs_raw"][key][figure] for r in rows], width, label=label)  # fmt: skip
    for target, style in ((token_bench.THROUGHPUT_TARGET, "--"), (token_bench.CPU_TARGET, ":")):
        ratio_ax.axhline(target.value, color="black", linestyle=style, linewidth=0.8,
                         label=f"target {target.op} {target.value:g}")  # fmt: skip
    ratio_ax.set(title="nacos-async / raw aiohttp (static token)", xlabel="concurrency",
                 xticks=xs, xticklabels=[str(r["concurrency"]) for r in rows])  # fmt: skip
    highest = max((r["vs_raw"][k][f]["max"] for r in rows for k in r["vs_raw"]
                   for f in ("throughput", "cpu_per_request")), default=1.0)  # fmt: skip
    ratio_ax.set_ylim(0, highest * 1.45)  # room for the legend above the bars
    ratio_ax.legend(fontsize=7, ncol=2, loc="upper left")

    if "peer" in results:
        peer = results["peer"]["read_throughput"]
        _bars(peer_ax, list(range(len(peer))), [r["vs_nacos_sdk_python"] for r in peer], 0.5)
        peer_ax.axhline(peer_bench.PEER_TARGET.value, color="black", linestyle="--",
                        linewidth=0.8, label=f"target {peer_bench.PEER_TARGET.op} "
                        f"{peer_bench.PEER_TARGET.value:g}")  # fmt: skip
        peer_ax.set(title="config reads/s: nacos-async / nacos-sdk-python 2.0.11",
                    xlabel="concurrency", xticks=list(range(len(peer))),
                    xticklabels=[str(r["concurrency"]) for r in peer])  # fmt: skip
        peer_ax.legend()

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

    modes: dict[str, list[dict[str, Any]]] = {}
    for r in results["config"]["delivery"]:
        modes.setdefault(r["mode"], []).append(r)
    for mode, points in modes.items():
        line = config_ax.plot([p["keys"] for p in points], [p["p50_ms"] for p in points],
                              marker="o", label=f"{mode} p50")  # fmt: skip
        config_ax.plot([p["keys"] for p in points], [p["p99_ms"] for p in points],
                       linestyle="--", color=line[0].get_color(), label=f"{mode} p99")  # fmt: skip
    config_ax.set(xscale="log", yscale="log", xlabel="watched keys",
                  title="publish-to-listener latency (ms, log)")  # fmt: skip
    config_ax.legend(fontsize=7)

    beats = results["naming"]["heartbeats"]
    names = list(beats[0]["cpu_us_per_beat"]) if beats else []
    width = 0.8 / max(1, len(names))
    for k, name in enumerate(names):
        _bars(beat_ax, [x - 0.4 + width * (k + 0.5) for x in range(len(beats))],
              [h["cpu_us_per_beat"][name] for h in beats], width, label=name)  # fmt: skip
    beat_ax.set(title="client CPU per heartbeat (µs)", xticks=list(range(len(beats))),
                xticklabels=[f"{h['flavor']} ({h['beats_api']})" for h in beats])  # fmt: skip
    beat_ax.legend(fontsize=7)

    prints = results.get("footprint", {}).get("footprint", [])
    labels = [p["contender"].replace(" ", "\n") for p in prints]
    size_ax.bar(labels, [p["installed_mib"] for p in prints], color="tab:green")
    size_ax.set(title="installed size with dependencies (MiB)")
    for i, p in enumerate(prints):
        size_ax.annotate(
            f"{p['packages']} packages", (i, p["installed_mib"]), ha="center", va="bottom"
        )
    _bars(import_ax, list(range(len(prints))), [p["import_ms"] for p in prints], 0.6,
          color="tab:purple")  # fmt: skip
    floor = next((p for p in prints if p["contender"] == footprint.FLOOR), None)
    if floor is not None:
        limit = floor["import_ms"]["median"] * footprint.IMPORT_TARGET.value
        import_ax.axhline(limit, color="black", linestyle="--", linewidth=0.8,
                          label=f"target: {footprint.IMPORT_TARGET.value:g}x aiohttp")  # fmt: skip
        import_ax.legend()
    import_ax.set(title="import time (ms), bytecode compiled", xticks=list(range(len(prints))),
                  xticklabels=labels)  # fmt: skip
    for ax in (size_ax, import_ax):
        ax.tick_params(axis="x", labelsize=7)

    env = results["environment"]
    fig.suptitle(
        f"nacos-async benchmarks — {env['cpu']}, {env['cpus']} CPUs, Python {env['python']}"
        " — bars: median, whiskers: min-max over repeats"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return True
