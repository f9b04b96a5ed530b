"""Hand-made input of the KPI models' test (tests/dbt/test_kpi_models.py): rows inserted straight
into the raw KPI tables, the gate's status tables, and the two upstream marts the KPI models read
(the service-index indicators and the DTI ranking, built by their own assets in the pipeline),
made here as small tables with the columns the KPI models read."""

from __future__ import annotations

import datetime as dt

import duckdb

from ingestion.core.schema import prepare_warehouse

SERVICE_INDICATORS = """CREATE TABLE marts.fct_service_index_indicators_monthly (period_month DATE,
    unit_code VARCHAR, unit_level VARCHAR, is_backcast BOOLEAN, methodology_version VARCHAR,
    indicator_code VARCHAR, numerator_measure VARCHAR, denominator_measure VARCHAR,
    numerator DOUBLE, denominator DOUBLE)"""
DTI_RANKING = """CREATE TABLE marts.rpt_dti_ranking (year INTEGER, period_month DATE, as_of_date DATE,
    level VARCHAR, unit_group VARCHAR, unit_code VARCHAR, dti_value DOUBLE, rank INTEGER,
    is_provisional BOOLEAN, methodology_version VARCHAR)"""

# SI-02 (766 2.1: dossiers handled on time / handled), per month and unit: (on time, handled).
# 2025-06: province 01 9/10, province 02 10/100 -> all provinces 19/110 (17.27 %), not the mean of
# the ratios (50 %); ministry M1 45/50; the nation (9 + 10 + 45) / (10 + 100 + 50) = 64/160 = 40 %.
SI02 = {
    "2025-04-01": {"01": (8, 10), "02": (10, 100), "M1": (40, 50)},
    "2025-05-01": {"01": (8, 10), "02": (10, 100), "M1": (40, 50)},
    "2025-06-01": {"01": (9, 10), "02": (10, 100), "M1": (45, 50)},
}
GATED_MONTHS = ("2025-04-01", "2025-06-01")  # 2025-05 never validated: withheld
BACKCAST_ONLY = ("2025-06-01", "99", 1, 1)  # a back-cast row: never a KPI value


def statistics_rows() -> list[tuple]:
    """(load_id, release, release_date, kpi, measure, period, value, source_row)."""
    return [
        # DE-01 (constant_growth): GSO release of January 2024, then a revision of 2023 in June
        ("stat:gso1", "GSO 2024-01", "2024-01-10", "DE-01", "main", "2021", 10.0, 2),
        ("stat:gso1", "GSO 2024-01", "2024-01-10", "DE-01", "main", "2022", 11.0, 3),
        ("stat:gso1", "GSO 2024-01", "2024-01-10", "DE-01", "main", "2023", 12.0, 4),
        ("stat:gso2", "GSO revised 2024-06", "2024-06-01", "DE-01", "main", "2023", 12.1, 2),
        # DS-10 (linear): on track for 80 in 2025
        ("stat:gso1", "GSO 2024-01", "2024-01-10", "DS-10", "main", "2021", 70.0, 5),
        ("stat:gso1", "GSO 2024-01", "2024-01-10", "DS-10", "main", "2022", 73.0, 6),
        ("stat:gso1", "GSO 2024-01", "2024-01-10", "DS-10", "main", "2023", 76.0, 7),
        # DS-02 (linear): +2 a year, 80 needs +4: pace ratio just above 0.5 -> at risk
        ("stat:gso1", "GSO 2024-01", "2024-01-10", "DS-02", "main", "2022", 70.0, 8),
        ("stat:gso1", "GSO 2024-01", "2024-01-10", "DS-02", "main", "2023", 72.0, 9),
        # DS-04 (linear): +1.9 a year against the +4.05 a year needed for 50 in 2025: pace ratio just
        # under 0.5 -> off track (two documents set 50 for 2025: two rows)
        ("stat:gso1", "GSO 2024-01", "2024-01-10", "DS-04", "main", "2022", 40.0, 12),
        ("stat:gso1", "GSO 2024-01", "2024-01-10", "DS-04", "main", "2023", 41.9, 13),
        # one value over its target: achieved; one value under it: insufficient data, and stale
        ("stat:gso1", "GSO 2024-01", "2024-01-10", "DS-02", "smartphone_share_of_mobile_subscriptions", "2023", 85.0, 10),
        ("stat:gso1", "GSO 2024-01", "2024-01-10", "DS-05", "main", "2022-06", 20.0, 11),
    ]


