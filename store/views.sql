-- Analyst views. Recreated by store.db.create_views() after reference tables are loaded.

-- Facts with their labels, agency, scope and source document: what an analyst reads. `value` is
-- the value as extracted; `value_corrected` is the reviewed correction where one exists (table
-- corrections, from data/corrections.csv), else the extracted value.
CREATE OR REPLACE VIEW facts_labeled AS
SELECT
    f.agency_id, a.name AS agency_name, a.level AS agency_level, a.division_code,
    f.report_year, d.scope, f.template_version, f.section,
    f.row_code, r.label_path AS row_path, r.label_en AS row_label_en,
    f.col_code, c.label_path AS col_path, c.label_en AS col_label_en,
    f.value, f.value_status, f.unit, f.raw_text,
    CASE WHEN k.sha256 IS NULL THEN f.value ELSE k.corrected_value END AS value_corrected,
    k.sha256 IS NOT NULL AS corrected,
    d.url AS document_url, f.sha256, d.media_type, f.page, f.table_index, f.row_index, f.col_index,
    f.row_label_raw, f.col_label_raw, f.confidence
FROM facts f
LEFT JOIN agencies a USING (agency_id)
LEFT JOIN codebook r ON r.code = f.row_code
LEFT JOIN codebook c ON c.code = f.col_code
LEFT JOIN documents d ON d.sha256 = f.sha256
LEFT JOIN corrections k ON k.sha256 = f.sha256 AND k.row_code = f.row_code AND k.col_code = f.col_code;

-- One document per agency and report year: an HTML report page and its PDF attachment often hold
-- the same tables, so counting both would double every number. Prefer the document with the most
-- placed facts, then the fewest failed identities, then the newest fetch.
CREATE OR REPLACE VIEW report_documents AS
WITH per_doc AS (
    SELECT d.sha256, d.agency_id, d.report_year, d.url, d.media_type, d.fetched_at,
           (SELECT count(*) FROM facts f WHERE f.sha256 = d.sha256) AS n_facts,
           (SELECT count(*) FROM checks k WHERE k.sha256 = d.sha256 AND k.status = 'failed'
                                            AND k.severity = 'error') AS n_failed
    FROM documents d
    WHERE d.status = 'loaded' AND d.agency_id IS NOT NULL AND d.report_year IS NOT NULL
)
SELECT * EXCLUDE (rn) FROM (
    SELECT *, row_number() OVER (PARTITION BY agency_id, report_year
                                 ORDER BY n_facts DESC, n_failed ASC, fetched_at DESC, sha256) AS rn
    FROM per_doc WHERE n_facts > 0
) WHERE rn = 1;

CREATE OR REPLACE VIEW report_facts AS
SELECT fl.* FROM facts_labeled fl JOIN report_documents rd USING (sha256);

