-- Analyst views. Recreated by store.db.create_views() after reference tables are loaded.

-- Facts with their labels, agency and source document: what an analyst reads.
CREATE OR REPLACE VIEW facts_labeled AS
SELECT
    f.agency_id, a.name AS agency_name, a.level AS agency_level, a.division_code,
    f.report_year, f.template_version, f.section,
    f.row_code, r.label_path AS row_path, r.label_en AS row_label_en,
    f.col_code, c.label_path AS col_path, c.label_en AS col_label_en,
    f.value, f.value_status, f.unit, f.raw_text,
    d.url AS document_url, f.sha256, d.media_type, f.page, f.table_index, f.row_index, f.col_index,
    f.confidence
FROM facts f
LEFT JOIN agencies a USING (agency_id)
LEFT JOIN codebook r ON r.code = f.row_code
LEFT JOIN codebook c ON c.code = f.col_code
LEFT JOIN documents d ON d.sha256 = f.sha256;

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
-- joins the codes that measure the same thing in different template versions; '*' = every column).
CREATE OR REPLACE VIEW panel AS
SELECT x.series_id, x.label_en AS series_label_en, x.label_zh AS series_label_zh, x.comparability,
       rf.agency_id, rf.agency_name, rf.report_year, rf.template_version,
       rf.value, rf.value_status, rf.unit, rf.row_code, rf.col_code, rf.sha256, rf.page
FROM report_facts rf
JOIN crosswalk x ON x.row_code = rf.row_code
                AND (x.col_code = rf.col_code OR x.col_code IN ('*', '') OR x.col_code IS NULL)
WHERE x.comparability IN ('exact', 'approximate');

-- Identity check results per report, with the agency and year.
CREATE OR REPLACE VIEW checks_labeled AS
SELECT d.agency_id, a.name AS agency_name, d.report_year, d.url AS document_url, k.*
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