# UN E-Government Survey values (components as the UN file gives them), editions 2022 and 2024
EGDI = {
    2022: {"VNM": (86, 0.6787, 0.6484, 0.6908, 0.6970), "SGP": (12, 0.9133, 0.9620, 0.9000, 0.8780),
           "MYS": (53, 0.7740, 0.7800, 0.7500, 0.7920), "THA": (55, 0.7660, 0.7700, 0.7600, 0.7680),
           "IDN": (77, 0.7160, 0.7600, 0.7000, 0.6880), "PHL": (89, 0.6520, 0.6200, 0.7300, 0.6060),
           "KOR": (3, 0.9529, 0.9800, 0.9400, 0.9387)},
    2024: {"VNM": (71, 0.7709, 0.7884, 0.7058, 0.8186), "SGP": (3, 0.9691, 0.9900, 0.9400, 0.9773),
           "MYS": (39, 0.8413, 0.8500, 0.7900, 0.8839), "THA": (52, 0.8128, 0.8000, 0.7700, 0.8684),
           "IDN": (64, 0.7991, 0.8200, 0.7400, 0.8373), "PHL": (73, 0.7629, 0.7500, 0.7600, 0.7787),
           "KOR": (4, 0.9679, 0.9900, 0.9500, 0.9637), "BRN": (72, 0.7270, 0.6000, 0.7800, 0.8010),
           "KHM": (120, 0.5000, 0.4500, 0.5500, 0.5000), "LAO": (150, 0.4000, 0.3000, 0.5000, 0.4000),
           "MMR": (140, 0.4500, 0.3500, 0.5300, 0.4700)},
}
# 2022 holds 6 of the 10 ASEAN members: the file's own ASEAN rank of Viet Nam counts
EGDI_2022_PUBLISHED_ASEAN_RANK = 6


def seed(path) -> None:
    with duckdb.connect(str(path)) as con:
        prepare_warehouse(con)
        con.execute("CREATE SCHEMA IF NOT EXISTS marts")
        con.execute(SERVICE_INDICATORS)
        con.execute(DTI_RANKING)
        _service_index(con)
        _dti(con)
        _reports(con)
        _statistics(con)
        _indices(con)


def _service_index(con) -> None:
    checked = dt.datetime(2025, 7, 5, 9)
    for month, units in SI02.items():
        for unit, (on_time, handled) in units.items():
            level = "ministry" if unit.startswith("M") else "province"
            con.execute("INSERT INTO marts.fct_service_index_indicators_monthly VALUES (?, ?, ?, false, '766_2022', "
                        "'2.1', 'dossiers_handled_on_time', 'dossiers_handled', ?, ?)",
                        [month, unit, level, on_time, handled])
    month, unit, numerator, denominator = BACKCAST_ONLY
    con.execute("INSERT INTO marts.fct_service_index_indicators_monthly VALUES (?, ?, 'province', true, '766_2022', "
                "'2.1', 'dossiers_handled_on_time', 'dossiers_handled', ?, ?)", [month, unit, numerator, denominator])
    for month in GATED_MONTHS:
        con.execute("INSERT INTO meta.period_status (period_month, is_publishable, checked_at) VALUES (?, true, ?)",
                    [month, checked])


def _dti(con) -> None:
    # final DTI 2023 and 2024 of province 01; only 2024 was validated (2023 withheld)
    for year, value, rank in ((2023, 0.6, 2), (2024, 0.7, 1)):
        con.execute("INSERT INTO marts.rpt_dti_ranking VALUES (?, NULL, NULL, 'province', 'all', '01', ?, ?, false, "
                    "'405_2025')", [year, value, rank])
    con.execute("INSERT INTO meta.dti_year_status (year, is_publishable, checked_at) VALUES (2024, true, ?)",
                [dt.datetime(2025, 3, 1)])