-- The panel: comparable variables lined up across all report years via the crosswalk (a series
-- joins the codes that measure the same thing in different template versions; '*' = every column),
-- with reviewed corrections applied, plus the derived series the crosswalk defines:
--   leaf_sum  a group total (不予公开, 无法提供, 不予处理, 其他处理) where the report prints none: the sum of
--             the group's leaves in the report's template version, only when every leaf has a value;
--   ratio     sum(numerator series) / sum(denominator series) of one report (per applicant column
--             for '*' series), only when every term has a value and the denominator is not 0.
-- `headline` marks the one value of a series per report that the wide panel carries (the 总计
-- column of a '*' series, the series' own cell otherwise).
CREATE OR REPLACE VIEW panel AS
WITH printed AS (
    SELECT x.series_id, x.label_en, x.label_zh, x.section, x.comparability, FALSE AS derived, x.formula,
           rf.sha256, rf.row_code, rf.col_code, (x.col_code <> '*' OR rf.col_code = 's3c.total') AS headline,
           rf.value_corrected AS value, rf.value AS value_extracted, rf.corrected, rf.value_status, rf.unit,
           rf.page
    FROM report_facts rf
    JOIN crosswalk x ON x.row_code = rf.row_code
                    AND (x.col_code = rf.col_code OR x.col_code IN ('*', '') OR x.col_code IS NULL)
    WHERE x.comparability IN ('exact', 'approximate')
),
leaves AS (
    SELECT x.series_id, x.label_en, x.label_zh, x.section, x.comparability, x.formula, x.row_code AS group_code,
           x.col_code AS series_col, l.code AS leaf_code, v.version
    FROM crosswalk x
    JOIN codebook l ON l.parent = x.row_code
    CROSS JOIN unnest(string_split(l.versions, '|')) AS v(version)
    WHERE x.derived = 'leaf_sum' AND list_contains(string_split(x.versions, '|'), v.version)
),
n_leaves AS (SELECT series_id, version, count(*) AS n FROM leaves GROUP BY ALL),
leaf_sums AS (
    SELECT l.series_id, any_value(l.label_en) AS label_en, any_value(l.label_zh) AS label_zh,
           any_value(l.section) AS section, any_value(l.comparability) AS comparability, TRUE AS derived,
           any_value(l.formula) AS formula, rf.sha256, any_value(l.group_code) AS row_code, rf.col_code,
           (any_value(l.series_col) <> '*' OR rf.col_code = 's3c.total') AS headline,
           sum(rf.value_corrected) AS value,
           CASE WHEN count(rf.value) = any_value(n.n) THEN sum(rf.value) END AS value_extracted,
           bool_or(rf.corrected) AS corrected, any_value(rf.unit) AS unit, NULL::INTEGER AS page
    FROM report_facts rf
    JOIN leaves l ON l.leaf_code = rf.row_code AND l.version = rf.template_version
    JOIN n_leaves n ON n.series_id = l.series_id AND n.version = l.version
    WHERE rf.value_corrected IS NOT NULL
    GROUP BY l.series_id, rf.sha256, rf.col_code
    HAVING count(DISTINCT rf.row_code) = any_value(n.n)
),
base AS (
    SELECT p.* FROM printed p
    WHERE p.value IS NOT NULL OR NOT EXISTS (
        SELECT 1 FROM leaf_sums s WHERE s.series_id = p.series_id AND s.sha256 = p.sha256 AND s.col_code = p.col_code)
    UNION ALL BY NAME
    SELECT s.*, CASE WHEN s.value = 0 THEN 'zero' ELSE 'number' END AS value_status FROM leaf_sums s
    WHERE NOT EXISTS (
        SELECT 1 FROM printed p WHERE p.series_id = s.series_id AND p.sha256 = s.sha256 AND p.col_code = s.col_code
                                  AND p.value IS NOT NULL)
),
terms AS (
    SELECT x.series_id, x.col_code AS series_col, 'numerator' AS part, t.term
    FROM crosswalk x CROSS JOIN unnest(string_split(x.numerator, '|')) AS t(term) WHERE x.derived = 'ratio'
    UNION ALL
    SELECT x.series_id, x.col_code, 'denominator', t.term
    FROM crosswalk x CROSS JOIN unnest(string_split(x.denominator, '|')) AS t(term) WHERE x.derived = 'ratio'
),
n_terms AS (SELECT series_id, part, count(DISTINCT term) AS n FROM terms GROUP BY ALL),
ratio_parts AS (
    SELECT t.series_id, t.part, b.sha256,
           CASE WHEN t.series_col = '*' THEN b.col_code ELSE t.series_col END AS col_code,
           sum(b.value) AS total, count(DISTINCT t.term) AS n_present,
           CASE WHEN count(b.value_extracted) = count(*) THEN sum(b.value_extracted) END AS total_extracted,
           bool_or(b.corrected) AS corrected, bool_or(b.comparability = 'approximate') AS approximate,
           bool_or(b.headline) AS headline
    FROM terms t JOIN base b ON b.series_id = t.term AND b.value IS NOT NULL
    GROUP BY ALL
),
ratios AS (
    SELECT x.series_id, x.label_en, x.label_zh, x.section,
           CASE WHEN num.approximate OR den.approximate THEN 'approximate' ELSE x.comparability END AS comparability,
           TRUE AS derived, x.formula, num.sha256, NULL AS row_code, num.col_code,
           (x.col_code <> '*' OR num.col_code = 's3c.total') AS headline,
           num.total / den.total AS value,
           num.total_extracted / nullif(den.total_extracted, 0) AS value_extracted,
           num.corrected OR den.corrected AS corrected, 'number' AS value_status, 'ratio' AS unit,
           NULL::INTEGER AS page
    FROM ratio_parts num
    JOIN ratio_parts den ON den.series_id = num.series_id AND den.sha256 = num.sha256
                        AND den.col_code = num.col_code AND den.part = 'denominator'
    JOIN n_terms nn ON nn.series_id = num.series_id AND nn.part = 'numerator'
    JOIN n_terms nd ON nd.series_id = num.series_id AND nd.part = 'denominator'
    JOIN (SELECT DISTINCT ON (series_id) * FROM crosswalk WHERE derived = 'ratio' ORDER BY series_id, seq) x
      ON x.series_id = num.series_id
    WHERE num.part = 'numerator' AND num.n_present = nn.n AND den.n_present = nd.n AND den.total <> 0
),
all_series AS (SELECT * FROM base UNION ALL BY NAME SELECT * FROM ratios)
SELECT p.series_id, p.label_en AS series_label_en, p.label_zh AS series_label_zh, p.section, p.comparability,
       p.derived, p.formula, d.agency_id, a.name AS agency_name, d.report_year, d.template_version, d.scope,
       p.value, p.value_extracted, p.corrected, p.value_status, p.unit, p.row_code, p.col_code, p.headline,
       p.sha256, p.page
FROM all_series p
JOIN documents d ON d.sha256 = p.sha256
LEFT JOIN agencies a ON a.agency_id = d.agency_id;

-- Identity check results per report, with the agency and year.
-- check_kind: the identity id without its instance ("s3.balance[s3c.total]" → "s3.balance");
-- check_family: its first part (s3, s4, prose, sanity, completeness, …), so new kinds group themselves.
CREATE OR REPLACE VIEW checks_labeled AS
SELECT d.agency_id, a.name AS agency_name, d.report_year, d.url AS document_url,
       regexp_extract(k.identity_id, '^[^\[#]+') AS check_kind, split_part(k.identity_id, '.', 1) AS check_family, k.*
FROM checks k
JOIN documents d USING (sha256)
LEFT JOIN agencies a USING (agency_id);

-- Cross-year identity (soft): 二、上年结转 of year t = 四、结转下年度继续办理 of year t-1, same agency.
CREATE OR REPLACE VIEW cross_year_checks AS
SELECT cur.agency_id, cur.agency_name, cur.report_year,
       prev.value AS carried_out_previous_year, cur.value AS carried_in_this_year,
       CASE WHEN cur.value IS NULL OR prev.value IS NULL THEN 'not_checkable'
            WHEN cur.value = prev.value THEN 'passed' ELSE 'failed' END AS status,
       prev.sha256 AS previous_document, cur.sha256 AS document
FROM report_facts cur
JOIN report_facts prev
  ON prev.agency_id = cur.agency_id AND prev.report_year = cur.report_year - 1
 AND prev.row_code = 's3.carried_out' AND prev.col_code = 's3c.total'
WHERE cur.row_code = 's3.carried_in' AND cur.col_code = 's3c.total';
