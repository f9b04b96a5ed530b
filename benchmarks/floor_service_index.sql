-- The floor of the service-index benchmark: ONE hand-written DuckDB statement computing the 766
-- service index of one month (marts.fct_service_index_monthly, as-reported units, the column
-- total_score_unrounded) straight from the month's landing files and the dbt seeds. No
-- intermediate tables, no Python loops: the baseline a hand-written SQL would be.
--
-- Placeholders, each written as its name in curly braces (filled by benchmarks/floor.py; the
-- names are not braced in these comments, where a filled-in value would break out of the line):
--   month     first day of the month, e.g. 2025-08-01
--   seeds     the dbt_project/seeds folder (read with read_csv and explicit types)
--   landing   the month's landing folder, which floor.py turns into the four relations
--   source_dossiers, source_dossier_status_history, source_procedures, source_complaints:
--             every file of the kind with the contract's column names as found in the file
--             (Parquet: typed; CSV: all text), plus __source_order (the rank of the file's source
--             id as the loader names it, file:<month>:<kind>:<sha256[:16]>, among the kind's
--             files) and __source_row (1-based row within the file): the order of duplicates.
--
-- What it reproduces, and where the pipeline does it:
--   * row rules (expectations/row_rules.py): per-row rules (missing required field, unreadable
--     value, value not allowed, due_before_received, received_after_period, negative_fee,
--     statutory_duration_without_unit, status_after_period, mandatory_parts_out_of_range,
--     completed_before_received, negative_reactions) and cross-row rules (unit code not valid in
--     the month, status before the dossier's reception rejecting both the status rows and the
--     dossier, duplicate keys keeping the first valid occurrence by source_id, source_row).
--     A column whose file type is the contract type is taken as is; any other is read from its
--     text exactly as the loader does. `typeof(column)` is a constant, so DuckDB folds the
--     CASEs below away and typed Parquet columns are never converted to text. The loader's text
--     cleaning (trim, non-breaking spaces, a leading apostrophe, a one-digit unit code) is written
--     with plain string functions, which give the same values as its regular expressions.
--   * int_unit_codes_attributed, int_calendar_working_days, int_procedures_assessed,
--     int_dossiers_timed, int_complaints_timed, int_service_measures_aggregated (as reported),
--     int_service_index_scored and fct_service_index_monthly (as reported).
-- The statement only sees one month's files: a carried-over dossier's statuses must be in the
-- month's own status-history file (the pipeline would also use earlier months' extracts).
WITH RECURSIVE

-- ---------------------------------------------------------------------------------------------
-- Seeds

provinces_63 AS (
    SELECT * FROM read_csv('{seeds}/units/units_provinces_63.csv', header = true, columns = {
        'province_code': 'VARCHAR', 'name_vi': 'VARCHAR', 'name_ascii': 'VARCHAR',
        'region_vi': 'VARCHAR', 'region_en': 'VARCHAR', 'unit_type': 'VARCHAR'})
),

province_merger AS (
    SELECT * FROM read_csv('{seeds}/units/units_province_merger_2025.csv', header = true, columns = {
        'new_province_code': 'VARCHAR', 'new_name_vi': 'VARCHAR', 'old_province_code': 'VARCHAR',
        'old_name_vi': 'VARCHAR', 'effective_date': 'DATE'})
),

ministries AS (
    SELECT * FROM read_csv('{seeds}/units/units_ministries.csv', header = true, columns = {
        'ministry_code': 'VARCHAR', 'name_vi': 'VARCHAR', 'name_en': 'VARCHAR', 'agency_type': 'VARCHAR',
        'dti_group': 'VARCHAR', 'valid_from': 'DATE', 'valid_to': 'DATE'})
),

ministry_restructure AS (
    SELECT * FROM read_csv('{seeds}/units/units_ministry_restructure_2025.csv', header = true, columns = {
        'old_ministry_code': 'VARCHAR', 'new_ministry_code': 'VARCHAR', 'effective_date': 'DATE',
        'legal_basis': 'VARCHAR'})
),

holidays AS (
    SELECT * FROM read_csv('{seeds}/calendar/vn_public_holidays.csv', header = true, columns = {
        'date': 'DATE', 'holiday_name_vi': 'VARCHAR', 'day_kind': 'VARCHAR', 'source': 'VARCHAR'})
),

methodology_versions AS (
    SELECT * FROM read_csv('{seeds}/methodology/service_index_methodology_versions.csv', header = true, columns = {
        'methodology_version': 'VARCHAR', 'legal_basis': 'VARCHAR', 'issued_on': 'DATE',
        'applies_from_month': 'DATE', 'applies_to_month': 'DATE', 'points_source': 'VARCHAR', 'note': 'VARCHAR'})
),

indicators AS (
    SELECT * FROM read_csv('{seeds}/methodology/service_index_indicators_766_2022.csv', header = true, columns = {
        'methodology_version': 'VARCHAR', 'group_code': 'VARCHAR', 'indicator_code': 'VARCHAR',
        'indicator_order': 'INTEGER', 'name_vi': 'VARCHAR', 'name_en': 'VARCHAR', 'max_points': 'DOUBLE',
        'rule': 'VARCHAR', 'target_ratio': 'DOUBLE', 'numerator_measure': 'VARCHAR',
        'denominator_measure': 'VARCHAR', 'zero_denominator_policy': 'VARCHAR', 'applies_to': 'VARCHAR',
        'legal_note': 'VARCHAR'})
),

groups_766 AS (
    SELECT * FROM read_csv('{seeds}/methodology/service_index_groups_766_2022.csv', header = true, columns = {
        'methodology_version': 'VARCHAR', 'group_code': 'VARCHAR', 'decision_group_no': 'INTEGER',
        'group_order': 'INTEGER', 'name_vi': 'VARCHAR', 'name_en': 'VARCHAR', 'max_points': 'DOUBLE',
        'portal_api_group': 'VARCHAR'})
),

-- ---------------------------------------------------------------------------------------------
-- Units valid in the month and the attribution of every registry code (int_units_unioned,
-- int_units_valid_by_month, int_unit_codes_attributed restricted to the month)

units AS (
    SELECT p.province_code AS unit_code, 'province' AS unit_level,
           DATE '2020-01-01' AS valid_from, CAST(m.effective_date - INTERVAL 1 DAY AS DATE) AS valid_to
    FROM provinces_63 p LEFT JOIN province_merger m ON m.old_province_code = p.province_code
    UNION ALL
    SELECT DISTINCT new_province_code, 'province', effective_date, CAST(NULL AS DATE)
    FROM (SELECT DISTINCT new_province_code, new_name_vi, effective_date FROM province_merger)
    UNION ALL
    SELECT ministry_code, 'ministry', valid_from, valid_to FROM ministries
),

units_in_month AS (
    SELECT unit_code, unit_level FROM units
    WHERE valid_from <= DATE '{month}' AND (valid_to IS NULL OR valid_to >= DATE '{month}')
      AND DATE '{month}' >= DATE '2020-01-01' AND DATE '{month}' < DATE '2031-01-01'
),

crosswalk_edges AS (
    SELECT old_province_code AS old_code, new_province_code AS new_code, effective_date
    FROM province_merger WHERE old_province_code <> new_province_code
    UNION ALL
    SELECT old_ministry_code, new_ministry_code, effective_date
    FROM ministry_restructure WHERE old_ministry_code <> new_ministry_code
),

successors(reported_code, successor_code, depth, in_effect_from) AS (
    SELECT DISTINCT unit_code, unit_code, 0, CAST(NULL AS DATE) FROM units
    UNION ALL
    SELECT s.reported_code, e.new_code, s.depth + 1,
           CASE WHEN s.in_effect_from IS NULL OR e.effective_date > s.in_effect_from
                THEN e.effective_date ELSE s.in_effect_from END
    FROM successors s JOIN crosswalk_edges e ON e.old_code = s.successor_code
    WHERE s.depth < 10
),

attribution AS (
    -- reported code -> the unit it counts for in the month (the nearest successor valid in it)
    SELECT s.reported_code, arg_min(u.unit_code, s.depth) AS unit_code, arg_min(u.unit_level, s.depth) AS unit_level
    FROM successors s JOIN units_in_month u ON u.unit_code = s.successor_code
    WHERE s.in_effect_from IS NULL OR s.in_effect_from <= DATE '{month}'
    GROUP BY s.reported_code
),

-- ---------------------------------------------------------------------------------------------
-- Working-day calendar 2020-01-01 .. 2030-12-31 (int_calendar_working_days)

