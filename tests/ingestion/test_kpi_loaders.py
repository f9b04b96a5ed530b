"""The loaders of published KPI figures: national statistics releases and international indices
(ingestion/kpi/statistics.py, ingestion/kpi/international.py), on real DuckDB files."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from demo.kpi import load_demo_sources
from ingestion.core.raw_archive import verify_archive
from ingestion.core.warehouse import connect
from ingestion.kpi.countries import country_code
from ingestion.kpi.international import load_index_file
from ingestion.kpi.statistics import load_statistics, period_end
from orchestration.cli import kpi as kpi_cli

STAT_HEADER = "kpi_code,measure,level,unit_code,period,value,release,publisher,release_date,source_key,note\n"


def write(path: Path, text: str | bytes, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode(encoding))
    return path


@pytest.fixture
def con(data_root):
    with connect() as con:
        yield con


def test_a_revised_release_is_kept_beside_the_first_and_a_rerun_is_a_no_op(con, tmp_path):
    first = write(tmp_path / "gso_2020_2023.csv", STAT_HEADER + "DE-01,,national,,2023,\"12,33\",,,,T43,\n")
    revised = write(tmp_path / "gso_2020_2024.csv", STAT_HEADER + "DE-01,main,national,,2023,12.87,,,,T42,\n"
                                                                  "DE-01,main,national,,2024,13.17,,,,T42,\n")
    one = load_statistics(con, first, release="GSO 2020-2023", publisher="GSO", release_date="15/03/2024")
    two = load_statistics(con, revised, release="GSO 2020-2024", publisher="GSO", release_date="2025-03-20")
    assert (one.status, one.rows_accepted, two.status, two.rows_accepted) == ("loaded", 1, "loaded", 2)
    rows = con.execute("SELECT r.load_sequence, v.release, v.release_date::VARCHAR, v.period, v.value, v.publisher "
                       "FROM raw.kpi_statistics_values v JOIN raw.kpi_statistics_releases r USING (load_id) "
                       "WHERE v.period = '2023' ORDER BY r.load_sequence").fetchall()
    assert rows == [(1, "GSO 2020-2023", "2024-03-15", "2023", 12.33, "GSO"),
                    (2, "GSO 2020-2024", "2025-03-20", "2023", 12.87, "GSO")]
    again = load_statistics(con, revised, release="another name")
    assert again.status == "unchanged" and again.load_id == two.load_id
    assert con.execute("SELECT count(*) FROM raw.kpi_statistics_values").fetchone()[0] == 3
    assert con.execute("SELECT count(*) FROM raw.kpi_statistics_releases").fetchone()[0] == 2
    assert verify_archive() == []


def test_bad_statistics_rows_are_kept_with_rule_line_and_field_and_good_rows_flow(con, tmp_path):
    path = write(tmp_path / "mixed.csv", STAT_HEADER + "\n".join([
        "DG-06,main,national,,2025-06,\"39,51%\",press 06/2025,,,S44,",   # 2: good (percent written with %)
        "DG-06,main,ministry,,2025-06,\"51,19\",press 06/2025,,,S44,",    # 3: good (aggregate of ministries)
        "XX-99,main,national,,2024,1,r,,,,",                              # 4: unknown KPI
        "DE-01,bogus,national,,2024,1,r,,,,",                             # 5: unknown measure
        "DE-01,main,ministry,,2024,1,r,,,,",                              # 6: not a level of DE-01
        "DE-01,main,national,,2024,abc,r,,,,",                            # 7: not a number
        "DE-01,main,national,,Q3/2024,1,r,,,,",                           # 8: period
        "DE-07,main,national,,2020,58.000,,,,T49,",                       # 9: no release anywhere
        "DE-07,main,national,,2020,58.000,reported count,,,T49,",         # 10: good: 58,000 firms
        "DE-01,main,national,01,2024,1,r,,,,",                            # 11: unit code on a national value
    ]) + "\n")
    summary = load_statistics(con, path)
    assert (summary.status, summary.rows_read, summary.rows_accepted, summary.rows_rejected) == ("loaded", 10, 3, 7)
    rows = con.execute("SELECT source_row, rejection_rule, rejection_field, rejection_reason, value "
                       "FROM raw.kpi_statistics_values ORDER BY source_row").fetchall()
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (2, None, None), (3, None, None), (4, "unknown_kpi", "kpi_code"), (5, "unknown_measure", "measure"),
        (6, "level_not_of_kpi", "level"), (7, "not_a_number", "value"), (8, "unreadable_period", "period"),
        (9, "missing_release", "release"), (10, None, None), (11, "unit_code_for_national", "unit_code")]
    assert [r[4] for r in rows if r[1] is None] == [39.51, 51.19, 58000.0]
    assert all(r[3].endswith(f"({path}, line {r[0]}, field {r[2]})") for r in rows if r[1])
    assert "'XX-99'" in rows[2][3]


def test_period_end_is_the_last_day_the_value_covers():
    assert [str(period_end(p)) for p in ("2023", "2024-02", "2025-10-26")] == ["2023-12-31", "2024-02-29",
                                                                               "2025-10-26"]


UN_HEADER = ("Survey Year,Country Name,E-Government Rank,E-Government Index,E-Participation Index,"
             "Online Service Index,Human Capital Index,Telecommunication Infrastructure Index\r\n")


def test_the_un_egdi_csv_with_its_quirks(con, tmp_path):
    path = write(tmp_path / "EGOV_DATA_2024.csv", "\ufeff" + UN_HEADER
                 + "2024,Viet Nam ,71,0.770920000000,0.602700,0.708110000,0.726650,0.877970\r\n"
                 + "2024,Lao People's Democratic Republic ,152,0.3920,,0.3063,0.5003,0.3694\r\n"
                 + "2024,Atlantis ,1,0.99,0.9,0.9,0.9,0.9\r\n", encoding="utf-8")
    summary = load_index_file(con, path)
    assert (summary.status, summary.rows_read, summary.rows_accepted, summary.rows_rejected) == ("loaded", 3, 2, 1)
    assert summary.values_accepted == 11  # 6 components of Viet Nam, 5 of Laos (its EPI cell is empty)
    values = dict(con.execute("SELECT component, value FROM raw.international_index_values "
                              "WHERE country_code = 'VNM'").fetchall())
    assert values == {"rank": 71, "value": 0.77092, "epi": 0.6027, "osi": 0.70811, "hci": 0.72665, "tii": 0.87797}
    assert con.execute("SELECT DISTINCT index_code, edition, country_name FROM raw.international_index_values "
                       "WHERE country_code = 'LAO'").fetchall() == [("EGDI", 2024, "Lao People's Democratic Republic")]
    rejected = con.execute("SELECT rejection_rule, rejection_field, rejection_reason FROM raw.international_index_values "
                           "WHERE rejection_rule IS NOT NULL").fetchall()
    assert len(rejected) == 1 and rejected[0][:2] == ("unknown_country", "Country Name")
    assert "'Atlantis'" in rejected[0][2] and f"{path}, line 4" in rejected[0][2]
    assert con.execute("SELECT file_shape, file_encoding FROM raw.international_index_loads").fetchone() == \
        ("un_egdi_csv", "utf-8-sig")
    assert load_index_file(con, path).status == "unchanged"


def test_a_header_variant_of_the_un_csv_and_a_long_file(con, tmp_path):
    variant = write(tmp_path / "egdi2022.csv", "survey year;country name;EGDI Rank;EGDI;EPI;OSI;HCI;"
                    "Telecommunication Infrastructure Index (TII)\n2022;VIET NAM;86;0,6787;0,5341;0,6484;0,6903;0,6973\n")
    assert load_index_file(con, variant, source_key="E1").rows_accepted == 1
    assert con.execute("SELECT value, source_key FROM raw.international_index_values WHERE component = 'value'"
                       ).fetchone() == (0.6787, "E1")
    long = write(tmp_path / "gii.csv", "edition,country_name,component,value,source_key,note\n"
                 "2024,Vietnam,rank,44,E14,rank of 133\n2024,Vietnam,rank,45,E14,duplicate\n"
                 "2023,Viet Nam,rank,0.5,E14,not a rank\n")
    summary = load_index_file(con, long, index_code="GII")
    assert (summary.rows_accepted, summary.rows_rejected) == (1, 2)
    assert con.execute("SELECT source_row, rejection_rule FROM raw.international_index_values WHERE index_code = 'GII' "
                       "ORDER BY source_row").fetchall() == [(2, None), (3, "duplicate_row"), (4, "not_a_rank")]


def test_country_names_resolve_through_the_seed_with_the_publishers_aliases():
    assert [country_code(n) for n in ("Viet Nam ", "Vietnam", "Việt Nam", "Brunei Darussalam", "Myanmar",
                                      "Lao People\u2019s Democratic Republic", "Republic of Korea", "Türkiye")] == \
        ["VNM", "VNM", "VNM", "BRN", "MMR", "LAO", "KOR", "TUR"]
    assert country_code("Atlantis") is None


@pytest.mark.parametrize("name, content, rule", [
    ("cut.csv", (STAT_HEADER + "DE-01,main,national,,2024,13.17,r,GSO,,T42,\nDE-01,main,nat").encode(), "truncated_file"),
    ("binary.csv", bytes(range(256)) * 4, "not_utf8"),
    ("cut.csv.gz", gzip.compress(STAT_HEADER.encode() * 50)[:-12], "truncated_stream"),
    ("wrong.csv", b"a,b,c\n1,2,3\n", "unknown_header"),
])
def test_an_unreadable_file_is_quarantined_whole(con, tmp_path, name, content, rule):
    path = write(tmp_path / name, content)
    summary = load_statistics(con, path, release="r")
    assert (summary.status, summary.rule) == ("rejected", rule) and str(path) in summary.reason
    quarantined = con.execute("SELECT input_kind, rule, original_location FROM quarantine.rejected_files").fetchall()
    assert quarantined == [("kpi_statistics", rule, str(path))]
    assert con.execute("SELECT status, rejection_rule FROM raw.kpi_statistics_releases").fetchall() == \
        [("rejected", rule)]
    assert con.execute("SELECT count(*) FROM raw.kpi_statistics_values").fetchone()[0] == 0
    assert load_statistics(con, path).status == "unchanged"  # the same bytes: not quarantined twice
    assert con.execute("SELECT count(*) FROM quarantine.rejected_files").fetchone()[0] == 1
    index = load_index_file(con, path)
    assert index.status == "rejected"
    assert con.execute("SELECT count(*) FROM quarantine.rejected_files WHERE input_kind = 'international_indices'"
                       ).fetchone()[0] == 1


def test_a_link_is_refused_unread(con, tmp_path):
    target = write(tmp_path / "real.csv", STAT_HEADER)
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    summary = load_statistics(con, link)
    assert (summary.status, summary.rule) == ("refused", "not_a_regular_file")
    assert con.execute("SELECT count(*) FROM raw.kpi_statistics_releases").fetchone()[0] == 0


def test_the_cli_prints_and_exits_non_zero_for_a_file_rejected_whole(data_root, tmp_path, capsys):
    good = write(tmp_path / "dti.csv", STAT_HEADER + "DTI-NAT,main,national,,2024,0.7955,,,,S15,\n")
    assert kpi_cli.load_statistics(good, "DTI 2024", "MOST", None) == 0
    assert "1 rows read, 1 accepted, 0 rejected" in capsys.readouterr().out
    assert kpi_cli.load_statistics(good, "DTI 2024", None, "31/02/2025") == 2  # not a date: nothing loaded
    assert "release date" in capsys.readouterr().out
    bad = write(tmp_path / "bad.csv", bytes(range(256)))
    assert kpi_cli.load_index(bad, None, None) == 1
    assert "rejected" in capsys.readouterr().out


def test_the_demo_sources_load_without_a_rejected_row_and_reload_as_no_ops(con):
    first = load_demo_sources(con)
    assert first["rejected_files"] == [] and first["rows_rejected"] == 0 and first["loaded"] == first["files"]
    assert load_demo_sources(con)["unchanged"] == first["files"]
    de01 = con.execute("SELECT release, value FROM raw.kpi_statistics_values WHERE kpi_code = 'DE-01' "
                       "AND period = '2024' ORDER BY value").fetchall()
    assert de01 == [("GSO revised series (2020-2024 release)", 13.17), ("MIC estimate", 18.3)]
    assert con.execute("SELECT count(DISTINCT release) FROM raw.kpi_statistics_values WHERE kpi_code = 'DE-01'"
                       ).fetchone()[0] == 3
    egdi = con.execute("SELECT edition, value FROM raw.international_index_values WHERE index_code = 'EGDI' "
                       "AND country_code = 'VNM' AND component = 'rank' ORDER BY edition").fetchall()
    assert egdi == [(2020, 86), (2022, 86), (2024, 71)]


def test_a_utf16_file_with_its_byte_order_mark_and_semicolons_is_read(con, tmp_path):
    text = STAT_HEADER.replace(",", ";") + "DG-06;main;province;;2023;9;Sơ kết 6 tháng 2024;Bộ TT&TT;;T27;tất cả tỉnh\n"
    path = write(tmp_path / "utf16.csv", b"\xff\xfe" + text.encode("utf-16-le"))
    summary = load_statistics(con, path)
    assert (summary.status, summary.rows_accepted) == ("loaded", 1)
    assert con.execute("SELECT release, publisher, note, value FROM raw.kpi_statistics_values").fetchone() == \
        ("Sơ kết 6 tháng 2024", "Bộ TT&TT", "tất cả tỉnh", 9.0)
    assert con.execute("SELECT file_encoding FROM raw.kpi_statistics_releases").fetchone() == ("utf-16-le",)
