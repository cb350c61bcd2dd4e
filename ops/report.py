"""`make report`: the dashboard's pages as one static HTML file, `$MOBILITY_DATA_DIR/report/index.html`.

The same pages as `make dashboard` (dashboard/pages.py) over every month prod serves, each chart a Vega-Lite spec with
its data inlined and the Vega libraries bundled into the file (vl-convert), so it opens offline with no server. The
warehouse is read read-only.

    python -m ops.report [--out DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import json
import sys
from pathlib import Path

import altair as alt
import duckdb
import pandas as pd
import vl_convert

from dashboard.pages import MONTHS, PAGES, Filters
from gateway import data_dir, open_read_only, own_data_dir, warehouse_path
from ops.common import WorkflowError, exit_code, pin_data_dir

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #262730; }
nav a { margin-right: 1rem; } section { margin-top: 3rem; } .metrics { display: flex; gap: 2rem; }
.metric b { display: block; font-size: 1.8rem; } table { border-collapse: collapse; font-size: 0.85rem; }
td, th { border: 1px solid #ddd; padding: 0.2rem 0.5rem; text-align: right; } .note { color: #666; }
"""


def number(value: float) -> str:
    """A float in a table: large ones with thousands separators, small ones (rates, shares) with four digits."""
    return f"{value:,.2f}" if abs(value) >= 1000 else f"{value:.4g}"


class HtmlView:
    """The pages written as HTML sections, the charts as Vega-Lite specs."""

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self.connection, self.parts, self.charts, self.pages = connection, [], [], 0

    def query(self, sql: str) -> pd.DataFrame:
        return self.connection.execute(sql).df()

    def header(self, text: str) -> None:
        self.parts.append(f'</section><section id="p{self.pages}"><h2>{html.escape(text)}</h2>')
        self.pages += 1

    def subheader(self, text: str) -> None:
        self.parts.append(f"<h3>{html.escape(text)}</h3>")

    def info(self, text: str) -> None:
        self.parts.append(f'<p class="note">{html.escape(text)}</p>')

    def metrics(self, items: list[tuple[str, str, str | None]]) -> None:
        cells = "".join(
            f'<div class="metric">{html.escape(label)}<b>{html.escape(value)}</b>{html.escape(delta or "")}</div>'
            for label, value, delta in items
        )
        self.parts.append(f'<div class="metrics">{cells}</div>')

    def chart(self, chart: alt.TopLevelMixin) -> None:
        self.charts.append(chart.properties(width="container").to_dict())
        self.parts.append(f'<div class="chart" id="chart{len(self.charts) - 1}" style="width:100%"></div>')

    def table(self, frame: pd.DataFrame) -> None:
        self.parts.append(frame.head(50).to_html(index=False, border=0, na_rep="", float_format=number))


def render(view: HtmlView, months: tuple[str, str], source: Path) -> str:
    titles = "".join(f'<a href="#p{index}">{html.escape(name)}</a>' for index, name in enumerate(PAGES))
    specs = json.dumps(view.charts, default=str)
    embed = f"const specs = {specs}; specs.forEach((s, i) => vegaEmbed('#chart' + i, s, {{actions: false}}));"
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>nyc-mobility report</title><style>{STYLE}</style>"
        f"<script>{vl_convert.javascript_bundle()}</script></head><body><h1>nyc-mobility</h1>"
        f"<p class='note'>Prod's marts in {html.escape(str(source))}, months {months[0]}..{months[1]}; written "
        f"{dt.datetime.now():%Y-%m-%d %H:%M}.</p><nav>{titles}</nav><section>{''.join(view.parts)}</section>"
        f"<script>{embed}</script></body></html>"
    )


def write_report(out: Path) -> Path:
    source = warehouse_path()
    with open_read_only("make report") as connection:
        try:
            months = connection.execute(MONTHS).df()["month"].tolist()
        except duckdb.CatalogException:
            raise WorkflowError("Prod serves no marts yet: `make promote` publishes them.") from None
        if not months:
            raise WorkflowError("Prod's marts are empty: land a month first.")
        view = HtmlView(connection)
        for page in PAGES.values():
            page(view, Filters((months[0], months[-1])))
    own_data_dir(inside=out)
    out.mkdir(parents=True, exist_ok=True)
    target = out / "index.html"
    target.write_text(render(view, (months[0], months[-1]), source))
    print(f"[report] {len(PAGES)} pages, {len(view.charts)} charts, months {months[0]}..{months[-1]}: {target}")
    return target


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.report", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="the report's folder (default $MOBILITY_DATA_DIR/report)")
    args = parser.parse_args(argv)
    pin_data_dir()
    return exit_code(lambda: write_report(args.out or data_dir() / "report"))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