calendar AS (
    SELECT calendar_date, is_working_day,
           CAST(sum(CASE WHEN is_working_day THEN 1 ELSE 0 END)
                OVER (ORDER BY calendar_date ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS INTEGER) AS wdi
    FROM (
        SELECT CAST(r.d AS DATE) AS calendar_date,
               CASE WHEN h.day_kind = 'makeup_workday' THEN true
                    WHEN h.day_kind = 'holiday' THEN false
                    WHEN extract(dow FROM CAST(r.d AS DATE)) IN (0, 6) THEN false
                    ELSE true END AS is_working_day
        FROM range(TIMESTAMP '2020-01-01', TIMESTAMP '2031-01-01', INTERVAL 1 DAY) AS r(d)
        LEFT JOIN holidays h ON h."date" = CAST(r.d AS DATE)
    )
),

-- ---------------------------------------------------------------------------------------------
-- Dossiers: parse and per-row rules. NOT MATERIALIZED: the file is read twice (every column for
-- the rules; the id and reception alone for the per-id counts) rather than stored in between.

dossiers_text AS NOT MATERIALIZED (
    SELECT
        __source_order, __source_row,
        CASE WHEN contains(CAST(dossier_id AS VARCHAR), chr(160)) OR starts_with(CAST(dossier_id AS VARCHAR), ' ') OR ends_with(CAST(dossier_id AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(dossier_id AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(dossier_id AS VARCHAR), '') END AS t_dossier_id,
        CASE WHEN contains(CAST(procedure_code AS VARCHAR), chr(160)) OR starts_with(CAST(procedure_code AS VARCHAR), ' ') OR ends_with(CAST(procedure_code AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(procedure_code AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(procedure_code AS VARCHAR), '') END AS t_procedure_code,
        CASE WHEN contains(CAST(handling_agency_code AS VARCHAR), chr(160)) OR starts_with(CAST(handling_agency_code AS VARCHAR), ' ') OR ends_with(CAST(handling_agency_code AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(handling_agency_code AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(handling_agency_code AS VARCHAR), '') END AS t_handling_agency_code,
        CASE WHEN contains(CAST(handling_agency_level AS VARCHAR), chr(160)) OR starts_with(CAST(handling_agency_level AS VARCHAR), ' ') OR ends_with(CAST(handling_agency_level AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(handling_agency_level AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(handling_agency_level AS VARCHAR), '') END AS t_handling_agency_level,
        CASE WHEN contains(CAST(parent_unit_code AS VARCHAR), chr(160)) OR starts_with(CAST(parent_unit_code AS VARCHAR), ' ') OR ends_with(CAST(parent_unit_code AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(parent_unit_code AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(parent_unit_code AS VARCHAR), '') END AS t_parent_unit_code,
        CASE WHEN contains(CAST(statutory_duration_unit AS VARCHAR), chr(160)) OR starts_with(CAST(statutory_duration_unit AS VARCHAR), ' ') OR ends_with(CAST(statutory_duration_unit AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(statutory_duration_unit AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(statutory_duration_unit AS VARCHAR), '') END AS t_statutory_duration_unit,
        CASE WHEN contains(CAST(result_code AS VARCHAR), chr(160)) OR starts_with(CAST(result_code AS VARCHAR), ' ') OR ends_with(CAST(result_code AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(result_code AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(result_code AS VARCHAR), '') END AS t_result_code,
        CASE WHEN contains(CAST(result_file_url AS VARCHAR), chr(160)) OR starts_with(CAST(result_file_url AS VARCHAR), ' ') OR ends_with(CAST(result_file_url AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(result_file_url AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(result_file_url AS VARCHAR), '') END AS t_result_file_url,
        CASE WHEN contains(CAST(population_db_code AS VARCHAR), chr(160)) OR starts_with(CAST(population_db_code AS VARCHAR), ' ') OR ends_with(CAST(population_db_code AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(population_db_code AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(population_db_code AS VARCHAR), '') END AS t_population_db_code,
        CASE WHEN contains(CAST(rating AS VARCHAR), chr(160)) OR starts_with(CAST(rating AS VARCHAR), ' ') OR ends_with(CAST(rating AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(rating AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(rating AS VARCHAR), '') END AS t_rating,
        -- typed columns: as is when the file has the contract type, else their text
        CASE WHEN typeof(submitted_at) = 'TIMESTAMP' THEN NULL ELSE CASE WHEN contains(CAST(submitted_at AS VARCHAR), chr(160)) OR starts_with(CAST(submitted_at AS VARCHAR), ' ') OR ends_with(CAST(submitted_at AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(submitted_at AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(submitted_at AS VARCHAR), '') END END AS t_submitted_at,
        CASE WHEN typeof(received_at) = 'TIMESTAMP' THEN NULL ELSE CASE WHEN contains(CAST(received_at AS VARCHAR), chr(160)) OR starts_with(CAST(received_at AS VARCHAR), ' ') OR ends_with(CAST(received_at AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(received_at AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(received_at AS VARCHAR), '') END END AS t_received_at,
        CASE WHEN typeof(due_at) = 'TIMESTAMP' THEN NULL ELSE CASE WHEN contains(CAST(due_at AS VARCHAR), chr(160)) OR starts_with(CAST(due_at AS VARCHAR), ' ') OR ends_with(CAST(due_at AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(due_at AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(due_at AS VARCHAR), '') END END AS t_due_at,
        CASE WHEN typeof(synced_at) = 'TIMESTAMP' THEN NULL ELSE CASE WHEN contains(CAST(synced_at AS VARCHAR), chr(160)) OR starts_with(CAST(synced_at AS VARCHAR), ' ') OR ends_with(CAST(synced_at AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(synced_at AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(synced_at AS VARCHAR), '') END END AS t_synced_at,
        CASE WHEN typeof(statutory_duration) = 'DOUBLE' THEN NULL ELSE CASE WHEN contains(CAST(statutory_duration AS VARCHAR), chr(160)) OR starts_with(CAST(statutory_duration AS VARCHAR), ' ') OR ends_with(CAST(statutory_duration AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(statutory_duration AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(statutory_duration AS VARCHAR), '') END END AS t_statutory_duration,
        CASE WHEN typeof(fee_amount) = 'DECIMAL(18,2)' THEN NULL ELSE CASE WHEN contains(CAST(fee_amount AS VARCHAR), chr(160)) OR starts_with(CAST(fee_amount AS VARCHAR), ' ') OR ends_with(CAST(fee_amount AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(fee_amount AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(fee_amount AS VARCHAR), '') END END AS t_fee_amount,
        CASE WHEN typeof(channel) = 'SMALLINT' THEN NULL ELSE CASE WHEN contains(CAST(channel AS VARCHAR), chr(160)) OR starts_with(CAST(channel AS VARCHAR), ' ') OR ends_with(CAST(channel AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(channel AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(channel AS VARCHAR), '') END END AS t_channel,
        CASE WHEN typeof(online_payment_method) = 'SMALLINT' THEN NULL ELSE CASE WHEN contains(CAST(online_payment_method AS VARCHAR), chr(160)) OR starts_with(CAST(online_payment_method AS VARCHAR), ' ') OR ends_with(CAST(online_payment_method AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(online_payment_method AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(online_payment_method AS VARCHAR), '') END END AS t_online_payment_method,
        CASE WHEN typeof(has_digitised_component) = 'BOOLEAN' THEN NULL ELSE CASE WHEN contains(CAST(has_digitised_component AS VARCHAR), chr(160)) OR starts_with(CAST(has_digitised_component AS VARCHAR), ' ') OR ends_with(CAST(has_digitised_component AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(has_digitised_component AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(has_digitised_component AS VARCHAR), '') END END AS t_has_digitised_component,
        CASE WHEN typeof(has_reused_digitised_data) = 'BOOLEAN' THEN NULL ELSE CASE WHEN contains(CAST(has_reused_digitised_data AS VARCHAR), chr(160)) OR starts_with(CAST(has_reused_digitised_data AS VARCHAR), ' ') OR ends_with(CAST(has_reused_digitised_data AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(has_reused_digitised_data AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(has_reused_digitised_data AS VARCHAR), '') END END AS t_has_reused_digitised_data,
        CASE WHEN typeof(has_personal_store_component) = 'BOOLEAN' THEN NULL ELSE CASE WHEN contains(CAST(has_personal_store_component AS VARCHAR), chr(160)) OR starts_with(CAST(has_personal_store_component AS VARCHAR), ' ') OR ends_with(CAST(has_personal_store_component AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(has_personal_store_component AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(has_personal_store_component AS VARCHAR), '') END END AS t_has_personal_store_component,
        CASE WHEN typeof(is_vneid_authenticated) = 'BOOLEAN' THEN NULL ELSE CASE WHEN contains(CAST(is_vneid_authenticated AS VARCHAR), chr(160)) OR starts_with(CAST(is_vneid_authenticated AS VARCHAR), ' ') OR ends_with(CAST(is_vneid_authenticated AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(is_vneid_authenticated AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(is_vneid_authenticated AS VARCHAR), '') END END AS t_is_vneid_authenticated,
        CASE WHEN typeof(is_electronic_certified_copy) = 'BOOLEAN' THEN NULL ELSE CASE WHEN contains(CAST(is_electronic_certified_copy AS VARCHAR), chr(160)) OR starts_with(CAST(is_electronic_certified_copy AS VARCHAR), ' ') OR ends_with(CAST(is_electronic_certified_copy AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(is_electronic_certified_copy AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(is_electronic_certified_copy AS VARCHAR), '') END END AS t_is_electronic_certified_copy,
        CASE WHEN typeof(has_complaint) = 'BOOLEAN' THEN NULL ELSE CASE WHEN contains(CAST(has_complaint AS VARCHAR), chr(160)) OR starts_with(CAST(has_complaint AS VARCHAR), ' ') OR ends_with(CAST(has_complaint AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(has_complaint AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(has_complaint AS VARCHAR), '') END END AS t_has_complaint,
        CASE WHEN typeof(is_synced_to_portal) = 'BOOLEAN' THEN NULL ELSE CASE WHEN contains(CAST(is_synced_to_portal AS VARCHAR), chr(160)) OR starts_with(CAST(is_synced_to_portal AS VARCHAR), ' ') OR ends_with(CAST(is_synced_to_portal AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(is_synced_to_portal AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(is_synced_to_portal AS VARCHAR), '') END END AS t_is_synced_to_portal,
        -- the typed values (NULL for text columns: parsed below)
        CASE WHEN typeof(submitted_at) = 'TIMESTAMP' THEN TRY_CAST(submitted_at AS TIMESTAMP) END AS v_submitted_at,
        CASE WHEN typeof(received_at) = 'TIMESTAMP' THEN TRY_CAST(received_at AS TIMESTAMP) END AS v_received_at,
        CASE WHEN typeof(due_at) = 'TIMESTAMP' THEN TRY_CAST(due_at AS TIMESTAMP) END AS v_due_at,
        CASE WHEN typeof(synced_at) = 'TIMESTAMP' THEN TRY_CAST(synced_at AS TIMESTAMP) END AS v_synced_at,
        CASE WHEN typeof(statutory_duration) = 'DOUBLE' THEN TRY_CAST(statutory_duration AS DOUBLE) END AS v_statutory_duration,
        CASE WHEN typeof(fee_amount) = 'DECIMAL(18,2)' THEN TRY_CAST(fee_amount AS DECIMAL(18,2)) END AS v_fee_amount,
        CASE WHEN typeof(channel) = 'SMALLINT' THEN TRY_CAST(channel AS SMALLINT) END AS v_channel,
        CASE WHEN typeof(online_payment_method) = 'SMALLINT' THEN TRY_CAST(online_payment_method AS SMALLINT) END AS v_online_payment_method,
        CASE WHEN typeof(has_digitised_component) = 'BOOLEAN' THEN TRY_CAST(has_digitised_component AS BOOLEAN) END AS v_has_digitised_component,
        CASE WHEN typeof(has_reused_digitised_data) = 'BOOLEAN' THEN TRY_CAST(has_reused_digitised_data AS BOOLEAN) END AS v_has_reused_digitised_data,
        CASE WHEN typeof(has_personal_store_component) = 'BOOLEAN' THEN TRY_CAST(has_personal_store_component AS BOOLEAN) END AS v_has_personal_store_component,
        CASE WHEN typeof(is_vneid_authenticated) = 'BOOLEAN' THEN TRY_CAST(is_vneid_authenticated AS BOOLEAN) END AS v_is_vneid_authenticated,
        CASE WHEN typeof(is_electronic_certified_copy) = 'BOOLEAN' THEN TRY_CAST(is_electronic_certified_copy AS BOOLEAN) END AS v_is_electronic_certified_copy,
        CASE WHEN typeof(has_complaint) = 'BOOLEAN' THEN TRY_CAST(has_complaint AS BOOLEAN) END AS v_has_complaint,
        CASE WHEN typeof(is_synced_to_portal) = 'BOOLEAN' THEN TRY_CAST(is_synced_to_portal AS BOOLEAN) END AS v_is_synced_to_portal,
        typeof(submitted_at) = 'TIMESTAMP' AS k_submitted_at,
        typeof(received_at) = 'TIMESTAMP' AS k_received_at,
        typeof(due_at) = 'TIMESTAMP' AS k_due_at,
        typeof(synced_at) = 'TIMESTAMP' AS k_synced_at,
        typeof(statutory_duration) = 'DOUBLE' AS k_statutory_duration,
        typeof(fee_amount) = 'DECIMAL(18,2)' AS k_fee_amount,
        typeof(channel) = 'SMALLINT' AS k_channel,
        typeof(online_payment_method) = 'SMALLINT' AS k_online_payment_method,
        typeof(has_digitised_component) = 'BOOLEAN' AS k_has_digitised_component,
        typeof(has_reused_digitised_data) = 'BOOLEAN' AS k_has_reused_digitised_data,
        typeof(has_personal_store_component) = 'BOOLEAN' AS k_has_personal_store_component,
        typeof(is_vneid_authenticated) = 'BOOLEAN' AS k_is_vneid_authenticated,
        typeof(is_electronic_certified_copy) = 'BOOLEAN' AS k_is_electronic_certified_copy,
        typeof(has_complaint) = 'BOOLEAN' AS k_has_complaint,
        typeof(is_synced_to_portal) = 'BOOLEAN' AS k_is_synced_to_portal
    FROM {source_dossiers}
),

dossiers_parsed AS NOT MATERIALIZED (
    SELECT
        __source_order, __source_row,
        CASE WHEN starts_with(t_dossier_id, '''') THEN substr(t_dossier_id, 2) ELSE t_dossier_id END AS dossier_id,
        CASE WHEN starts_with(t_procedure_code, '''') THEN substr(t_procedure_code, 2) ELSE t_procedure_code END AS procedure_code,
        CASE WHEN starts_with(t_handling_agency_level, '''') THEN substr(t_handling_agency_level, 2) ELSE t_handling_agency_level END AS handling_agency_level,
        CASE WHEN length(CASE WHEN starts_with(t_parent_unit_code, '''') THEN substr(t_parent_unit_code, 2) ELSE t_parent_unit_code END) = 1
              AND (CASE WHEN starts_with(t_parent_unit_code, '''') THEN substr(t_parent_unit_code, 2) ELSE t_parent_unit_code END) BETWEEN '0' AND '9'
             THEN '0' || CASE WHEN starts_with(t_parent_unit_code, '''') THEN substr(t_parent_unit_code, 2) ELSE t_parent_unit_code END
             ELSE CASE WHEN starts_with(t_parent_unit_code, '''') THEN substr(t_parent_unit_code, 2) ELSE t_parent_unit_code END END AS parent_unit_code,
        CASE WHEN starts_with(t_statutory_duration_unit, '''') THEN substr(t_statutory_duration_unit, 2) ELSE t_statutory_duration_unit END AS statutory_duration_unit,
        CASE WHEN starts_with(t_result_code, '''') THEN substr(t_result_code, 2) ELSE t_result_code END AS result_code,
        CASE WHEN starts_with(t_result_file_url, '''') THEN substr(t_result_file_url, 2) ELSE t_result_file_url END AS result_file_url,
        CASE WHEN starts_with(t_population_db_code, '''') THEN substr(t_population_db_code, 2) ELSE t_population_db_code END AS population_db_code,
        CASE WHEN starts_with(t_rating, '''') THEN substr(t_rating, 2) ELSE t_rating END AS rating,
        CASE WHEN k_submitted_at THEN v_submitted_at ELSE try_strptime(t_submitted_at, ['%Y-%m-%d %H:%M:%S', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%d %H:%M:%S.%f', '%Y-%m-%dT%H:%M:%S.%f', '%Y-%m-%d %H:%M', '%d/%m/%Y %H:%M:%S', '%d/%m/%Y %H:%M', '%Y-%m-%d', '%d/%m/%Y']) END AS submitted_at,
        CASE WHEN k_received_at THEN v_received_at ELSE try_strptime(t_received_at, ['%Y-%m-%d %H:%M:%S', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%d %H:%M:%S.%f', '%Y-%m-%dT%H:%M:%S.%f', '%Y-%m-%d %H:%M', '%d/%m/%Y %H:%M:%S', '%d/%m/%Y %H:%M', '%Y-%m-%d', '%d/%m/%Y']) END AS received_at,
        CASE WHEN k_due_at THEN v_due_at ELSE try_strptime(t_due_at, ['%Y-%m-%d %H:%M:%S', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%d %H:%M:%S.%f', '%Y-%m-%dT%H:%M:%S.%f', '%Y-%m-%d %H:%M', '%d/%m/%Y %H:%M:%S', '%d/%m/%Y %H:%M', '%Y-%m-%d', '%d/%m/%Y']) END AS due_at,
        CASE WHEN k_synced_at THEN v_synced_at ELSE try_strptime(t_synced_at, ['%Y-%m-%d %H:%M:%S', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%d %H:%M:%S.%f', '%Y-%m-%dT%H:%M:%S.%f', '%Y-%m-%d %H:%M', '%d/%m/%Y %H:%M:%S', '%d/%m/%Y %H:%M', '%Y-%m-%d', '%d/%m/%Y']) END AS synced_at,
        -- numbers written the Vietnamese way ('1.234,5'), with a decimal comma or English thousands
        CASE WHEN k_statutory_duration THEN v_statutory_duration ELSE TRY_CAST(
            CASE WHEN regexp_full_match(replace(replace(t_statutory_duration, ' ', ''), '%', ''), '-?\d{1,3}(\.\d{3})+(,\d+)?')
                     THEN replace(replace(replace(replace(t_statutory_duration, ' ', ''), '%', ''), '.', ''), ',', '.')
                 WHEN regexp_full_match(replace(replace(t_statutory_duration, ' ', ''), '%', ''), '-?\d+,\d+')
                     THEN replace(replace(replace(t_statutory_duration, ' ', ''), '%', ''), ',', '.')
                 WHEN regexp_full_match(replace(replace(t_statutory_duration, ' ', ''), '%', ''), '-?\d{1,3}(,\d{3})+(\.\d+)?')
                     THEN replace(replace(replace(t_statutory_duration, ' ', ''), '%', ''), ',', '')
                 ELSE replace(replace(t_statutory_duration, ' ', ''), '%', '') END AS DOUBLE) END AS statutory_duration,
        CASE WHEN k_fee_amount THEN v_fee_amount ELSE TRY_CAST(
            CASE WHEN regexp_full_match(replace(replace(t_fee_amount, ' ', ''), '%', ''), '-?\d{1,3}(\.\d{3})+(,\d+)?')
                     THEN replace(replace(replace(replace(t_fee_amount, ' ', ''), '%', ''), '.', ''), ',', '.')
                 WHEN regexp_full_match(replace(replace(t_fee_amount, ' ', ''), '%', ''), '-?\d+,\d+')
                     THEN replace(replace(replace(t_fee_amount, ' ', ''), '%', ''), ',', '.')
                 WHEN regexp_full_match(replace(replace(t_fee_amount, ' ', ''), '%', ''), '-?\d{1,3}(,\d{3})+(\.\d+)?')
                     THEN replace(replace(replace(t_fee_amount, ' ', ''), '%', ''), ',', '')
                 ELSE replace(replace(t_fee_amount, ' ', ''), '%', '') END AS DECIMAL(18,2)) END AS fee_amount,
        CASE WHEN k_channel THEN v_channel ELSE TRY_CAST(t_channel AS SMALLINT) END AS channel,
        CASE WHEN k_online_payment_method THEN v_online_payment_method ELSE TRY_CAST(t_online_payment_method AS SMALLINT) END AS online_payment_method,
        CASE WHEN k_has_digitised_component THEN v_has_digitised_component
             WHEN lower(t_has_digitised_component) IN ('true', 't', '1', 'yes', 'y', 'có', 'co', 'x') THEN true
             WHEN lower(t_has_digitised_component) IN ('false', 'f', '0', 'no', 'n', 'không', 'khong') THEN false END AS has_digitised_component,
        CASE WHEN k_has_reused_digitised_data THEN v_has_reused_digitised_data
             WHEN lower(t_has_reused_digitised_data) IN ('true', 't', '1', 'yes', 'y', 'có', 'co', 'x') THEN true
             WHEN lower(t_has_reused_digitised_data) IN ('false', 'f', '0', 'no', 'n', 'không', 'khong') THEN false END AS has_reused_digitised_data,
        CASE WHEN k_has_personal_store_component THEN v_has_personal_store_component
             WHEN lower(t_has_personal_store_component) IN ('true', 't', '1', 'yes', 'y', 'có', 'co', 'x') THEN true
             WHEN lower(t_has_personal_store_component) IN ('false', 'f', '0', 'no', 'n', 'không', 'khong') THEN false END AS has_personal_store_component,
        CASE WHEN k_is_vneid_authenticated THEN v_is_vneid_authenticated
             WHEN lower(t_is_vneid_authenticated) IN ('true', 't', '1', 'yes', 'y', 'có', 'co', 'x') THEN true
             WHEN lower(t_is_vneid_authenticated) IN ('false', 'f', '0', 'no', 'n', 'không', 'khong') THEN false END AS is_vneid_authenticated,
        CASE WHEN k_is_electronic_certified_copy THEN v_is_electronic_certified_copy
             WHEN lower(t_is_electronic_certified_copy) IN ('true', 't', '1', 'yes', 'y', 'có', 'co', 'x') THEN true
             WHEN lower(t_is_electronic_certified_copy) IN ('false', 'f', '0', 'no', 'n', 'không', 'khong') THEN false END AS is_electronic_certified_copy,
        CASE WHEN k_has_complaint THEN v_has_complaint
             WHEN lower(t_has_complaint) IN ('true', 't', '1', 'yes', 'y', 'có', 'co', 'x') THEN true
             WHEN lower(t_has_complaint) IN ('false', 'f', '0', 'no', 'n', 'không', 'khong') THEN false END AS has_complaint,
        CASE WHEN k_is_synced_to_portal THEN v_is_synced_to_portal
             WHEN lower(t_is_synced_to_portal) IN ('true', 't', '1', 'yes', 'y', 'có', 'co', 'x') THEN true
             WHEN lower(t_is_synced_to_portal) IN ('false', 'f', '0', 'no', 'n', 'không', 'khong') THEN false END AS is_synced_to_portal,
        -- required fields: empty text (typed columns: NULL)
        (t_dossier_id IS NULL OR t_procedure_code IS NULL OR t_handling_agency_code IS NULL
         OR t_handling_agency_level IS NULL OR t_parent_unit_code IS NULL
         OR (CASE WHEN k_received_at THEN v_received_at IS NULL ELSE t_received_at IS NULL END)
         OR (CASE WHEN k_has_digitised_component THEN v_has_digitised_component IS NULL ELSE t_has_digitised_component IS NULL END)
         OR (CASE WHEN k_has_reused_digitised_data THEN v_has_reused_digitised_data IS NULL ELSE t_has_reused_digitised_data IS NULL END)
         OR (CASE WHEN k_has_personal_store_component THEN v_has_personal_store_component IS NULL ELSE t_has_personal_store_component IS NULL END)
         OR (CASE WHEN k_is_vneid_authenticated THEN v_is_vneid_authenticated IS NULL ELSE t_is_vneid_authenticated IS NULL END)
         OR (CASE WHEN k_is_electronic_certified_copy THEN v_is_electronic_certified_copy IS NULL ELSE t_is_electronic_certified_copy IS NULL END)
         OR (CASE WHEN k_has_complaint THEN v_has_complaint IS NULL ELSE t_has_complaint IS NULL END)
         OR (CASE WHEN k_is_synced_to_portal THEN v_is_synced_to_portal IS NULL ELSE t_is_synced_to_portal IS NULL END)
        ) AS missing_required,
        -- text that was there but could not be read (only text columns can be unreadable)
        t_submitted_at, t_received_at, t_due_at, t_synced_at, t_statutory_duration, t_fee_amount, t_channel,
        t_online_payment_method, t_has_digitised_component, t_has_reused_digitised_data,
        t_has_personal_store_component, t_is_vneid_authenticated, t_is_electronic_certified_copy,
        t_has_complaint, t_is_synced_to_portal
    FROM dossiers_text
),

dossiers_raw AS NOT MATERIALIZED (
    -- every dossier row with its parsed values and whether a per-row rule rejects it
    SELECT
        __source_order, __source_row, dossier_id, procedure_code, parent_unit_code, received_at, due_at,
        statutory_duration, statutory_duration_unit, channel, has_digitised_component,
        has_reused_digitised_data, has_personal_store_component, result_code, result_file_url,
        is_vneid_authenticated, population_db_code, fee_amount, online_payment_method,
        is_electronic_certified_copy, rating, has_complaint, is_synced_to_portal,
        CASE
            WHEN missing_required THEN true
            WHEN t_submitted_at IS NOT NULL AND submitted_at IS NULL THEN true
            WHEN t_received_at IS NOT NULL AND received_at IS NULL THEN true
            WHEN t_due_at IS NOT NULL AND due_at IS NULL THEN true
            WHEN t_synced_at IS NOT NULL AND synced_at IS NULL THEN true
            WHEN t_statutory_duration IS NOT NULL AND statutory_duration IS NULL THEN true
            WHEN t_fee_amount IS NOT NULL AND fee_amount IS NULL THEN true
            WHEN t_channel IS NOT NULL AND channel IS NULL THEN true
            WHEN t_online_payment_method IS NOT NULL AND online_payment_method IS NULL THEN true
            WHEN t_has_digitised_component IS NOT NULL AND has_digitised_component IS NULL THEN true
            WHEN t_has_reused_digitised_data IS NOT NULL AND has_reused_digitised_data IS NULL THEN true
            WHEN t_has_personal_store_component IS NOT NULL AND has_personal_store_component IS NULL THEN true
            WHEN t_is_vneid_authenticated IS NOT NULL AND is_vneid_authenticated IS NULL THEN true
            WHEN t_is_electronic_certified_copy IS NOT NULL AND is_electronic_certified_copy IS NULL THEN true
            WHEN t_has_complaint IS NOT NULL AND has_complaint IS NULL THEN true
            WHEN t_is_synced_to_portal IS NOT NULL AND is_synced_to_portal IS NULL THEN true
            -- values not allowed
            WHEN handling_agency_level IS NOT NULL
                 AND handling_agency_level NOT IN ('ministry', 'ministry_branch', 'province', 'department', 'commune', 'district') THEN true
            WHEN statutory_duration_unit IS NOT NULL
                 AND statutory_duration_unit NOT IN ('hour', 'day', 'working_day', 'month') THEN true
            WHEN channel IS NOT NULL AND CAST(channel AS VARCHAR) NOT IN ('1', '2', '3') THEN true
            WHEN online_payment_method IS NOT NULL AND CAST(online_payment_method AS VARCHAR) NOT IN ('0', '1', '2') THEN true
            WHEN rating IS NOT NULL AND rating NOT IN ('like', 'dislike') THEN true
            -- single-row consistency rules
            WHEN due_at < received_at THEN true
            WHEN received_at >= DATE '{month}' + INTERVAL 1 MONTH THEN true
            WHEN fee_amount < 0 THEN true
            WHEN statutory_duration IS NOT NULL AND statutory_duration_unit IS NULL THEN true
            ELSE false
        END AS row_rejected
    FROM dossiers_parsed
),

-- ---------------------------------------------------------------------------------------------
-- Status history: parse and per-row rules

history_text AS (
    SELECT
        CASE WHEN contains(CAST(dossier_id AS VARCHAR), chr(160)) OR starts_with(CAST(dossier_id AS VARCHAR), ' ') OR ends_with(CAST(dossier_id AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(dossier_id AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(dossier_id AS VARCHAR), '') END AS t_dossier_id,
        CASE WHEN contains(CAST(parent_unit_code AS VARCHAR), chr(160)) OR starts_with(CAST(parent_unit_code AS VARCHAR), ' ') OR ends_with(CAST(parent_unit_code AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(parent_unit_code AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(parent_unit_code AS VARCHAR), '') END AS t_parent_unit_code,
        CASE WHEN contains(CAST(status_code AS VARCHAR), chr(160)) OR starts_with(CAST(status_code AS VARCHAR), ' ') OR ends_with(CAST(status_code AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(status_code AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(status_code AS VARCHAR), '') END AS t_status_code,
        CASE WHEN typeof(status_at) = 'TIMESTAMP' THEN NULL ELSE CASE WHEN contains(CAST(status_at AS VARCHAR), chr(160)) OR starts_with(CAST(status_at AS VARCHAR), ' ') OR ends_with(CAST(status_at AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(status_at AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(status_at AS VARCHAR), '') END END AS t_status_at,
        CASE WHEN typeof(status_at) = 'TIMESTAMP' THEN TRY_CAST(status_at AS TIMESTAMP) END AS v_status_at,
        typeof(status_at) = 'TIMESTAMP' AS k_status_at
    FROM {source_dossier_status_history}
),

history_raw AS (
    SELECT *,
        CASE
            WHEN t_dossier_id IS NULL OR t_parent_unit_code IS NULL OR t_status_code IS NULL THEN true
            WHEN (CASE WHEN k_status_at THEN v_status_at IS NULL ELSE t_status_at IS NULL END) THEN true
            WHEN t_status_at IS NOT NULL AND status_at IS NULL THEN true
            WHEN status_code IS NOT NULL AND status_code NOT IN ('supplement_requested', 'supplement_completed',
                 'processed', 'result_returned', 'stopped', 'refused', 'withdrawn') THEN true
            WHEN status_at >= DATE '{month}' + INTERVAL 1 MONTH THEN true
            ELSE false
        END AS row_rejected
    FROM (
        SELECT
            CASE WHEN starts_with(t_dossier_id, '''') THEN substr(t_dossier_id, 2) ELSE t_dossier_id END AS dossier_id,
            CASE WHEN length(CASE WHEN starts_with(t_parent_unit_code, '''') THEN substr(t_parent_unit_code, 2) ELSE t_parent_unit_code END) = 1
                  AND (CASE WHEN starts_with(t_parent_unit_code, '''') THEN substr(t_parent_unit_code, 2) ELSE t_parent_unit_code END) BETWEEN '0' AND '9'
                 THEN '0' || CASE WHEN starts_with(t_parent_unit_code, '''') THEN substr(t_parent_unit_code, 2) ELSE t_parent_unit_code END
                 ELSE CASE WHEN starts_with(t_parent_unit_code, '''') THEN substr(t_parent_unit_code, 2) ELSE t_parent_unit_code END END AS parent_unit_code,
            CASE WHEN starts_with(t_status_code, '''') THEN substr(t_status_code, 2) ELSE t_status_code END AS status_code,
            CASE WHEN k_status_at THEN v_status_at ELSE try_strptime(t_status_at, ['%Y-%m-%d %H:%M:%S', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%d %H:%M:%S.%f', '%Y-%m-%dT%H:%M:%S.%f', '%Y-%m-%d %H:%M', '%d/%m/%Y %H:%M:%S', '%d/%m/%Y %H:%M', '%Y-%m-%d', '%d/%m/%Y']) END AS status_at,
            t_dossier_id, t_parent_unit_code, t_status_code, t_status_at, v_status_at, k_status_at
        FROM history_text
    )
),

-- ---------------------------------------------------------------------------------------------
-- Cross-row rules between dossiers and their statuses, and each dossier's statuses.
-- A status earlier than the dossier's reception rejects the dossier and the status; both rules
-- look at every loaded row of the other extract (rejected or not), as the loader's UPDATEs do.
-- The status rule only matters for an id loaded more than once: with one dossier row, a status
-- before its reception rejects that dossier too, so none of its statuses are ever used.

dossier_ids AS (
    -- per id, over every loaded dossier row: how many rows (duplicates) and the latest reception
    SELECT dossier_id, count(*) AS n_rows, max(received_at) AS last_received_at
    FROM dossiers_raw
    WHERE dossier_id IS NOT NULL
    GROUP BY dossier_id
),

repeated_ids AS (
    SELECT dossier_id, last_received_at FROM dossier_ids WHERE n_rows > 1
),

status_facts AS (
    -- per id: the earliest loaded status (the dossier's rule), and from the valid statuses
    -- (row rules, unit valid in the month, not before a reception of the id) the first terminal
    -- status of each priority and the supplement requests and completions (766/QĐ-TTg 2.1).
    -- min() and list_distinct() make duplicate statuses harmless (the pipeline dedups them by key).
    SELECT
        h.dossier_id,
        min(h.status_at) AS first_status_at,
        min(h.status_at) FILTER (WHERE h.is_valid AND h.status_code = 'processed') AS processed_at,
        min(h.status_at) FILTER (WHERE h.is_valid AND h.status_code = 'result_returned') AS returned_at,
        min(h.status_at) FILTER (WHERE h.is_valid AND h.status_code IN ('stopped', 'refused', 'withdrawn')) AS closed_at,
        list(h.status_at) FILTER (WHERE h.is_valid AND h.status_code = 'supplement_requested') AS requests,
        list(h.status_at) FILTER (WHERE h.is_valid AND h.status_code = 'supplement_completed') AS completions
    FROM (
        SELECT
            h.dossier_id, h.status_code, h.status_at,
            NOT h.row_rejected
                AND h.parent_unit_code IN (SELECT reported_code FROM attribution)
                AND NOT coalesce(h.status_at < r.last_received_at, false)
                AND h.status_at < DATE '{month}' + INTERVAL 1 MONTH AS is_valid
        FROM history_raw h
        LEFT JOIN repeated_ids r ON r.dossier_id = h.dossier_id
    ) AS h  -- (the NULL id group is never joined)
    GROUP BY h.dossier_id
),

calendar_list AS (
    -- the working-day index as a list: wdis[date - 2019-12-31] for 2020-01-01 .. 2030-12-31
    SELECT list(wdi ORDER BY calendar_date) AS wdis FROM calendar
),

dossier_statuses AS (
    -- 766/QĐ-TTg 2.1: the end is the first terminal status by priority
    -- processed > result returned > stopped / refused / withdrawn; each supplement request is
    -- answered by the first completion at or after it, and its time is not the agency's
    SELECT
        dossier_id,
        first_status_at,
        coalesce(processed_at, returned_at, closed_at) AS terminal_at,
        (processed_at IS NOT NULL OR returned_at IS NOT NULL) AS is_finished,
        coalesce(len(requests), 0) AS supplement_request_count,
        CASE WHEN requests IS NULL THEN 0 ELSE list_sum(list_transform(requests, r ->
            coalesce(date_diff('second', r, list_min(list_filter(completions, c -> c >= r))), 0))) END
            AS supplement_seconds,
        CASE WHEN requests IS NULL THEN 0 ELSE list_sum(list_transform(requests, r -> coalesce(
            CASE WHEN CAST(list_min(list_filter(completions, c -> c >= r)) AS DATE) >= DATE '2020-01-01'
                  AND CAST(list_min(list_filter(completions, c -> c >= r)) AS DATE) < DATE '2031-01-01'
                 THEN wdis[date_diff('day', DATE '2019-12-31', CAST(list_min(list_filter(completions, c -> c >= r)) AS DATE))] END
            - CASE WHEN CAST(r AS DATE) >= DATE '2020-01-01' AND CAST(r AS DATE) < DATE '2031-01-01'
                   THEN wdis[date_diff('day', DATE '2019-12-31', CAST(r AS DATE))] END, 0))) END
            AS supplement_working_days,
        CASE WHEN requests IS NOT NULL THEN
            list_min(list_filter(requests, r -> list_min(list_filter(completions, c -> c >= r)) IS NULL)) END
            AS open_supplement_requested_at
    FROM (SELECT * REPLACE (list_distinct(requests) AS requests) FROM status_facts)
    CROSS JOIN calendar_list
),

dossiers_checked AS (
    -- rows passing the row rules, with a unit valid in the month and no status before reception
    -- (the dossier's own facts as flags already: narrow rows through the joins below)
    SELECT
        d.dossier_id, d.__source_order, d.__source_row,
        d.dossier_id IN (SELECT dossier_id FROM repeated_ids) AS is_repeated,
        a.unit_code, a.unit_level, d.procedure_code,
        d.received_at, d.due_at, d.statutory_duration, d.statutory_duration_unit,
        -- channel: 1 in person (or empty), 2 online, 3 post
        coalesce(d.channel = 2, false) AS is_online_submission,
        (d.result_code IS NOT NULL AND d.result_file_url IS NOT NULL) AS has_e_result,
        coalesce(d.has_digitised_component, false) AS has_digitised_component,
        coalesce(d.has_reused_digitised_data, false) AS has_reused_digitised_data,
        coalesce(d.has_personal_store_component, false) AS has_personal_store_component,
        -- 4.5b: VNeID-authenticated, a population-database record, or data from the personal store
        (coalesce(d.is_vneid_authenticated, false) OR d.population_db_code IS NOT NULL
         OR coalesce(d.has_personal_store_component, false)) AS uses_population_db,
        coalesce(d.is_electronic_certified_copy, false) AS is_electronic_certified_copy,
        -- 3.5a: fee data synced (a non-zero fee); 3.6 leaves out dossiers whose fee list is all 0
        coalesce(d.fee_amount <> 0, false) AS has_fee_data,
        (d.fee_amount IS NULL OR d.fee_amount <> 0) AS fee_not_all_zero,
        coalesce(d.online_payment_method IN (1, 2), false) AS is_paid_online,
        coalesce(d.is_synced_to_portal, false) AS is_synced_to_portal,
        -- 5.4: the dossier drew a complaint or a dislike
        (coalesce(d.has_complaint, false) OR coalesce(d.rating = 'dislike', false)) AS is_complained_or_disliked,
        s.* EXCLUDE (dossier_id, first_status_at)
    FROM dossiers_raw d
    JOIN attribution a ON a.reported_code = d.parent_unit_code
    LEFT JOIN dossier_statuses s ON s.dossier_id = d.dossier_id
    WHERE NOT d.row_rejected
      AND NOT coalesce(s.first_status_at < d.received_at, false)
),

dossiers_valid AS (
    -- duplicate ids: the first valid occurrence by source and row stays (the window only runs
    -- over the few rows of repeated ids)
    SELECT * EXCLUDE (is_repeated) FROM dossiers_checked WHERE NOT is_repeated
    UNION ALL
    SELECT * EXCLUDE (is_repeated) FROM dossiers_checked WHERE is_repeated
    QUALIFY row_number() OVER (PARTITION BY dossier_id ORDER BY __source_order, __source_row) = 1
),

-- ---------------------------------------------------------------------------------------------
-- Procedures: parse, rules, attribution, duplicates (int_procedures_assessed)

procedures_text AS (
    SELECT
        __source_order, __source_row,
        CASE WHEN contains(CAST(unit_code AS VARCHAR), chr(160)) OR starts_with(CAST(unit_code AS VARCHAR), ' ') OR ends_with(CAST(unit_code AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(unit_code AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(unit_code AS VARCHAR), '') END AS t_unit_code,
        CASE WHEN contains(CAST(procedure_code AS VARCHAR), chr(160)) OR starts_with(CAST(procedure_code AS VARCHAR), ' ') OR ends_with(CAST(procedure_code AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(procedure_code AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(procedure_code AS VARCHAR), '') END AS t_procedure_code,
        CASE WHEN contains(CAST(procedure_name AS VARCHAR), chr(160)) OR starts_with(CAST(procedure_name AS VARCHAR), ' ') OR ends_with(CAST(procedure_name AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(procedure_name AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(procedure_name AS VARCHAR), '') END AS t_procedure_name,
        CASE WHEN contains(CAST(online_service_level AS VARCHAR), chr(160)) OR starts_with(CAST(online_service_level AS VARCHAR), ' ') OR ends_with(CAST(online_service_level AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(online_service_level AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(online_service_level AS VARCHAR), '') END AS t_online_service_level,
        CASE WHEN typeof(announced_on) = 'DATE' THEN NULL ELSE CASE WHEN contains(CAST(announced_on AS VARCHAR), chr(160)) OR starts_with(CAST(announced_on AS VARCHAR), ' ') OR ends_with(CAST(announced_on AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(announced_on AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(announced_on AS VARCHAR), '') END END AS t_announced_on,
        CASE WHEN typeof(legal_basis_effective_on) = 'DATE' THEN NULL ELSE CASE WHEN contains(CAST(legal_basis_effective_on AS VARCHAR), chr(160)) OR starts_with(CAST(legal_basis_effective_on AS VARCHAR), ' ') OR ends_with(CAST(legal_basis_effective_on AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(legal_basis_effective_on AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(legal_basis_effective_on AS VARCHAR), '') END END AS t_legal_basis_effective_on,
        CASE WHEN typeof(published_on) = 'DATE' THEN NULL ELSE CASE WHEN contains(CAST(published_on AS VARCHAR), chr(160)) OR starts_with(CAST(published_on AS VARCHAR), ' ') OR ends_with(CAST(published_on AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(published_on AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(published_on AS VARCHAR), '') END END AS t_published_on,
        CASE WHEN typeof(mandatory_parts_present) = 'SMALLINT' THEN NULL ELSE CASE WHEN contains(CAST(mandatory_parts_present AS VARCHAR), chr(160)) OR starts_with(CAST(mandatory_parts_present AS VARCHAR), ' ') OR ends_with(CAST(mandatory_parts_present AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(mandatory_parts_present AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(mandatory_parts_present AS VARCHAR), '') END END AS t_mandatory_parts_present,
        CASE WHEN typeof(is_full_online_eligible) = 'BOOLEAN' THEN NULL ELSE CASE WHEN contains(CAST(is_full_online_eligible AS VARCHAR), chr(160)) OR starts_with(CAST(is_full_online_eligible AS VARCHAR), ' ') OR ends_with(CAST(is_full_online_eligible AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(is_full_online_eligible AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(is_full_online_eligible AS VARCHAR), '') END END AS t_is_full_online_eligible,
        CASE WHEN typeof(has_fee) = 'BOOLEAN' THEN NULL ELSE CASE WHEN contains(CAST(has_fee AS VARCHAR), chr(160)) OR starts_with(CAST(has_fee AS VARCHAR), ' ') OR ends_with(CAST(has_fee AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(has_fee AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(has_fee AS VARCHAR), '') END END AS t_has_fee,
        CASE WHEN typeof(requires_paper_result) = 'BOOLEAN' THEN NULL ELSE CASE WHEN contains(CAST(requires_paper_result AS VARCHAR), chr(160)) OR starts_with(CAST(requires_paper_result AS VARCHAR), ' ') OR ends_with(CAST(requires_paper_result AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(requires_paper_result AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(requires_paper_result AS VARCHAR), '') END END AS t_requires_paper_result,
        CASE WHEN typeof(serves_citizens) = 'BOOLEAN' THEN NULL ELSE CASE WHEN contains(CAST(serves_citizens AS VARCHAR), chr(160)) OR starts_with(CAST(serves_citizens AS VARCHAR), ' ') OR ends_with(CAST(serves_citizens AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(serves_citizens AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(serves_citizens AS VARCHAR), '') END END AS t_serves_citizens,
        CASE WHEN typeof(is_certification_procedure) = 'BOOLEAN' THEN NULL ELSE CASE WHEN contains(CAST(is_certification_procedure AS VARCHAR), chr(160)) OR starts_with(CAST(is_certification_procedure AS VARCHAR), ' ') OR ends_with(CAST(is_certification_procedure AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(is_certification_procedure AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(is_certification_procedure AS VARCHAR), '') END END AS t_is_certification_procedure,
        CASE WHEN typeof(announced_on) = 'DATE' THEN TRY_CAST(announced_on AS DATE) END AS v_announced_on,
        CASE WHEN typeof(legal_basis_effective_on) = 'DATE' THEN TRY_CAST(legal_basis_effective_on AS DATE) END AS v_legal_basis_effective_on,
        CASE WHEN typeof(published_on) = 'DATE' THEN TRY_CAST(published_on AS DATE) END AS v_published_on,
        CASE WHEN typeof(mandatory_parts_present) = 'SMALLINT' THEN TRY_CAST(mandatory_parts_present AS SMALLINT) END AS v_mandatory_parts_present,
        CASE WHEN typeof(is_full_online_eligible) = 'BOOLEAN' THEN TRY_CAST(is_full_online_eligible AS BOOLEAN) END AS v_is_full_online_eligible,
        CASE WHEN typeof(has_fee) = 'BOOLEAN' THEN TRY_CAST(has_fee AS BOOLEAN) END AS v_has_fee,
        CASE WHEN typeof(requires_paper_result) = 'BOOLEAN' THEN TRY_CAST(requires_paper_result AS BOOLEAN) END AS v_requires_paper_result,
        CASE WHEN typeof(serves_citizens) = 'BOOLEAN' THEN TRY_CAST(serves_citizens AS BOOLEAN) END AS v_serves_citizens,
        CASE WHEN typeof(is_certification_procedure) = 'BOOLEAN' THEN TRY_CAST(is_certification_procedure AS BOOLEAN) END AS v_is_certification_procedure,
        typeof(announced_on) = 'DATE' AS k_announced_on,
        typeof(legal_basis_effective_on) = 'DATE' AS k_legal_basis_effective_on,
        typeof(published_on) = 'DATE' AS k_published_on,
        typeof(mandatory_parts_present) = 'SMALLINT' AS k_mandatory_parts_present,
        typeof(is_full_online_eligible) = 'BOOLEAN' AS k_is_full_online_eligible,
        typeof(has_fee) = 'BOOLEAN' AS k_has_fee,
        typeof(requires_paper_result) = 'BOOLEAN' AS k_requires_paper_result,
        typeof(serves_citizens) = 'BOOLEAN' AS k_serves_citizens,
        typeof(is_certification_procedure) = 'BOOLEAN' AS k_is_certification_procedure
    FROM {source_procedures}
),

procedures_parsed AS (
    SELECT
        __source_order, __source_row,
        CASE WHEN length(CASE WHEN starts_with(t_unit_code, '''') THEN substr(t_unit_code, 2) ELSE t_unit_code END) = 1
              AND (CASE WHEN starts_with(t_unit_code, '''') THEN substr(t_unit_code, 2) ELSE t_unit_code END) BETWEEN '0' AND '9'
             THEN '0' || CASE WHEN starts_with(t_unit_code, '''') THEN substr(t_unit_code, 2) ELSE t_unit_code END
             ELSE CASE WHEN starts_with(t_unit_code, '''') THEN substr(t_unit_code, 2) ELSE t_unit_code END END AS unit_code,
        CASE WHEN starts_with(t_procedure_code, '''') THEN substr(t_procedure_code, 2) ELSE t_procedure_code END AS procedure_code,
        CASE WHEN starts_with(t_online_service_level, '''') THEN substr(t_online_service_level, 2) ELSE t_online_service_level END AS online_service_level,
        CASE WHEN k_announced_on THEN v_announced_on ELSE CAST(try_strptime(t_announced_on, ['%Y-%m-%d %H:%M:%S', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%d %H:%M:%S.%f', '%Y-%m-%dT%H:%M:%S.%f', '%Y-%m-%d %H:%M', '%d/%m/%Y %H:%M:%S', '%d/%m/%Y %H:%M', '%Y-%m-%d', '%d/%m/%Y']) AS DATE) END AS announced_on,
        CASE WHEN k_legal_basis_effective_on THEN v_legal_basis_effective_on ELSE CAST(try_strptime(t_legal_basis_effective_on, ['%Y-%m-%d %H:%M:%S', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%d %H:%M:%S.%f', '%Y-%m-%dT%H:%M:%S.%f', '%Y-%m-%d %H:%M', '%d/%m/%Y %H:%M:%S', '%d/%m/%Y %H:%M', '%Y-%m-%d', '%d/%m/%Y']) AS DATE) END AS legal_basis_effective_on,
        CASE WHEN k_published_on THEN v_published_on ELSE CAST(try_strptime(t_published_on, ['%Y-%m-%d %H:%M:%S', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%d %H:%M:%S.%f', '%Y-%m-%dT%H:%M:%S.%f', '%Y-%m-%d %H:%M', '%d/%m/%Y %H:%M:%S', '%d/%m/%Y %H:%M', '%Y-%m-%d', '%d/%m/%Y']) AS DATE) END AS published_on,
        CASE WHEN k_mandatory_parts_present THEN v_mandatory_parts_present ELSE TRY_CAST(t_mandatory_parts_present AS SMALLINT) END AS mandatory_parts_present,
        CASE WHEN k_is_full_online_eligible THEN v_is_full_online_eligible
             WHEN lower(t_is_full_online_eligible) IN ('true', 't', '1', 'yes', 'y', 'có', 'co', 'x') THEN true
             WHEN lower(t_is_full_online_eligible) IN ('false', 'f', '0', 'no', 'n', 'không', 'khong') THEN false END AS is_full_online_eligible,
        CASE WHEN k_has_fee THEN v_has_fee
             WHEN lower(t_has_fee) IN ('true', 't', '1', 'yes', 'y', 'có', 'co', 'x') THEN true
             WHEN lower(t_has_fee) IN ('false', 'f', '0', 'no', 'n', 'không', 'khong') THEN false END AS has_fee,
        CASE WHEN k_requires_paper_result THEN v_requires_paper_result
             WHEN lower(t_requires_paper_result) IN ('true', 't', '1', 'yes', 'y', 'có', 'co', 'x') THEN true
             WHEN lower(t_requires_paper_result) IN ('false', 'f', '0', 'no', 'n', 'không', 'khong') THEN false END AS requires_paper_result,
        CASE WHEN k_serves_citizens THEN v_serves_citizens
             WHEN lower(t_serves_citizens) IN ('true', 't', '1', 'yes', 'y', 'có', 'co', 'x') THEN true
             WHEN lower(t_serves_citizens) IN ('false', 'f', '0', 'no', 'n', 'không', 'khong') THEN false END AS serves_citizens,
        CASE WHEN k_is_certification_procedure THEN v_is_certification_procedure
             WHEN lower(t_is_certification_procedure) IN ('true', 't', '1', 'yes', 'y', 'có', 'co', 'x') THEN true
             WHEN lower(t_is_certification_procedure) IN ('false', 'f', '0', 'no', 'n', 'không', 'khong') THEN false END AS is_certification_procedure,
        (t_unit_code IS NULL OR t_procedure_code IS NULL OR t_procedure_name IS NULL OR t_online_service_level IS NULL
         OR (CASE WHEN k_mandatory_parts_present THEN v_mandatory_parts_present IS NULL ELSE t_mandatory_parts_present IS NULL END)
         OR (CASE WHEN k_is_full_online_eligible THEN v_is_full_online_eligible IS NULL ELSE t_is_full_online_eligible IS NULL END)
         OR (CASE WHEN k_has_fee THEN v_has_fee IS NULL ELSE t_has_fee IS NULL END)
         OR (CASE WHEN k_requires_paper_result THEN v_requires_paper_result IS NULL ELSE t_requires_paper_result IS NULL END)
         OR (CASE WHEN k_serves_citizens THEN v_serves_citizens IS NULL ELSE t_serves_citizens IS NULL END)
         OR (CASE WHEN k_is_certification_procedure THEN v_is_certification_procedure IS NULL ELSE t_is_certification_procedure IS NULL END)
        ) AS missing_required,
        t_announced_on, t_legal_basis_effective_on, t_published_on, t_mandatory_parts_present,
        t_is_full_online_eligible, t_has_fee, t_requires_paper_result, t_serves_citizens, t_is_certification_procedure
    FROM procedures_text
),

procedures_valid AS (
    SELECT p.*, a.unit_code AS attributed_unit_code, a.unit_level
    FROM procedures_parsed p
    JOIN attribution a ON a.reported_code = p.unit_code
    WHERE NOT CASE
            WHEN missing_required THEN true
            WHEN t_announced_on IS NOT NULL AND announced_on IS NULL THEN true
            WHEN t_legal_basis_effective_on IS NOT NULL AND legal_basis_effective_on IS NULL THEN true
            WHEN t_published_on IS NOT NULL AND published_on IS NULL THEN true
            WHEN t_mandatory_parts_present IS NOT NULL AND mandatory_parts_present IS NULL THEN true
            WHEN t_is_full_online_eligible IS NOT NULL AND is_full_online_eligible IS NULL THEN true
            WHEN t_has_fee IS NOT NULL AND has_fee IS NULL THEN true
            WHEN t_requires_paper_result IS NOT NULL AND requires_paper_result IS NULL THEN true
            WHEN t_serves_citizens IS NOT NULL AND serves_citizens IS NULL THEN true
            WHEN t_is_certification_procedure IS NOT NULL AND is_certification_procedure IS NULL THEN true
            WHEN online_service_level IS NOT NULL AND online_service_level NOT IN ('none', 'partial', 'full') THEN true
            WHEN mandatory_parts_present NOT BETWEEN 0 AND 7 THEN true
            ELSE false
        END
    -- duplicate (unit_code, procedure_code) as reported: the first occurrence stays
    QUALIFY row_number() OVER (PARTITION BY p.unit_code, p.procedure_code ORDER BY p.__source_order, p.__source_row) = 1
),

procedures_assessed AS (
    SELECT
        p.attributed_unit_code AS unit_code,
        p.procedure_code,
        coalesce(p.announced_on >= DATE '{month}' AND p.announced_on <= CAST(DATE '{month}' + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE), false)
            AS is_announced_in_period,
        coalesce(eff.wdi - ann.wdi >= CASE WHEN p.unit_level = 'ministry' THEN 20 ELSE 5 END, false) AS is_announced_on_time,
        coalesce(p.published_on >= DATE '{month}' AND p.published_on <= CAST(DATE '{month}' + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE), false)
            AS is_published_in_period,
        coalesce((p.published_on IS NULL OR p.published_on > CAST(DATE '{month}' + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE))
                 AND deadline.calendar_date >= DATE '{month}'
                 AND deadline.calendar_date <= CAST(DATE '{month}' + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE), false)
            AS is_publication_overdue_in_period,
        coalesce(p.published_on >= DATE '{month}' AND p.published_on <= CAST(DATE '{month}' + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE)
                 AND pub.wdi - ann.wdi <= CASE WHEN p.unit_level = 'ministry' THEN 10 ELSE 5 END, false) AS is_published_on_time,
        coalesce(p.published_on <= CAST(DATE '{month}' + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE), false) AS is_published,
        coalesce(p.mandatory_parts_present >= 7, false) AS has_all_mandatory_parts,
        coalesce(p.online_service_level IN ('partial', 'full'), false) AS is_online_service,
        coalesce(p.is_full_online_eligible, false) AS is_full_online_eligible,
        coalesce(p.has_fee, false) AS has_fee,
        coalesce(p.requires_paper_result, false) AS requires_paper_result,
        coalesce(p.serves_citizens, false) AS serves_citizens,
        coalesce(p.is_certification_procedure, false) AS is_certification_procedure
    FROM procedures_valid p
    LEFT JOIN calendar ann ON ann.calendar_date = p.announced_on
    LEFT JOIN calendar eff ON eff.calendar_date = p.legal_basis_effective_on
    LEFT JOIN calendar pub ON pub.calendar_date = p.published_on
    LEFT JOIN calendar deadline
        ON deadline.wdi = ann.wdi + CASE WHEN p.unit_level = 'ministry' THEN 10 ELSE 5 END
        AND deadline.is_working_day
    -- two old units listing the same procedure: the row of the unit whose code the successor kept
    QUALIFY row_number() OVER (
        PARTITION BY p.attributed_unit_code, p.procedure_code
        ORDER BY CASE WHEN p.unit_code = p.attributed_unit_code THEN 0 ELSE 1 END, p.unit_code) = 1
),

-- ---------------------------------------------------------------------------------------------
-- Dossiers judged as of the month's end (int_dossiers_timed)

dossiers_timeline AS (
    SELECT
        d.* REPLACE (
            coalesce(d.supplement_request_count, 0) AS supplement_request_count,
            coalesce(d.supplement_seconds, 0) AS supplement_seconds,
            coalesce(d.supplement_working_days, 0) AS supplement_working_days,
            coalesce(d.is_finished, false) AS is_finished),
        coalesce(pf.is_full_online_eligible, false) AS is_full_online_eligible,
        coalesce(pf.requires_paper_result, false) AS requires_paper_result,
        coalesce(pf.has_fee, false) AS procedure_has_fee,
        coalesce(pf.is_certification_procedure, false) AS is_certification_procedure,
        cl.wdis
    FROM dossiers_valid d
    CROSS JOIN calendar_list cl
    LEFT JOIN procedures_assessed pf ON pf.unit_code = d.unit_code AND pf.procedure_code = d.procedure_code
),

dossiers_ended AS (
    SELECT
        *,
        -- not finished: judged at an open supplement request, or else at the period's end
        coalesce(terminal_at, open_supplement_requested_at, CAST(DATE '{month}' + INTERVAL 1 MONTH AS TIMESTAMP)) AS end_at,
        CASE WHEN terminal_at IS NULL AND open_supplement_requested_at IS NULL
             THEN CAST(DATE '{month}' + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE)
             ELSE CAST(coalesce(terminal_at, open_supplement_requested_at) AS DATE) END AS end_date
    FROM dossiers_timeline
),

dossiers_judged AS (
    SELECT
        x.unit_code,
        x.unit_level,
        x.procedure_code,
        (x.received_at >= CAST(DATE '{month}' AS TIMESTAMP) AND x.received_at < CAST(DATE '{month}' + INTERVAL 1 MONTH AS TIMESTAMP))
            AS is_received_in_period,
        (x.received_at < CAST(DATE '{month}' + INTERVAL 1 MONTH AS TIMESTAMP)
         AND (x.terminal_at IS NULL OR x.terminal_at >= CAST(DATE '{month}' AS TIMESTAMP))) AS is_handled_in_period,
        coalesce(x.is_finished AND x.terminal_at >= CAST(DATE '{month}' AS TIMESTAMP), false) AS is_finished_in_period,
        -- 2.1 on time: > 1 supplement request = overdue; else (end - supplement time) <= due, or
        -- without a due date <= the statutory time; no deadline at all: not on time
        CASE
            WHEN x.supplement_request_count > 1 THEN false
            WHEN x.due_at IS NOT NULL THEN (x.end_at + CAST(-1 * x.supplement_seconds AS BIGINT) * INTERVAL 1 SECOND) <= x.due_at
            WHEN x.statutory_duration IS NOT NULL AND x.statutory_duration_unit = 'hour' THEN
                (x.end_at + CAST(-1 * x.supplement_seconds AS BIGINT) * INTERVAL 1 SECOND)
                    <= (x.received_at + CAST(x.statutory_duration * 3600 AS BIGINT) * INTERVAL 1 SECOND)
            WHEN x.statutory_duration IS NOT NULL AND x.statutory_duration_unit = 'day' THEN
                (x.end_at + CAST(-1 * x.supplement_seconds AS BIGINT) * INTERVAL 1 SECOND)
                    <= (x.received_at + CAST(x.statutory_duration * 86400 AS BIGINT) * INTERVAL 1 SECOND)
            WHEN x.statutory_duration IS NOT NULL AND x.statutory_duration_unit = 'month' THEN
                (x.end_at + CAST(-1 * x.supplement_seconds AS BIGINT) * INTERVAL 1 SECOND)
                    <= (x.received_at + CAST(x.statutory_duration AS BIGINT) * INTERVAL 1 MONTH)
            WHEN x.statutory_duration IS NOT NULL AND x.statutory_duration_unit = 'working_day' THEN
                coalesce(
                    CASE WHEN x.end_date >= DATE '2020-01-01' AND x.end_date < DATE '2031-01-01'
                         THEN x.wdis[date_diff('day', DATE '2019-12-31', x.end_date)] END
                    - CASE WHEN CAST(x.received_at AS DATE) >= DATE '2020-01-01' AND CAST(x.received_at AS DATE) < DATE '2031-01-01'
                           THEN x.wdis[date_diff('day', DATE '2019-12-31', CAST(x.received_at AS DATE))] END
                    - x.supplement_working_days <= x.statutory_duration, false)
            ELSE false
        END AS is_on_time,
        CASE WHEN x.is_finished AND x.terminal_at >= CAST(DATE '{month}' AS TIMESTAMP)
             THEN (date_diff('second', x.received_at, x.terminal_at) - x.supplement_seconds) / CAST(86400 AS DOUBLE)
        END AS processing_days,
        x.is_full_online_eligible,
        x.requires_paper_result,
        x.is_certification_procedure,
        x.is_online_submission,
        -- 766 group 4 (CLGQ): full-process online = submitted online to a procedure eligible for it
        x.is_online_submission AND x.is_full_online_eligible AS is_full_online,
        x.has_e_result,
        -- 3.3 / 4.2: online / digitised, with an e-result where a paper result is required (once finished)
        x.is_online_submission AND (NOT (x.requires_paper_result AND x.is_finished) OR x.has_e_result)
            AS is_online_with_required_e_result,
        x.has_digitised_component AND (NOT (x.requires_paper_result AND x.is_finished) OR x.has_e_result)
            AS is_digitised,
        x.has_reused_digitised_data,
        x.has_personal_store_component,
        x.uses_population_db,
        x.is_electronic_certified_copy,
        x.has_fee_data,
        x.procedure_has_fee AND x.fee_not_all_zero AS is_fee_dossier,
        x.is_paid_online,
        x.is_synced_to_portal,
        x.is_complained_or_disliked
    FROM dossiers_ended x
),

-- ---------------------------------------------------------------------------------------------
-- Complaints: parse, rules, judged as of the month's end (int_complaints_timed)

complaints_text AS (
    SELECT
        __source_order, __source_row,
        CASE WHEN contains(CAST(complaint_id AS VARCHAR), chr(160)) OR starts_with(CAST(complaint_id AS VARCHAR), ' ') OR ends_with(CAST(complaint_id AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(complaint_id AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(complaint_id AS VARCHAR), '') END AS t_complaint_id,
        CASE WHEN contains(CAST(unit_code AS VARCHAR), chr(160)) OR starts_with(CAST(unit_code AS VARCHAR), ' ') OR ends_with(CAST(unit_code AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(unit_code AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(unit_code AS VARCHAR), '') END AS t_unit_code,
        CASE WHEN contains(CAST(complaint_type AS VARCHAR), chr(160)) OR starts_with(CAST(complaint_type AS VARCHAR), ' ') OR ends_with(CAST(complaint_type AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(complaint_type AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(complaint_type AS VARCHAR), '') END AS t_complaint_type,
        CASE WHEN typeof(received_at) = 'TIMESTAMP' THEN NULL ELSE CASE WHEN contains(CAST(received_at AS VARCHAR), chr(160)) OR starts_with(CAST(received_at AS VARCHAR), ' ') OR ends_with(CAST(received_at AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(received_at AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(received_at AS VARCHAR), '') END END AS t_received_at,
        CASE WHEN typeof(transferred_at) = 'TIMESTAMP' THEN NULL ELSE CASE WHEN contains(CAST(transferred_at AS VARCHAR), chr(160)) OR starts_with(CAST(transferred_at AS VARCHAR), ' ') OR ends_with(CAST(transferred_at AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(transferred_at AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(transferred_at AS VARCHAR), '') END END AS t_transferred_at,
        CASE WHEN typeof(rejected_at) = 'TIMESTAMP' THEN NULL ELSE CASE WHEN contains(CAST(rejected_at AS VARCHAR), chr(160)) OR starts_with(CAST(rejected_at AS VARCHAR), ' ') OR ends_with(CAST(rejected_at AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(rejected_at AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(rejected_at AS VARCHAR), '') END END AS t_rejected_at,
        CASE WHEN typeof(first_supplement_request_at) = 'TIMESTAMP' THEN NULL ELSE CASE WHEN contains(CAST(first_supplement_request_at AS VARCHAR), chr(160)) OR starts_with(CAST(first_supplement_request_at AS VARCHAR), ' ') OR ends_with(CAST(first_supplement_request_at AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(first_supplement_request_at AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(first_supplement_request_at AS VARCHAR), '') END END AS t_first_supplement_request_at,
        CASE WHEN typeof(processed_at) = 'TIMESTAMP' THEN NULL ELSE CASE WHEN contains(CAST(processed_at AS VARCHAR), chr(160)) OR starts_with(CAST(processed_at AS VARCHAR), ' ') OR ends_with(CAST(processed_at AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(processed_at AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(processed_at AS VARCHAR), '') END END AS t_processed_at,
        CASE WHEN typeof(published_at) = 'TIMESTAMP' THEN NULL ELSE CASE WHEN contains(CAST(published_at AS VARCHAR), chr(160)) OR starts_with(CAST(published_at AS VARCHAR), ' ') OR ends_with(CAST(published_at AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(published_at AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(published_at AS VARCHAR), '') END END AS t_published_at,
        CASE WHEN typeof(likes) = 'INTEGER' THEN NULL ELSE CASE WHEN contains(CAST(likes AS VARCHAR), chr(160)) OR starts_with(CAST(likes AS VARCHAR), ' ') OR ends_with(CAST(likes AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(likes AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(likes AS VARCHAR), '') END END AS t_likes,
        CASE WHEN typeof(dislikes) = 'INTEGER' THEN NULL ELSE CASE WHEN contains(CAST(dislikes AS VARCHAR), chr(160)) OR starts_with(CAST(dislikes AS VARCHAR), ' ') OR ends_with(CAST(dislikes AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(dislikes AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(dislikes AS VARCHAR), '') END END AS t_dislikes,
        CASE WHEN typeof(is_re_raised) = 'BOOLEAN' THEN NULL ELSE CASE WHEN contains(CAST(is_re_raised AS VARCHAR), chr(160)) OR starts_with(CAST(is_re_raised AS VARCHAR), ' ') OR ends_with(CAST(is_re_raised AS VARCHAR), ' ') THEN nullif(trim(replace(CAST(is_re_raised AS VARCHAR), chr(160), ' ')), '') ELSE nullif(CAST(is_re_raised AS VARCHAR), '') END END AS t_is_re_raised,
        CASE WHEN typeof(received_at) = 'TIMESTAMP' THEN TRY_CAST(received_at AS TIMESTAMP) END AS v_received_at,
        CASE WHEN typeof(transferred_at) = 'TIMESTAMP' THEN TRY_CAST(transferred_at AS TIMESTAMP) END AS v_transferred_at,
        CASE WHEN typeof(rejected_at) = 'TIMESTAMP' THEN TRY_CAST(rejected_at AS TIMESTAMP) END AS v_rejected_at,
        CASE WHEN typeof(first_supplement_request_at) = 'TIMESTAMP' THEN TRY_CAST(first_supplement_request_at AS TIMESTAMP) END AS v_first_supplement_request_at,
        CASE WHEN typeof(processed_at) = 'TIMESTAMP' THEN TRY_CAST(processed_at AS TIMESTAMP) END AS v_processed_at,
        CASE WHEN typeof(published_at) = 'TIMESTAMP' THEN TRY_CAST(published_at AS TIMESTAMP) END AS v_published_at,
        CASE WHEN typeof(likes) = 'INTEGER' THEN TRY_CAST(likes AS INTEGER) END AS v_likes,
        CASE WHEN typeof(dislikes) = 'INTEGER' THEN TRY_CAST(dislikes AS INTEGER) END AS v_dislikes,
        CASE WHEN typeof(is_re_raised) = 'BOOLEAN' THEN TRY_CAST(is_re_raised AS BOOLEAN) END AS v_is_re_raised,
        typeof(received_at) = 'TIMESTAMP' AS k_received_at,
        typeof(transferred_at) = 'TIMESTAMP' AS k_transferred_at,
        typeof(rejected_at) = 'TIMESTAMP' AS k_rejected_at,
        typeof(first_supplement_request_at) = 'TIMESTAMP' AS k_first_supplement_request_at,
        typeof(processed_at) = 'TIMESTAMP' AS k_processed_at,
        typeof(published_at) = 'TIMESTAMP' AS k_published_at,
        typeof(likes) = 'INTEGER' AS k_likes,
        typeof(dislikes) = 'INTEGER' AS k_dislikes,
        typeof(is_re_raised) = 'BOOLEAN' AS k_is_re_raised
    FROM {source_complaints}
),

complaints_parsed AS (
    SELECT
        __source_order, __source_row,
        CASE WHEN starts_with(t_complaint_id, '''') THEN substr(t_complaint_id, 2) ELSE t_complaint_id END AS complaint_id,
        CASE WHEN length(CASE WHEN starts_with(t_unit_code, '''') THEN substr(t_unit_code, 2) ELSE t_unit_code END) = 1
              AND (CASE WHEN starts_with(t_unit_code, '''') THEN substr(t_unit_code, 2) ELSE t_unit_code END) BETWEEN '0' AND '9'
             THEN '0' || CASE WHEN starts_with(t_unit_code, '''') THEN substr(t_unit_code, 2) ELSE t_unit_code END
             ELSE CASE WHEN starts_with(t_unit_code, '''') THEN substr(t_unit_code, 2) ELSE t_unit_code END END AS unit_code,
        CASE WHEN starts_with(t_complaint_type, '''') THEN substr(t_complaint_type, 2) ELSE t_complaint_type END AS complaint_type,
        CASE WHEN k_received_at THEN v_received_at ELSE try_strptime(t_received_at, ['%Y-%m-%d %H:%M:%S', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%d %H:%M:%S.%f', '%Y-%m-%dT%H:%M:%S.%f', '%Y-%m-%d %H:%M', '%d/%m/%Y %H:%M:%S', '%d/%m/%Y %H:%M', '%Y-%m-%d', '%d/%m/%Y']) END AS received_at,
        CASE WHEN k_transferred_at THEN v_transferred_at ELSE try_strptime(t_transferred_at, ['%Y-%m-%d %H:%M:%S', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%d %H:%M:%S.%f', '%Y-%m-%dT%H:%M:%S.%f', '%Y-%m-%d %H:%M', '%d/%m/%Y %H:%M:%S', '%d/%m/%Y %H:%M', '%Y-%m-%d', '%d/%m/%Y']) END AS transferred_at,
        CASE WHEN k_rejected_at THEN v_rejected_at ELSE try_strptime(t_rejected_at, ['%Y-%m-%d %H:%M:%S', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%d %H:%M:%S.%f', '%Y-%m-%dT%H:%M:%S.%f', '%Y-%m-%d %H:%M', '%d/%m/%Y %H:%M:%S', '%d/%m/%Y %H:%M', '%Y-%m-%d', '%d/%m/%Y']) END AS rejected_at,
        CASE WHEN k_first_supplement_request_at THEN v_first_supplement_request_at ELSE try_strptime(t_first_supplement_request_at, ['%Y-%m-%d %H:%M:%S', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%d %H:%M:%S.%f', '%Y-%m-%dT%H:%M:%S.%f', '%Y-%m-%d %H:%M', '%d/%m/%Y %H:%M:%S', '%d/%m/%Y %H:%M', '%Y-%m-%d', '%d/%m/%Y']) END AS first_supplement_request_at,
        CASE WHEN k_processed_at THEN v_processed_at ELSE try_strptime(t_processed_at, ['%Y-%m-%d %H:%M:%S', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%d %H:%M:%S.%f', '%Y-%m-%dT%H:%M:%S.%f', '%Y-%m-%d %H:%M', '%d/%m/%Y %H:%M:%S', '%d/%m/%Y %H:%M', '%Y-%m-%d', '%d/%m/%Y']) END AS processed_at,
        CASE WHEN k_published_at THEN v_published_at ELSE try_strptime(t_published_at, ['%Y-%m-%d %H:%M:%S', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%d %H:%M:%S.%f', '%Y-%m-%dT%H:%M:%S.%f', '%Y-%m-%d %H:%M', '%d/%m/%Y %H:%M:%S', '%d/%m/%Y %H:%M', '%Y-%m-%d', '%d/%m/%Y']) END AS published_at,
        CASE WHEN k_likes THEN v_likes ELSE TRY_CAST(t_likes AS INTEGER) END AS likes,
        CASE WHEN k_dislikes THEN v_dislikes ELSE TRY_CAST(t_dislikes AS INTEGER) END AS dislikes,
        CASE WHEN k_is_re_raised THEN v_is_re_raised
             WHEN lower(t_is_re_raised) IN ('true', 't', '1', 'yes', 'y', 'có', 'co', 'x') THEN true
             WHEN lower(t_is_re_raised) IN ('false', 'f', '0', 'no', 'n', 'không', 'khong') THEN false END AS is_re_raised,
        (t_complaint_id IS NULL OR t_unit_code IS NULL OR t_complaint_type IS NULL
         OR (CASE WHEN k_received_at THEN v_received_at IS NULL ELSE t_received_at IS NULL END)
         OR (CASE WHEN k_likes THEN v_likes IS NULL ELSE t_likes IS NULL END)
         OR (CASE WHEN k_dislikes THEN v_dislikes IS NULL ELSE t_dislikes IS NULL END)
         OR (CASE WHEN k_is_re_raised THEN v_is_re_raised IS NULL ELSE t_is_re_raised IS NULL END)
        ) AS missing_required,
        t_received_at, t_transferred_at, t_rejected_at, t_first_supplement_request_at, t_processed_at,
        t_published_at, t_likes, t_dislikes, t_is_re_raised
    FROM complaints_text
),

complaints_valid AS (
    SELECT c.*, a.unit_code AS attributed_unit_code
    FROM complaints_parsed c
    JOIN attribution a ON a.reported_code = c.unit_code
    WHERE NOT CASE
            WHEN missing_required THEN true
            WHEN t_received_at IS NOT NULL AND received_at IS NULL THEN true
            WHEN t_transferred_at IS NOT NULL AND transferred_at IS NULL THEN true
            WHEN t_rejected_at IS NOT NULL AND rejected_at IS NULL THEN true
            WHEN t_first_supplement_request_at IS NOT NULL AND first_supplement_request_at IS NULL THEN true
            WHEN t_processed_at IS NOT NULL AND processed_at IS NULL THEN true
            WHEN t_published_at IS NOT NULL AND published_at IS NULL THEN true
            WHEN t_likes IS NOT NULL AND likes IS NULL THEN true
            WHEN t_dislikes IS NOT NULL AND dislikes IS NULL THEN true
            WHEN t_is_re_raised IS NOT NULL AND is_re_raised IS NULL THEN true
            WHEN complaint_type IS NOT NULL AND complaint_type NOT IN ('regulation', 'conduct') THEN true
            WHEN processed_at < received_at THEN true
            WHEN likes < 0 OR dislikes < 0 THEN true
            ELSE false
        END
    QUALIFY row_number() OVER (PARTITION BY c.complaint_id ORDER BY c.__source_order, c.__source_row) = 1
),

complaints_as_of_month_end AS (
    SELECT
        attributed_unit_code AS unit_code,
        complaint_type, received_at, likes, dislikes, is_re_raised,
        -- as of the month's end: a step dated later has not happened yet
        CASE WHEN transferred_at < DATE '{month}' + INTERVAL 1 MONTH THEN transferred_at END AS transferred_at,
        CASE WHEN rejected_at < DATE '{month}' + INTERVAL 1 MONTH THEN rejected_at END AS rejected_at,
        CASE WHEN first_supplement_request_at < DATE '{month}' + INTERVAL 1 MONTH THEN first_supplement_request_at END AS first_supplement_request_at,
        CASE WHEN processed_at < DATE '{month}' + INTERVAL 1 MONTH THEN processed_at END AS processed_at,
        CASE WHEN published_at < DATE '{month}' + INTERVAL 1 MONTH THEN published_at END AS published_at
    FROM complaints_valid
),

complaints_judged AS (
    SELECT
        c.unit_code,
        (c.received_at < CAST(DATE '{month}' + INTERVAL 1 MONTH AS TIMESTAMP)
         AND (coalesce(c.published_at, c.rejected_at) IS NULL
              OR coalesce(c.published_at, c.rejected_at) >= CAST(DATE '{month}' AS TIMESTAMP))) AS is_handled_in_period,
        (c.received_at >= CAST(DATE '{month}' AS TIMESTAMP) AND c.received_at < CAST(DATE '{month}' + INTERVAL 1 MONTH AS TIMESTAMP))
            AS is_received_in_period,
        -- 766/QĐ-TTg 5.2, working-day deadlines per step from reception or the latest transfer
        CASE
            WHEN c.rejected_at IS NOT NULL THEN coalesce(rej.wdi - st.wdi <= 2, false)
            ELSE
                (c.first_supplement_request_at IS NULL OR coalesce(sup.wdi - st.wdi <= 5, false))
                AND CASE
                    WHEN c.processed_at IS NOT NULL THEN coalesce(pro.wdi - st.wdi <= 15, false)
                    ELSE coalesce(jd.wdi - st.wdi <= 15, false)
                END
                AND CASE
                    WHEN c.processed_at IS NULL THEN true
                    WHEN c.published_at IS NOT NULL THEN coalesce(pub.wdi - pro.wdi <= 2, false)
                    ELSE coalesce(jd.wdi - pro.wdi <= 2, false)
                END
        END AS is_on_time,
        coalesce(c.complaint_type = 'regulation', false) AS is_about_regulation,
        coalesce(c.dislikes > c.likes, false) AS is_disliked,
        coalesce(c.is_re_raised, false) AS is_re_raised
    FROM complaints_as_of_month_end c
    LEFT JOIN calendar st ON st.calendar_date = CAST(coalesce(c.transferred_at, c.received_at) AS DATE)
    LEFT JOIN calendar rej ON rej.calendar_date = CAST(c.rejected_at AS DATE)
    LEFT JOIN calendar sup ON sup.calendar_date = CAST(c.first_supplement_request_at AS DATE)
    LEFT JOIN calendar pro ON pro.calendar_date = CAST(c.processed_at AS DATE)
    LEFT JOIN calendar pub ON pub.calendar_date = CAST(c.published_at AS DATE)
    LEFT JOIN calendar jd ON jd.calendar_date = CAST(DATE '{month}' + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE)
),

-- ---------------------------------------------------------------------------------------------
-- Measures per unit (int_service_measures_aggregated, as reported)

dossier_measures_by_procedure AS (
    -- one pass over the dossiers: every dossier measure per unit and procedure, and the counts
    -- the procedure-level ratios need (3.2, 3.5a, 3.5b, 4.5a: dossiers received in the month)
    SELECT
        unit_code,
        any_value(unit_level) AS unit_level,
        procedure_code,
        sum(CASE WHEN is_received_in_period THEN 1 ELSE 0 END) AS dossiers_received,
        sum(CASE WHEN is_received_in_period AND is_synced_to_portal THEN 1 ELSE 0 END) AS dossiers_received_synced,
        sum(CASE WHEN is_handled_in_period THEN 1 ELSE 0 END) AS dossiers_handled,
        sum(CASE WHEN is_handled_in_period AND is_on_time THEN 1 ELSE 0 END) AS dossiers_handled_on_time,
        sum(CASE WHEN is_handled_in_period AND NOT is_on_time THEN 1 ELSE 0 END) AS dossiers_handled_overdue,
        sum(CASE WHEN is_handled_in_period AND is_complained_or_disliked THEN 1 ELSE 0 END) AS dossiers_handled_complained_or_disliked,
        sum(CASE WHEN is_finished_in_period THEN 1 ELSE 0 END) AS dossiers_finished,
        sum(CAST(CASE WHEN is_finished_in_period THEN processing_days ELSE 0 END AS DECIMAL(38, 12)))
            AS finished_processing_days,
        sum(CASE WHEN is_received_in_period AND is_full_online_eligible THEN 1 ELSE 0 END) AS dossiers_received_full_online_eligible,
        sum(CASE WHEN is_received_in_period AND is_full_online THEN 1 ELSE 0 END) AS dossiers_full_online,
        sum(CASE WHEN is_received_in_period AND is_online_with_required_e_result THEN 1 ELSE 0 END) AS dossiers_received_online,
        sum(CASE WHEN is_received_in_period AND is_fee_dossier THEN 1 ELSE 0 END) AS fee_dossiers,
        sum(CASE WHEN is_received_in_period AND is_fee_dossier AND is_paid_online THEN 1 ELSE 0 END) AS fee_dossiers_paid_online,
        sum(CASE WHEN is_finished_in_period AND requires_paper_result THEN 1 ELSE 0 END) AS paper_result_dossiers_finished,
        sum(CASE WHEN is_finished_in_period AND requires_paper_result AND has_e_result THEN 1 ELSE 0 END) AS paper_result_dossiers_with_e_result,
        sum(CASE WHEN is_received_in_period AND is_digitised THEN 1 ELSE 0 END) AS dossiers_received_digitised,
        sum(CASE WHEN is_received_in_period AND is_certification_procedure THEN 1 ELSE 0 END) AS certification_dossiers,
        sum(CASE WHEN is_received_in_period AND is_certification_procedure AND is_electronic_certified_copy THEN 1 ELSE 0 END) AS certification_dossiers_e_copy,
        sum(CASE WHEN is_received_in_period AND has_reused_digitised_data THEN 1 ELSE 0 END) AS dossiers_received_reusing_data,
        sum(CASE WHEN is_received_in_period AND has_personal_store_component THEN 1 ELSE 0 END) AS dossiers_received_personal_store,
        sum(CASE WHEN is_received_in_period AND uses_population_db THEN 1 ELSE 0 END) AS dossiers_received_using_population_db,
        sum(CASE WHEN is_received_in_period AND is_online_submission THEN 1 ELSE 0 END) AS online_dossier_count,
        sum(CASE WHEN is_received_in_period AND has_fee_data THEN 1 ELSE 0 END) AS fee_data_dossier_count,
        sum(CASE WHEN is_received_in_period AND is_fee_dossier THEN 1 ELSE 0 END) AS fee_dossier_count,
        sum(CASE WHEN is_received_in_period AND is_fee_dossier AND is_paid_online THEN 1 ELSE 0 END) AS paid_online_dossier_count,
        sum(CASE WHEN is_received_in_period AND uses_population_db THEN 1 ELSE 0 END) AS population_db_dossier_count
    FROM dossiers_judged
    GROUP BY unit_code, procedure_code
),

dossier_measures AS (
    -- (the exact DECIMAL sum of processing days is cast back to a float only here)
    SELECT
        unit_code,
        any_value(unit_level) AS unit_level,
        sum(dossiers_received) AS dossiers_received,
        sum(dossiers_received_synced) AS dossiers_received_synced,
        sum(dossiers_handled) AS dossiers_handled,
        sum(dossiers_handled_on_time) AS dossiers_handled_on_time,
        sum(dossiers_handled_overdue) AS dossiers_handled_overdue,
        sum(dossiers_handled_complained_or_disliked) AS dossiers_handled_complained_or_disliked,
        sum(dossiers_finished) AS dossiers_finished,
        CAST(sum(finished_processing_days) AS DOUBLE) AS finished_processing_days,
        sum(dossiers_received_full_online_eligible) AS dossiers_received_full_online_eligible,
        sum(dossiers_full_online) AS dossiers_full_online,
        sum(dossiers_received_online) AS dossiers_received_online,
        sum(fee_dossiers) AS fee_dossiers,
        sum(fee_dossiers_paid_online) AS fee_dossiers_paid_online,
        sum(paper_result_dossiers_finished) AS paper_result_dossiers_finished,
        sum(paper_result_dossiers_with_e_result) AS paper_result_dossiers_with_e_result,
        sum(dossiers_received_digitised) AS dossiers_received_digitised,
        sum(certification_dossiers) AS certification_dossiers,
        sum(certification_dossiers_e_copy) AS certification_dossiers_e_copy,
        sum(dossiers_received_reusing_data) AS dossiers_received_reusing_data,
        sum(dossiers_received_personal_store) AS dossiers_received_personal_store,
        sum(dossiers_received_using_population_db) AS dossiers_received_using_population_db
    FROM dossier_measures_by_procedure
    GROUP BY unit_code
),

dossiers_by_procedure AS (
    SELECT unit_code, procedure_code, online_dossier_count, fee_data_dossier_count, fee_dossier_count,
           paid_online_dossier_count, population_db_dossier_count
    FROM dossier_measures_by_procedure
),

procedure_measures AS (
    SELECT
        p.unit_code,
        count(*) AS procedures_in_catalogue,
        sum(CASE WHEN p.is_announced_in_period THEN 1 ELSE 0 END) AS procedures_announced,
        sum(CASE WHEN p.is_announced_in_period AND p.is_announced_on_time THEN 1 ELSE 0 END) AS procedures_announced_on_time,
        sum(CASE WHEN p.is_published_in_period OR p.is_publication_overdue_in_period THEN 1 ELSE 0 END) AS procedures_due_for_publication,
        sum(CASE WHEN p.is_published_on_time THEN 1 ELSE 0 END) AS procedures_published_on_time,
        sum(CASE WHEN p.is_published THEN 1 ELSE 0 END) AS procedures_published,
        sum(CASE WHEN p.is_published AND p.has_all_mandatory_parts THEN 1 ELSE 0 END) AS procedures_published_complete,
        sum(CASE WHEN p.is_online_service THEN 1 ELSE 0 END) AS procedures_online,
        sum(CASE WHEN p.is_online_service AND b.online_dossier_count > 0 THEN 1 ELSE 0 END) AS procedures_online_with_online_dossiers,
        sum(CASE WHEN p.has_fee THEN 1 ELSE 0 END) AS fee_procedures,
        sum(CASE WHEN p.has_fee AND b.fee_data_dossier_count > 0 THEN 1 ELSE 0 END) AS fee_procedures_with_fee_data,
        sum(CASE WHEN p.has_fee AND b.fee_dossier_count > 0 THEN 1 ELSE 0 END) AS fee_procedures_with_dossiers,
        sum(CASE WHEN p.has_fee AND b.paid_online_dossier_count > 0 THEN 1 ELSE 0 END) AS fee_procedures_paid_online,
        sum(CASE WHEN p.serves_citizens THEN 1 ELSE 0 END) AS citizen_procedures,
        sum(CASE WHEN p.serves_citizens AND b.population_db_dossier_count > 0 THEN 1 ELSE 0 END) AS citizen_procedures_using_population_db
    FROM procedures_assessed p
    LEFT JOIN dossiers_by_procedure b ON b.unit_code = p.unit_code AND b.procedure_code = p.procedure_code
    GROUP BY p.unit_code
),

complaint_measures AS (
    SELECT
        unit_code,
        sum(CASE WHEN is_handled_in_period THEN 1 ELSE 0 END) AS complaints_handled,
        sum(CASE WHEN is_handled_in_period AND is_on_time THEN 1 ELSE 0 END) AS complaints_handled_on_time,
        sum(CASE WHEN is_handled_in_period AND is_about_regulation THEN 1 ELSE 0 END) AS complaints_about_regulation,
        sum(CASE WHEN is_received_in_period THEN 1 ELSE 0 END) AS complaints_received,
        sum(CASE WHEN is_received_in_period AND NOT is_on_time THEN 1 ELSE 0 END) AS complaints_received_overdue,
        sum(CASE WHEN is_received_in_period AND is_disliked THEN 1 ELSE 0 END) AS complaints_received_disliked,
        sum(CASE WHEN is_received_in_period AND is_re_raised THEN 1 ELSE 0 END) AS complaints_received_re_raised
    FROM complaints_judged
    GROUP BY unit_code
),

unit_measures AS (
    -- A unit is scored only when it handled a dossier in the month, so only units with dossier
    -- measures can get a score: procedure and complaint measures are joined onto them.
    SELECT
        d.unit_code,
        d.unit_level,
        d.* EXCLUDE (unit_code, unit_level),
        coalesce(p.procedures_in_catalogue, 0) AS procedures_in_catalogue,
        coalesce(p.procedures_announced, 0) AS procedures_announced,
        coalesce(p.procedures_announced_on_time, 0) AS procedures_announced_on_time,
        coalesce(p.procedures_due_for_publication, 0) AS procedures_due_for_publication,
        coalesce(p.procedures_published_on_time, 0) AS procedures_published_on_time,
        coalesce(p.procedures_published, 0) AS procedures_published,
        coalesce(p.procedures_published_complete, 0) AS procedures_published_complete,
        coalesce(p.procedures_online, 0) AS procedures_online,
        coalesce(p.procedures_online_with_online_dossiers, 0) AS procedures_online_with_online_dossiers,
        coalesce(p.fee_procedures, 0) AS fee_procedures,
        coalesce(p.fee_procedures_with_fee_data, 0) AS fee_procedures_with_fee_data,
        coalesce(p.fee_procedures_with_dossiers, 0) AS fee_procedures_with_dossiers,
        coalesce(p.fee_procedures_paid_online, 0) AS fee_procedures_paid_online,
        coalesce(p.citizen_procedures, 0) AS citizen_procedures,
        coalesce(p.citizen_procedures_using_population_db, 0) AS citizen_procedures_using_population_db,
        coalesce(c.complaints_handled, 0) AS complaints_handled,
        coalesce(c.complaints_handled_on_time, 0) AS complaints_handled_on_time,
        coalesce(c.complaints_about_regulation, 0) AS complaints_about_regulation,
        coalesce(c.complaints_received, 0) AS complaints_received,
        coalesce(c.complaints_received_overdue, 0) AS complaints_received_overdue,
        coalesce(c.complaints_received_disliked, 0) AS complaints_received_disliked,
        coalesce(c.complaints_received_re_raised, 0) AS complaints_received_re_raised
    FROM dossier_measures d
    LEFT JOIN procedure_measures p ON p.unit_code = d.unit_code
    LEFT JOIN complaint_measures c ON c.unit_code = d.unit_code
    WHERE d.dossiers_handled > 0
),

unit_measures_derived AS (
    SELECT
        *,
        CASE WHEN dossiers_received > 0
             THEN dossiers_received_online * dossiers_received_synced / CAST(dossiers_received AS DOUBLE)
             ELSE 0 END AS dossiers_received_online_sync_adjusted,
        greatest(0, complaints_received - complaints_received_disliked - complaints_received_overdue
                    - complaints_received_re_raised) AS complaints_received_satisfied,
        greatest(0, dossiers_handled - dossiers_handled_overdue - dossiers_handled_complained_or_disliked)
            AS dossiers_handled_satisfied
    FROM unit_measures
),

measures_long AS (
    -- every measure as a 64-bit float, one row per unit and measure
    UNPIVOT (SELECT unit_code, unit_level, CAST(COLUMNS(* EXCLUDE (unit_code, unit_level)) AS DOUBLE)
             FROM unit_measures_derived)
    ON COLUMNS(* EXCLUDE (unit_code, unit_level))
    INTO NAME measure_code VALUE measure_value
),

-- ---------------------------------------------------------------------------------------------
-- Scoring (int_service_index_scored) and the total (fct_service_index_monthly)

indicator_grid AS (
    SELECT u.unit_code, u.unit_level, i.*
    FROM (SELECT DISTINCT unit_code, unit_level FROM measures_long) u
    JOIN methodology_versions v
        ON v.applies_from_month <= DATE '{month}'
        AND (v.applies_to_month IS NULL OR v.applies_to_month >= DATE '{month}')
    JOIN indicators i
        ON i.methodology_version = v.methodology_version
        AND i.applies_to IN ('all', u.unit_level)
),

scored AS (
    SELECT
        g.unit_code, g.unit_level, g.group_code, g.methodology_version, g.max_points,
        CASE
            WHEN ratio IS NULL THEN NULL
            WHEN g.rule = 'monitoring' THEN 0
            WHEN g.rule = 'linear' THEN g.max_points * least(1, ratio)
            WHEN g.rule = 'capped' THEN g.max_points * least(1, ratio / g.target_ratio)
        END AS points
    FROM (
        SELECT
            g.*,
            CASE
                WHEN coalesce(den.measure_value, 0) > 0 THEN coalesce(num.measure_value, 0) / CAST(den.measure_value AS DOUBLE)
                WHEN g.zero_denominator_policy = 'zero' THEN 0
                ELSE NULL
            END AS ratio
        FROM indicator_grid g
        LEFT JOIN measures_long num ON num.unit_code = g.unit_code AND num.measure_code = g.numerator_measure
        LEFT JOIN measures_long den ON den.unit_code = g.unit_code AND den.measure_code = g.denominator_measure
    ) AS g
)

-- Sums of points in exact DECIMAL(38, 12), cast back (the models' exact_sum macro): the total does
-- not depend on the order rows are added in, and equals the pipeline's to the bit.
SELECT
    s.unit_code,
    any_value(s.unit_level) AS unit_level,
    CAST(sum(CAST(CASE WHEN s.group_code = 'CKMB' THEN s.points END AS DECIMAL(38, 12))) AS DOUBLE) AS ckmb_points,
    CAST(sum(CAST(CASE WHEN s.group_code = 'TDGQ' THEN s.points END AS DECIMAL(38, 12))) AS DOUBLE) AS tdgq_points,
    CAST(sum(CAST(CASE WHEN s.group_code = 'CLGQ' THEN s.points END AS DECIMAL(38, 12))) AS DOUBLE) AS clgq_points,
    CAST(sum(CAST(CASE WHEN s.group_code = 'TTTT' THEN s.points END AS DECIMAL(38, 12))) AS DOUBLE) AS tttt_points,
    CAST(sum(CAST(CASE WHEN s.group_code = 'MDSH' THEN s.points END AS DECIMAL(38, 12))) AS DOUBLE) AS mdsh_points,
    CAST(sum(CAST(CASE WHEN s.group_code = 'MDHL' THEN s.points END AS DECIMAL(38, 12))) AS DOUBLE) AS mdhl_points,
    CAST(sum(CAST(CASE WHEN gr.decision_group_no = 1 THEN s.points END AS DECIMAL(38, 12))) AS DOUBLE) AS group_1_points,
    CAST(sum(CAST(CASE WHEN gr.decision_group_no = 2 THEN s.points END AS DECIMAL(38, 12))) AS DOUBLE) AS group_2_points,
    CAST(sum(CAST(CASE WHEN gr.decision_group_no = 3 THEN s.points END AS DECIMAL(38, 12))) AS DOUBLE) AS group_3_points,
    CAST(sum(CAST(CASE WHEN gr.decision_group_no = 4 THEN s.points END AS DECIMAL(38, 12))) AS DOUBLE) AS group_4_points,
    CAST(sum(CAST(CASE WHEN gr.decision_group_no = 5 THEN s.points END AS DECIMAL(38, 12))) AS DOUBLE) AS group_5_points,
    sum(CASE WHEN s.points IS NOT NULL THEN s.max_points END) AS applicable_max_points,
    CAST(sum(CAST(s.points AS DECIMAL(38, 12))) AS DOUBLE) AS total_score_unrounded
FROM scored s
LEFT JOIN groups_766 gr ON gr.methodology_version = s.methodology_version AND gr.group_code = s.group_code
GROUP BY s.unit_code
HAVING sum(s.points) IS NOT NULL
ORDER BY s.unit_code
