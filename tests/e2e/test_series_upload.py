"""Flow: a shop's dated daily log (days out of order, one missing, one twice, empty cells) → forecast
this series instead of a table model → train → the verdict against the naive forecasts, the forecast
beyond the data on the test-period plot, and Try it's next 7 days as a CSV."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from playwright.sync_api import Page, expect

from tests import datafiles
from uidriver import flows
from uidriver.ui import assert_no_traceback, download, go_to, plotly_figures, press

NEXT_WEEK = [f"2024-08-{day}" for day in range(28, 32)] + ["2024-09-01", "2024-09-02", "2024-09-03"]


def test_a_dated_upload_is_forecast_and_judged_against_the_naive_forecast(page: Page, tmp_path: Path) -> None:
    csv = tmp_path / "shop days.csv"
    csv.write_bytes(datafiles.shop_days_csv())
    flows.upload_data(page, csv)
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text(re.compile("'date' holds dates")).first).to_be_visible()
    press(page, "forecast_series")
    expect(main.get_by_text(re.compile(r"240 daily steps of 'sales'")).first).to_be_visible()
    expect(main.get_by_text(re.compile(r"1 missing steps \(the longest gap: 1 steps\)")).first).to_be_visible()
    chart = plotly_figures(page, "series_chart")
    assert chart and chart[0]["traces"][0]["name"] == "sales"
    assert_no_traceback(page)

    ended = flows.train(page, epochs=8)
    assert "Training finished" in ended, ended
    go_to(page, "Evaluate")
    verdict = main.get_by_text(re.compile(r"(Beats|Does not beat) the naive forecast")).first
    expect(verdict).to_be_visible(timeout=60_000)
    expect(main.get_by_text("Seasonal naive MAE").first).to_be_visible()
    plot = plotly_figures(page, "forecast_test_period")[0]["traces"]
    beyond = next(trace for trace in plot if trace["name"] == "forecast beyond the data")
    assert [str(x)[:10] for x in beyond["x"]] == NEXT_WEEK

    press(page, "series_forecast_latest")
    saved = download(page, next(k for k in _keys(page) if k.startswith("download_series_forecast_")), tmp_path)
    forecast = pd.read_csv(saved)
    assert list(forecast["time"]) == NEXT_WEEK
    assert forecast["forecast"].between(200, 1200).all(), forecast  # sales are a few hundred a day
    assert_no_traceback(page)


def _keys(page: Page) -> list[str]:
    """The widget keys on the page (Streamlit's `.st-key-<key>` classes)."""
    return page.evaluate("""() => Array.from(document.querySelectorAll('[class*="st-key-"]'))
        .flatMap(el => Array.from(el.classList)).filter(c => c.startsWith('st-key-')).map(c => c.slice(7))""")
