"""History import and weight supplements: real CSVs into a real warehouse, errors that name the row."""

from __future__ import annotations

import pytest

from ingestion.core.schema import prepare_warehouse
from ingestion.core.warehouse import connect
from ingestion.reports.dti.history import HistoryImportError, import_history, load_weight_supplements


@pytest.fixture
def con(data_root, dti_catalogue):
    with connect() as connection:
        prepare_warehouse(connection)
        yield connection


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


VALUES = """year,level,unit_code,indicator_code,value
2020,province,01,1,0.6123
2020,province,01,2,"0,5"
2020,province,1,3,0.4
2021,province,01,1,0.7
2021,province,79,7,0.65
"""
PUBLISHED = """year,level,unit_code,dti_value,rank
2020,province,01,0.5249,1
2021,province,01,0.6100,2
2021,province,79,0.6200,1
"""


def test_import_history_loads_both_files_with_provenance(con, tmp_path):
    values = write(tmp_path / "values.csv", VALUES, "utf-8-sig")
    published = write(tmp_path / "published.csv", PUBLISHED.replace(",", ";"))
    summary = import_history(con, values, published)
    assert (summary.years, summary.value_rows, summary.published_rows) == ([2020, 2021], 5, 3)
    rows = con.execute("SELECT year, unit_code, indicator_code, value, source_row FROM raw.dti_history_values "
                       "ORDER BY year, unit_code, indicator_code").fetchall()
    assert rows[1] == (2020, "01", "2", 0.5, 3) and rows[2][1] == "01"  # '1' is province 01
    assert con.execute("SELECT DISTINCT source_file FROM raw.dti_history_published").fetchone()[0] == str(published)
    assert con.execute("SELECT rank FROM raw.dti_history_published WHERE year = 2021 AND unit_code = '79'").fetchone() == (1,)


def test_an_import_replaces_the_years_it_contains(con, tmp_path):
    import_history(con, write(tmp_path / "v.csv", VALUES), write(tmp_path / "p.csv", PUBLISHED))
    only_2021 = "year,level,unit_code,indicator_code,value\n2021,province,01,1,0.8\n"
    summary = import_history(con, write(tmp_path / "v2.csv", only_2021),
                             write(tmp_path / "p2.csv", "year,level,unit_code,dti_value,rank\n2021,province,01,0.7,1\n"))
    assert summary.replaced_value_rows == 2 and summary.replaced_published_rows == 2
    assert con.execute("SELECT year, count(*) FROM raw.dti_history_values GROUP BY year ORDER BY year").fetchall() == [
        (2020, 3), (2021, 1)]
    assert con.execute("SELECT count(*) FROM raw.dti_history_published").fetchone() == (2,)


def test_bad_rows_stop_the_import_naming_file_line_and_field(con, tmp_path):
    bad = VALUES + "2021,province,01,1,0.9\n2021,province,99,1,0.5\n2021,tinh,01,2,0.5\n2021,province,01,7,1.7\n" \
                   "2021,province,01,10,0.3\n2021,province,01,2,đang cập nhật\n"
    with pytest.raises(HistoryImportError) as exc:
        import_history(con, write(tmp_path / "values.csv", bad),
                       write(tmp_path / "published.csv", PUBLISHED + "2021,province,02,0.5,0\n"))
    message = str(exc.value)
    assert "values.csv: line 7: duplicate of line 5" in message
    assert "values.csv: line 8: field unit_code: 99 is not a province unit" in message
    assert "values.csv: line 9: field level: expected one of province, ministry, found 'tinh'" in message
    assert "values.csv: line 10: field value: expected a value in [0, 1], found '1.7'" in message
    assert "values.csv: line 11: field indicator_code: '10' is not a pillar or main indicator of methodology 922_2022" in message
    assert "values.csv: line 12: field value: expected a number" in message
    assert "published.csv: line 5: field rank: expected a whole rank of 1 or more" in message
    assert message.startswith("7 problem(s), nothing imported")
    assert con.execute("SELECT count(*) FROM raw.dti_history_values").fetchone() == (0,)


def test_missing_columns_and_files(con, tmp_path):
    with pytest.raises(HistoryImportError, match=r"values.csv: line 1: missing column\(s\) indicator_code"):
        import_history(con, write(tmp_path / "values.csv", "year,level,unit_code,value\n"),
                       write(tmp_path / "p.csv", PUBLISHED))
    with pytest.raises(HistoryImportError, match="nope.csv: file not found"):
        import_history(con, tmp_path / "nope.csv", write(tmp_path / "p.csv", PUBLISHED))


def test_weight_supplements_append_with_their_source(con, tmp_path):
    path = write(tmp_path / "w.csv", "methodology_version,level,indicator_code,max_points\n922_2022,ministry,1,400\n")
    summary = load_weight_supplements(con, path, "demo assumption")
    assert summary.rows == 1
    load_weight_supplements(con, path, "second load")
    assert con.execute("SELECT source, max_points FROM raw.dti_weight_supplements ORDER BY loaded_at").fetchall() == [
        ("demo assumption", 400.0), ("second load", 400.0)]
    bad = write(tmp_path / "bad.csv", "methodology_version,level,indicator_code,max_points\n922_2022,ministry,1.1,5\n"
                                      "999,ministry,1,5\n922_2022,ministry,1,-3\n")
    with pytest.raises(HistoryImportError) as exc:
        load_weight_supplements(con, bad, "x")
    assert "bad.csv: line 2: field indicator_code: '1.1' is not a main indicator of 922_2022 (ministry)" in str(exc.value)
    assert "bad.csv: line 3: field methodology_version: '999'" in str(exc.value)
    assert "bad.csv: line 4: field max_points: expected 0 or more" in str(exc.value)
    with pytest.raises(HistoryImportError, match="source is required"):
        load_weight_supplements(con, path, " ")
