"""The landing corpus: bad landing files, generated here, loaded through the real loader into a
real DuckDB warehouse beside good files of the same month (issue 10, docs/reliability.md).

One month folder holds every case at once, as a messy agency would send them; the month is
loaded, then loaded again. Each case asserts its outcome and rule, a reason that starts with the
cause (fixed text) and names the file (and the line, row or field), what was kept (a copy in the
quarantine, or no copy at all for an entry refused unread), the reconciliation of what was
loaded (rows read = rows stored), that the month's good files still load, and that the second
load is a no-op for it. A second month holds the cases that need smaller limits."""

from __future__ import annotations

import gzip
import json
import os
import unicodedata
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingestion.core.raw_archive import raw_archive_dir, read_index
from ingestion.core.schema import prepare_warehouse
from ingestion.core.warehouse import connect
from ingestion.landing.loading import ingest_landing_month, landing_dir
from tests.extract_rows import csv_text, row, write_csv

MONTH, SMALL_LIMITS_MONTH = "2025-07", "2025-06"
MAX_ROWS = 1000  # DXMON_LIMIT_MAX_ROWS for the main month: a too-long file is cheap to make
SMALL_LIMITS = {"DXMON_LIMIT_MAX_UNCOMPRESSED_BYTES": str(1 << 20), "DXMON_LIMIT_MAX_FILE_BYTES": str(3 << 20)}


def dossier_rows(prefix: str, n: int, **overrides) -> list[dict]:
    return [row("dossiers", dossier_id=f"{prefix}{i}", **overrides) for i in range(1, n + 1)]


def dossiers_text(prefix: str, n: int) -> bytes:
    return csv_text("dossiers", dossier_rows(prefix, n)).encode()


def _gzip_cut(data: bytes, keep: Callable[[bytes], bytes]) -> bytes:
    return keep(gzip.compress(data))


def _bomb() -> bytes:
    """A gzip stream of zeros that expands to 10 GiB (640 members of 16 MiB, ~1000:1), after a header."""
    body = b"dossier_id,procedure_code\n" + bytes(16 << 20)
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    member = packer.compress(body) + packer.flush()
    return member * 640


def _write(data: bytes) -> Callable[[Path, Path], None]:
    return lambda path, outside: path.write_bytes(data)


def _link(target: str) -> Callable[[Path, Path], None]:
    def build(path: Path, outside: Path) -> None:
        os.symlink(outside / target if not target.startswith("./") else target, path)
    return build


def _fifo(path: Path, outside: Path) -> None:
    os.mkfifo(path)


def _crc_corrupted() -> bytes:
    data = bytearray(gzip.compress(dossiers_text("CRC", 20)))
    data[-8] ^= 0xFF  # the CRC-32 in the trailer
    return bytes(data)


def _latin() -> bytes:
    text = csv_text("procedures", [row("procedures", procedure_code="1.1", procedure_name="Cap phieu",
                                       announcement_decision_no="123/QD-UBND"),
                                   row("procedures", procedure_code="1.2", procedure_name="Đăng ký hộ tịch")])
    # Windows-1258 writes Vietnamese decomposed (base letter + combining tone mark); line 3 holds the
    # first non-ASCII letter
    return b"".join(_cp1258(ch) for ch in text)


def _cp1258(ch: str) -> bytes:
    try:
        return ch.encode("cp1258")
    except UnicodeEncodeError:  # a letter with a tone mark: the letter, then the combining mark
        decomposed = unicodedata.normalize("NFD", ch)
        tones = [c for c in decomposed if c in "\u0300\u0301\u0303\u0309\u0323"]
        letter = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in tones))
        return (letter + "".join(tones)).encode("cp1258")


def _utf16(encoding: str, bom: bool) -> Callable[[Path, Path], None]:
    text = csv_text("procedures" if "be" in encoding else "complaints",
                    [row("procedures", procedure_name="Đăng ký khai sinh – Hòa")] if "be" in encoding
                    else [row("complaints", complaint_id="PA-LE")])
    return _write((("\ufeff" if bom else "") + text).encode(encoding))


