"""``alertcommons status ALERT_ID``: who has the alert, who acknowledged, who failed."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import click

from alertcommons.commands.remote import call, client, hub_options


@click.command()
@click.argument("alert_id")
@hub_options("The issuer's (or an admin) token [env ALERTCOMMONS_TOKEN].")
@click.option("--wait/--no-wait", default=True, help="Follow until nothing is pending.")
@click.option(
    "--timeout",
    "seconds",
    type=click.FloatRange(min=0),
    default=120.0,
    show_default=True,
    help="Stop following after this many seconds.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def status(
    alert_id: str, hub_url: str, token: str, wait: bool, seconds: float, as_json: bool
) -> None:
    """Delivery report for one alert, with a live progress bar while deliveries are pending."""
    deadline = time.monotonic() + seconds
    live = sys.stdout.isatty() and wait and not as_json
    with client(hub_url, token) as http:
        while True:
            report = call(http, "GET", f"/api/v1/alerts/{alert_id}/deliveries")
            if live:
                click.echo("\r" + _bar(report), nl=False)
            if not wait or report["pending"] == 0 or time.monotonic() >= deadline:
                break
            time.sleep(0.5)
    if live:
        click.echo()
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    click.echo(_bar(report))
    for item in report["items"]:
        latency = f"{item['latency_ms']:.0f} ms" if item["latency_ms"] is not None else "-"
        # issuers see other organizations by name only; admins and receivers see endpoints
        where = item["label"] or item["endpoint_id"] or item.get("organization") or "-"
        line = f"  {item['state']:<13} {item['channel']:<8} {where:<28} {latency:>9}"
        if item["last_error"] and item["state"] in ("pending", "failed"):
            line += f"  ({item['last_error']})"
        click.echo(line)
    for site in report.get("sites", []):
        click.echo(_site_line(site))


def _site_line(site: dict[str, Any]) -> str:
    """One receiving site: its state, and each route in order (``>`` the one that reached it)."""
    name = site.get("name") or site.get("organization") or site["site_id"]
    routes = " ".join(
        f"{'>' if route['delivery_id'] == site['reached_by'] else ''}"
        f"{route['channel']}:{route['state']}"
        for route in site["routes"]
    )
    return f"  site {name}: {site['state']}  [{routes}]"


def _bar(report: dict[str, Any], width: int = 30) -> str:
    total = report["total"] or 1
    done = report["delivered"] + report["acknowledged"]
    filled = round(width * done / total)
    bar = "#" * filled + "-" * (width - filled)
    return (
        f"[{bar}] {done}/{report['total']} delivered "
        f"({report['acknowledged']} acknowledged), {report['failed']} failed, "
        f"{report['pending']} pending"
    )
