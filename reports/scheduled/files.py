"""The abandonment report as files: a self-contained HTML page (images inline), JSON with every
number, the funnel table as CSV, and the PNGs."""

from __future__ import annotations

import base64
import csv
import io
import json
from pathlib import Path
from urllib.parse import quote, urlencode

from jinja2 import Environment, PackageLoader
from PIL import Image

from heatmap.render import Legend, render_heatmap
from reports.analyses.durations import format_duration
from reports.charts.canvas import png_bytes
from reports.charts.journey_map import journey_map_chart
from reports.delivery.targets import ReportFiles
from reports.scheduled.build import ReportData
from reports.scheduled.channels import (
    change_class,
    channel_name,
    channels_text,
    points_text,
    rate_text,
)
from reports.scheduled.charts import daily_chart, funnel_chart
from reports.scheduled.numbers import ReportNumbers

HEATMAP_WIDTH_PX = 640
JOURNEY_WIDTH_PX = 800  # as wide as the funnel chart
CSV_COLUMNS = (
    "step", "pattern", "entered", "converted", "dropped", "in_progress", "conversion_rate",
    "drop_off_rate", "median_s", "p90_s", "previous_entered", "previous_conversion_rate",
)  # fmt: skip

_TEMPLATES = Environment(
    loader=PackageLoader("reports.scheduled", "templates"),
    autoescape=True,  # whatever the file names: the report shows paths strangers posted
    trim_blocks=True,
    lstrip_blocks=True,
)


def report_images(report: ReportData) -> dict[str, Image.Image]:
    steps = report.data["current"]["steps"]
    images = {
        "funnel": funnel_chart(
            [(s["pattern"], s["entered"]) for s in steps],
            in_progress=[s.get("in_progress", 0) for s in steps],
        ),
        "daily": daily_chart(report.daily, previous=report.previous_daily),
    }
    journeys = report.data["journeys"]
    images["journeys-into-step-1"] = journey_map_chart(
        journeys["into_first_step"], width=JOURNEY_WIDTH_PX
    )
    for drop in journeys["after_drop"]:
        if drop["dropped"]:
            images[f"journeys-after-step-{drop['step']}"] = journey_map_chart(
                drop["map"], width=JOURNEY_WIDTH_PX
            )
    period = f"{report.data['period']['from']} to {report.data['period']['to']}"
    for heat in report.heat:
        if heat.clicks:
            legend = Legend(
                heat.pattern, heat.band, period, heat.clicks, heat.sessions, "abandonment click"
            )
            images[f"abandonment-step-{heat.step}"] = render_heatmap(
                heat.grid, legend, heat.background, width=HEATMAP_WIDTH_PX
            )
    return images


def report_title(report: ReportData) -> str:
    data, period = report.data, report.data["period"]
    name = data["funnel"]["name"].capitalize()
    days = (
        period["from"] if period["from"] == period["to"] else f"{period['from']} to {period['to']}"
    )
    return f"{name} abandonment, {data['site']}, {days}"


def heatmap_links(report: ReportData, base_url: str) -> dict[str, str]:
    """Dashboard links to the full heatmap of each step's page (a glob or a regular expression:
    the sum of the templates it matches), for the report's days; custom events have none."""
    data = report.data
    links = {}
    for step in data["current"]["steps"]:
        if step["pattern"].startswith("event:"):
            continue
        query = urlencode(
            {"page": step["pattern"], "from": data["period"]["from"], "to": data["period"]["to"]}
        )
        links[f"Heatmap of {step['pattern']}"] = (
            f"{base_url}/sites/{quote(data['site'])}/heatmap?{query}"
        )
    return links


def write_report(report: ReportData, out: Path, base_url: str | None = None) -> ReportFiles:
    """Write report.html, report.json, funnel.csv and the PNGs into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    encoded = {name: png_bytes(image) for name, image in report_images(report).items()}
    paths = {}
    for name, data in encoded.items():
        paths[name] = out / f"{name}.png"
        paths[name].write_bytes(data)
    title = report_title(report)
    links = heatmap_links(report, base_url) if base_url else {}
    inline = {
        name: "data:image/png;base64," + base64.b64encode(data).decode()
        for name, data in encoded.items()
    }
    html = _TEMPLATES.get_template("abandonment.html.j2").render(
        title=title,
        data=report.data,
        images=inline,
        links=links,
        window=format_duration(report.data["current"]["window_s"]),
        pct=_pct,
        duration=format_duration,
        channel_name=channel_name,
        rate=rate_text,
        points=points_text,
        change_class=change_class,
    )
    (out / "report.html").write_text(html, encoding="utf-8")
    (out / "report.json").write_text(json.dumps(report.data, indent=2) + "\n", encoding="utf-8")
    (out / "funnel.csv").write_text(funnel_csv(report.data), encoding="utf-8")
    return ReportFiles(
        title=title,
        headline=report.data["headline"],
        html=out / "report.html",
        json=out / "report.json",
        csv=out / "funnel.csv",
        images=paths,
        links=links,
        text=channels_text(report.data["channels"], report.data["funnel"]["steps"][-1]),
    )


def funnel_csv(data: ReportNumbers) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for step, before in zip(data["current"]["steps"], data["previous"]["steps"], strict=True):
        writer.writerow(
            step
            | {
                "previous_entered": before["entered"],
                "previous_conversion_rate": before.get("conversion_rate"),
            }
        )
    return buffer.getvalue()


def _pct(rate: float | None) -> str:
    return "" if rate is None else f"{100 * rate:.1f}%"