def _long_line() -> bytes:
    rows = dossier_rows("LL", 3)
    rows[1]["result_file_url"] = "https://kq/" + "x" * (1100 << 10)  # 1.1 MiB: over the line limit
    return csv_text("dossiers", rows).encode()


def _long_field() -> bytes:
    rows = dossier_rows("LF", 3)
    rows[1]["result_file_url"] = "https://kq/" + "y" * (70 << 10)  # 70 KiB: over the field limit only
    return csv_text("dossiers", rows).encode()


def _many_rows() -> bytes:
    return csv_text("dossier_status_history",
                    [row("dossier_status_history", dossier_id=f"M{i}") for i in range(MAX_ROWS + 1)]).encode()


def _unterminated_quote() -> bytes:
    text = csv_text("complaints", [row("complaints", complaint_id=f"Q{i}") for i in range(4)])
    lines = text.splitlines(keepends=True)
    lines[2] = lines[2].replace("Q1,", '"Q1,', 1)  # a quote opened at a field's start, never closed
    return "".join(lines).encode()


def _stray_carriage_return() -> bytes:
    text = csv_text("complaints", [row("complaints", complaint_id=f"CR{i}") for i in range(3)])
    return text.replace("CR1,01,", "CR1,01\r,", 1).encode()  # a lone CR inside a line splits the row


def _missing_column() -> bytes:
    return csv_text("dossiers", dossier_rows("NC", 2)).replace("received_at", "ngay_tiep_nhan", 1).encode()


def _multiline_field() -> bytes:
    return csv_text("procedures", [row("procedures", procedure_code="1.ML",
                                       procedure_name="Thủ tục\nnhiều dòng, có dấu phẩy"),
                                   row("procedures", procedure_code="1.ML2")]).encode()


def _cr_only() -> bytes:
    return csv_text("dossier_status_history", [row("dossier_status_history", dossier_id=f"MAC{i}")
                                               for i in range(3)]).replace("\n", "\r").encode()


def _big_gzip(path: Path, outside: Path) -> None:
    rows = [row("dossiers", dossier_id=f"BIG{i:07d}", result_code=os.urandom(24).hex()) for i in range(6000)]
    write_csv(path, "dossiers", rows, gzipped=True)  # ~2.5 MiB of text, ratio ~4: over 1 MiB uncompressed


def _huge_file(path: Path, outside: Path) -> None:
    path.write_bytes(dossiers_text("HUGE", 1) + b"\n" * (4 << 20))  # 4 MiB: over the file size limit


def _parquet(rows: list[dict]) -> Callable[[Path, Path], None]:
    def build(path: Path, outside: Path) -> None:
        pq.write_table(pa.table({k: pa.array([r[k] for r in rows], pa.string()) for k in rows[0]}), path)
    return build


def _not_parquet(path: Path, outside: Path) -> None:
    path.write_bytes(b"PAR1" + os.urandom(64) + b"PAR1")  # the magic bytes around garbage


@dataclass(frozen=True)
class Case:
    id: str
    name: str  # the entry's name in the landing folder
    build: Callable[[Path, Path], None]  # (path, outside folder)
    action: str
    rule: str | None = None
    cause: str | None = None  # the fixed text the reason starts with
    fragments: tuple[str, ...] = ()  # what else the reason must say (line, row, field)
    rows: int | None = None  # rows stored (and read) when loaded
    month: str = MONTH


