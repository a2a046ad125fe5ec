#!/usr/bin/env python3
"""Write core/data/series_samples/*.csv from the public-domain datasets in a statsmodels wheel.

    pip download --no-deps statsmodels -d /tmp/sm && unzip -q /tmp/sm/statsmodels-*.whl -d /tmp/sm/x
    python scripts/make_series_samples.py /tmp/sm/x/statsmodels/datasets

Only the dates are rewritten (ISO style); values, gaps and empty cells stay as published.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

OUT = Path(__file__).resolve().parent.parent / "core" / "data" / "series_samples"


def main(datasets: Path) -> None:
    co2 = pd.read_csv(datasets / "co2" / "co2.csv", dtype={"date": str})
    co2["date"] = pd.to_datetime(co2["date"], format="%Y%m%d").dt.strftime("%Y-%m-%d")
    co2.rename(columns={"co2": "co2_ppm"}).to_csv(OUT / "co2_mauna_loa.csv", index=False)
    elec = pd.read_csv(datasets / "elec_equip" / "elec_equip.csv")
    elec["DATE"] = pd.to_datetime(elec["DATE"], format="%b-%d-%Y").dt.strftime("%Y-%m")
    elec.columns = ["month", "turnover_index"]
    elec.to_csv(OUT / "electrical_equipment.csv", index=False)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