def _reports(con) -> None:
    # DG-02 of province 01, 2025-Q1: v1 accepted (50), v2 accepted (60, the one that counts, with a
    # rejected row), v3 rejected whole (99)
    for version, status, value in ((1, "accepted", 50.0), (2, "accepted", 60.0), (3, "rejected", 99.0)):
        submission_id = f"kpi:2025-Q1:01:{version:016d}"
        con.execute(
            "INSERT INTO raw.kpi_submissions (submission_id, period, period_start, period_end, folder_unit_code, "
            "unit_code, level, version, received_at, inbox_path, sha256, size_bytes, status, catalogue_version) "
            "VALUES (?, '2025-Q1', '2025-01-01', '2025-03-31', '01', '01', 'province', ?, ?, ?, ?, 100, ?, "
            "'kpi_2026_12')",
            [submission_id, version, dt.datetime(2025, 4, 10 + version), f"inbox/2025-Q1/01/v{version}.csv",
             f"{version:064d}", status])
        con.execute("INSERT INTO raw.kpi_report_values (submission_id, period, level, unit_code, kpi_code, measure, "
                    "value, source_row) VALUES (?, '2025-Q1', 'province', '01', 'DG-02', 'main', ?, 5)",
                    [submission_id, value])
        if version == 2:
            con.execute("INSERT INTO raw.kpi_report_values (submission_id, period, level, unit_code, kpi_code, measure, "
                        "value, raw_value, source_row, rejection_rule, rejection_reason, rejection_field) VALUES "
                        "(?, '2025-Q1', 'province', '01', 'DG-10', 'main', NULL, 'abc', 6, 'not_a_number', "
                        "'value is not a number', 'value')", [submission_id])
    con.execute("INSERT INTO meta.kpi_period_status (period, period_start, is_publishable, checked_at) VALUES "
                "('2025-Q1', '2025-01-01', true, ?)", [dt.datetime(2025, 4, 20)])


def _statistics(con) -> None:
    for sequence, (load_id, loaded_at) in enumerate(
            (("stat:gso1", dt.datetime(2024, 1, 15)), ("stat:gso2", dt.datetime(2024, 6, 5))), start=1):
        con.execute("INSERT INTO raw.kpi_statistics_releases (load_id, source_file, sha256, size_bytes, publisher, "
                    "status, loaded_at, load_sequence) VALUES (?, ?, ?, 10, 'GSO', 'accepted', ?, ?)",
                    [load_id, f"{load_id}.csv", load_id, loaded_at, sequence])
    for load_id, release, release_date, kpi, measure, period, value, row in statistics_rows():
        con.execute("INSERT INTO raw.kpi_statistics_values (load_id, release, release_date, kpi_code, measure, level, "
                    "period, value, source_row) VALUES (?, ?, ?, ?, ?, 'national', ?, ?, ?)",
                    [load_id, release, release_date, kpi, measure, period, value, row])
    # a rejected row is never a value
    con.execute("INSERT INTO raw.kpi_statistics_values (load_id, kpi_code, measure, level, period, raw_value, "
                "source_row, rejection_rule) VALUES ('stat:gso1', 'DS-10', 'main', 'national', '2020', 'n/a', 14, "
                "'not_a_number')")


def _indices(con) -> None:
    for sequence, (edition, countries) in enumerate(EGDI.items(), start=1):
        load_id = f"idx:EGDI:{edition:016d}"
        con.execute("INSERT INTO raw.international_index_loads (load_id, index_code, file_shape, source_file, sha256, "
                    "size_bytes, status, loaded_at, load_sequence) VALUES (?, 'EGDI', 'un_egdi_csv', ?, ?, 10, "
                    "'accepted', ?, ?)", [load_id, f"EGOV_DATA_{edition}.csv", load_id, dt.datetime(edition, 9, 1), sequence])
        for row, (country, values) in enumerate(countries.items(), start=2):
            for component, value in zip(("rank", "value", "osi", "hci", "tii"), values, strict=True):
                con.execute("INSERT INTO raw.international_index_values (load_id, index_code, edition, country_code, "
                            "country_name, component, value, source_row) VALUES (?, 'EGDI', ?, ?, ?, ?, ?, ?)",
                            [load_id, edition, country, country, component, value, row])
    con.execute("INSERT INTO raw.international_index_values (load_id, index_code, edition, country_code, country_name, "
                "component, value, source_row) VALUES (?, 'EGDI', 2022, 'VNM', 'Viet Nam', 'asean_rank', ?, 99)",
                [f"idx:EGDI:{2022:016d}", EGDI_2022_PUBLISHED_ASEAN_RANK])