CASES = (
    Case("good_csv", "dossiers_good.csv", _write(dossiers_text("G", 5)), "loaded", rows=5),
    Case("symlink_to_outside_file", "dossiers_link_secret.csv", _link("secret.txt"), "refused",
         "not_a_regular_file", "symbolic link refused"),
    Case("symlink_to_outside_csv", "dossiers_link_csv.csv", _link("dossiers_outside.csv"), "refused",
         "not_a_regular_file", "symbolic link refused"),
    Case("dangling_symlink", "complaints_dangling.csv", _link("nothing-here.csv"), "refused",
         "not_a_regular_file", "symbolic link refused"),
    Case("symlink_inside_folder", "procedures_alias.csv", _link("./procedures_real.csv"), "refused",
         "not_a_regular_file", "symbolic link refused"),
    Case("procedures_real", "procedures_real.csv",
         _write(csv_text("procedures", [row("procedures", procedure_code="1.REAL")]).encode()), "loaded", rows=1),
    Case("fifo", "dossier_status_history_fifo.csv", _fifo, "refused", "not_a_regular_file", "FIFO refused"),
    Case("star_in_name", "dossiers_x_*.csv", _write(dossiers_text("STAR", 2)), "loaded", rows=2),
    Case("star_sibling", "dossiers_x_a.csv", _write(dossiers_text("XA", 3)), "loaded", rows=3),
    Case("glob_quote_space_unicode_name", "dossiers ?[1]{a,b} 'q' \"d\" hồ sơ.csv",
         _write(dossiers_text("ODD", 2)), "loaded", rows=2),
    Case("gzip_cut_in_the_middle", "dossiers_cut.csv.gz",
         _write(_gzip_cut(dossiers_text("CUT", 40), lambda g: g[: len(g) // 2])), "quarantined",
         "truncated_stream", "truncated gzip stream"),
    Case("gzip_without_trailer", "dossiers_notrailer.csv.gz",
         _write(_gzip_cut(dossiers_text("NT", 40), lambda g: g[:-8])), "quarantined",
         "truncated_stream", "truncated gzip stream"),
    Case("gzip_wrong_crc", "dossiers_badcrc.csv.gz", _write(_crc_corrupted()), "quarantined",
         "corrupt_stream", "corrupt gzip stream", ("incorrect data check",)),
    Case("gzip_concatenated_members", "dossiers_members.csv.gz",
         _write(gzip.compress(dossiers_text("MEM", 3)) + gzip.compress(b"".join(
             csv_text("dossiers", dossier_rows("MEMB", 2)).encode().splitlines(keepends=True)[1:]))),
         "loaded", rows=5),
    Case("gzip_bomb", "dossiers_bomb.csv.gz", lambda p, o: p.write_bytes(_bomb()), "quarantined",
         "limit_exceeded_compression_ratio", "compression ratio", ("DXMON_LIMIT_MAX_COMPRESSION_RATIO",)),
    Case("windows_1258", "procedures_cp1258.csv", _write(_latin()), "quarantined", "not_utf8",
         "not UTF-8 text", ("line 3", "0xD0")),
    Case("utf16_big_endian_bom", "procedures_utf16be.csv", _utf16("utf-16-be", True), "loaded", rows=1),
    Case("utf16_little_endian_bom", "complaints_utf16le.csv", _utf16("utf-16-le", True), "loaded", rows=1),
    Case("utf16_without_bom", "complaints_utf16nobom.csv", _utf16("utf-16-le", False), "quarantined",
         "not_utf8", "not UTF-8 text", ("byte-order mark",)),
    Case("line_too_long", "dossiers_longline.csv", _write(_long_line()), "quarantined",
         "limit_exceeded_line_bytes", "line too long", ("line 3", "DXMON_LIMIT_MAX_LINE_BYTES")),
    Case("field_too_long", "dossiers_longfield.csv", _write(_long_field()), "quarantined",
         "limit_exceeded_field_bytes", "field length", ("line 3 (row 2)", "field 'result_file_url'")),
    Case("too_many_rows", "dossier_status_history_many.csv", _write(_many_rows()), "quarantined",
         "limit_exceeded_rows", "too many rows", (f"{MAX_ROWS + 1} > {MAX_ROWS}",)),
    Case("unterminated_quote", "complaints_quote.csv", _write(_unterminated_quote()), "quarantined",
         "unterminated_quote", "unterminated quoted field", ("line 3",)),
    Case("stray_carriage_return", "complaints_cr.csv", _write(_stray_carriage_return()), "quarantined",
         "rows_not_reconciled", "rows do not reconcile", ("3 data rows, 4 were stored",)),
    Case("missing_column", "dossiers_nocol.csv", _write(_missing_column()), "quarantined", "missing_columns",
         "missing column(s) received_at", ("columns found:",)),
    Case("formula_file_name", '=HYPERLINK("x"),1.csv', _write(dossiers_text("F", 1)), "quarantined",
         "unknown_file", "not a known extract file name"),
    Case("quoted_line_end_in_field", "procedures_multiline.csv", _write(_multiline_field()), "loaded", rows=2),
    Case("old_mac_line_ends", "dossier_status_history_mac.csv", _write(_cr_only()), "loaded", rows=3),
    Case("parquet_good", "dossiers_typed.parquet", _parquet(dossier_rows("PQ", 4)), "loaded", rows=4),
    Case("parquet_too_many_rows", "dossiers_many.parquet", _parquet(dossier_rows("PM", MAX_ROWS + 1)),
         "quarantined", "limit_exceeded_rows", "too many rows", (f"{MAX_ROWS + 1} > {MAX_ROWS}",)),
    Case("parquet_corrupt", "complaints_corrupt.parquet", _not_parquet, "quarantined", "unreadable_file",
         "not a readable Parquet file"),
    Case("small_month_good", "dossiers_ok.csv", _write(dossiers_text("OK", 2)), "loaded", rows=2,
         month=SMALL_LIMITS_MONTH),
    Case("uncompressed_size", "dossiers_big.csv.gz", _big_gzip, "quarantined", "limit_exceeded_uncompressed_bytes",
         "uncompressed size", ("DXMON_LIMIT_MAX_UNCOMPRESSED_BYTES",), month=SMALL_LIMITS_MONTH),
    Case("file_size", "dossiers_huge.csv", _huge_file, "refused", "limit_exceeded_file_bytes", "file size",
         ("DXMON_LIMIT_MAX_FILE_BYTES",), month=SMALL_LIMITS_MONTH),
)


def snapshot(con) -> dict:
    """Everything a load writes, in a stable order (what a no-op rerun must leave identical)."""
    out = {}
    for table in ("raw.dossiers", "raw.dossier_status_history", "raw.procedures", "raw.complaints",
                  "raw.ingested_sources", "quarantine.rejected_files", "meta.raw_archive"):
        out[table] = sorted(map(repr, con.execute(f"SELECT * FROM {table}").fetchall()))
    return out


def tree(folder: Path) -> list[tuple[str, int]]:
    return sorted((str(p.relative_to(folder)), p.lstat().st_size) for p in folder.rglob("*"))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Build both months, load them, load them again; what each test looks at."""
    root = tmp_path_factory.mktemp("landing_corpus")
    outside = root / "outside"  # somewhere else on the machine
    outside.mkdir()
    (outside / "secret.txt").write_text("not for the platform\n")
    write_csv(outside / "dossiers_outside.csv", "dossiers", dossier_rows("OUT", 3))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DXMON_DATA_DIR", str(root / "data"))
        mp.setenv("DXMON_WAREHOUSE", str(root / "data" / "warehouse" / "dxmon.duckdb"))
        mp.delenv("DXMON_LANDING_DIR", raising=False)
        for case in CASES:
            folder = landing_dir() / case.month
            folder.mkdir(parents=True, exist_ok=True)
            case.build(folder / case.name, outside)
        outside_before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in outside.iterdir()}

        def load_all():
            with connect() as con:
                prepare_warehouse(con)
                mp.setenv("DXMON_LIMIT_MAX_ROWS", str(MAX_ROWS))
                first = ingest_landing_month(con, MONTH)
                mp.delenv("DXMON_LIMIT_MAX_ROWS")
                for name, value in SMALL_LIMITS.items():
                    mp.setenv(name, value)
                second = ingest_landing_month(con, SMALL_LIMITS_MONTH)
                for name in SMALL_LIMITS:
                    mp.delenv(name)
                return {**{Path(f.path).name: f for f in first.files}, **{Path(f.path).name: f for f in second.files}}, \
                    first, snapshot(con)

        outcomes, report, state = load_all()
        quarantine_tree = tree(root / "data" / "quarantine")
        archive_index = {m: read_index(m) for m in (MONTH, SMALL_LIMITS_MONTH)}
        rerun, rerun_report, rerun_state = load_all()
        with connect(read_only=True) as con:
            sources = {Path(r[0]).name: r[1:] for r in con.execute(
                "SELECT original_location, row_count, rejected_count, rows_read FROM raw.ingested_sources "
                "WHERE superseded_at IS NULL").fetchall()}
            rejected_files = {Path(r[0]).name: r[1:] for r in con.execute(
                "SELECT original_location, rule, reason, location, sha256 FROM quarantine.rejected_files").fetchall()}
            ids = {r[0]: r[1] for r in con.execute(
                "SELECT dossier_id, source_id FROM raw.dossiers UNION ALL "
                "SELECT dossier_id, source_id FROM raw.dossier_status_history UNION ALL "
                "SELECT procedure_code, source_id FROM raw.procedures UNION ALL "
                "SELECT complaint_id, source_id FROM raw.complaints").fetchall()}
            names = {r[0]: r[1] for r in con.execute("SELECT procedure_code, procedure_name FROM raw.procedures"
                                                    ).fetchall()}
        yield {
            "root": root, "outside": outside, "outside_before": outside_before, "outcomes": outcomes,
            "report": report, "state": state, "rerun": rerun, "rerun_report": rerun_report,
            "rerun_state": rerun_state, "quarantine_tree": quarantine_tree,
            "quarantine_tree_after": tree(root / "data" / "quarantine"), "archive_index": archive_index,
            "archive_index_after": {m: read_index(m) for m in (MONTH, SMALL_LIMITS_MONTH)},
            "sources": sources, "rejected_files": rejected_files, "ids": ids, "names": names,
            "archive_dir": raw_archive_dir(),
        }


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_each_landing_case(corpus, case):
    outcome = corpus["outcomes"][case.name]
    assert outcome.action == case.action, (outcome.action, outcome.reason)
    # the month's good files load whatever sits beside them
    good = corpus["outcomes"]["dossiers_good.csv" if case.month == MONTH else "dossiers_ok.csv"]
    assert good.action == "loaded" and good.rows == good.rows_read
    if case.action == "loaded":
        assert outcome.rule is None and outcome.reason is None
        # reconciliation, as reported and as recorded: rows read = rows stored (valid + rejected)
        assert outcome.rows == outcome.rows_read == case.rows
        assert corpus["sources"][case.name] == (case.rows, outcome.rejected_rows, case.rows)
        assert case.name not in corpus["rejected_files"]
    else:
        assert outcome.rule == case.rule
        reason = outcome.reason
        assert reason.startswith(case.cause), reason
        assert outcome.path in reason and not reason.startswith(case.name[:10])
        for fragment in case.fragments:
            assert fragment in reason, (fragment, reason)
        # nothing of it is loaded or recorded as loaded
        assert case.name not in corpus["sources"]
        rule, recorded_reason, location, _ = corpus["rejected_files"][case.name]
        assert (rule, recorded_reason) == (case.rule, reason)
        record = json.loads(Path(location if case.action == "refused" else location + ".reason.json").read_text())
        assert (record["rule"], record["reason"]) == (case.rule, reason)
        if case.action == "refused":
            # refused unread: no copy, nothing archived
            assert record["details"] == {"copied": False} and location.endswith(".reason.json")
            assert all(r["original_name"] != case.name for r in corpus["archive_index"][case.month])
        else:
            path = landing_dir_of(corpus, case) / case.name
            assert Path(location).read_bytes() == path.read_bytes()  # a copy; the original left in place
    # the rerun: the same entry is a no-op
    again = corpus["rerun"][case.name]
    assert again.action == "unchanged", (again.action, again.reason)


def landing_dir_of(corpus, case) -> Path:
    return corpus["root"] / "data" / "landing" / case.month


def test_rows_of_refused_and_quarantined_files_never_enter_and_names_are_literal(corpus):
    ids = corpus["ids"]
    for prefix in ("OUT", "CUT", "NT", "CRC", "NC", "F1", "LL", "LF", "Q", "CR", "BIG", "HUGE", "M0", "PM"):
        assert not [i for i in ids if i and i.startswith(prefix)], prefix
    # every name loads exactly its own bytes: the '*' file its own two rows, its sibling its three
    by_source: dict[str, set[str]] = {}
    for dossier_id, source_id in ids.items():
        by_source.setdefault(source_id, set()).add(dossier_id)
    star = corpus["outcomes"]["dossiers_x_*.csv"].source_id
    sibling = corpus["outcomes"]["dossiers_x_a.csv"].source_id
    odd = corpus["outcomes"]["dossiers ?[1]{a,b} 'q' \"d\" hồ sơ.csv"].source_id
    assert by_source[star] == {"STAR1", "STAR2"} and by_source[sibling] == {"XA1", "XA2", "XA3"}
    assert by_source[odd] == {"ODD1", "ODD2"}
    assert {i for i in ids if i.startswith("MEM")} == {"MEM1", "MEM2", "MEM3", "MEMB1", "MEMB2"}
    # UTF-16 of either byte order keeps the Vietnamese text; a quoted line end stays in its field
    assert corpus["names"]["1.000001"] == "Đăng ký khai sinh – Hòa"
    assert corpus["names"]["1.ML"] == "Thủ tục\nnhiều dòng, có dấu phẩy"


def test_nothing_outside_the_folder_is_read_copied_archived_or_moved(corpus):
    outside = corpus["outside"]
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in outside.iterdir()} == corpus["outside_before"]
    secret = (outside / "secret.txt").read_bytes()
    outside_csv = (outside / "dossiers_outside.csv").read_bytes()
    for path in (corpus["root"] / "data").rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            assert data != secret and data != outside_csv, path
    for month in (MONTH, SMALL_LIMITS_MONTH):
        assert all(str(outside) not in r["original_location"] for r in corpus["archive_index"][month])
    # the links and the FIFO are still there, untouched
    folder = corpus["root"] / "data" / "landing" / MONTH
    assert os.readlink(folder / "dossiers_link_secret.csv") == str(outside / "secret.txt")
    assert (folder / "dossier_status_history_fifo.csv").is_fifo()


def test_the_rerun_is_a_no_op(corpus):
    assert all(f.action == "unchanged" for f in corpus["rerun"].values())
    assert corpus["rerun_state"] == corpus["state"]
    assert corpus["quarantine_tree_after"] == corpus["quarantine_tree"]
    assert corpus["archive_index_after"] == corpus["archive_index"]


def test_the_month_metadata_reconciles(corpus):
    meta = corpus["report"].as_metadata()
    loaded = [c for c in CASES if c.month == MONTH and c.action == "loaded"]
    assert meta["loaded"] == len(loaded) and meta["reconciled"] is True
    assert meta["rows_read"] == meta["rows_loaded"] == sum(c.rows for c in loaded)
    assert meta["refused"] == sum(c.action == "refused" and c.month == MONTH for c in CASES)
    assert meta["quarantined"] == sum(c.action == "quarantined" and c.month == MONTH for c in CASES)
