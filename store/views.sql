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

-- The panel: comparable variables lined up across all report years via the crosswalk.
CREATE OR REPLACE VIEW panel AS
SELECT x.series_id, x.label_en AS series_label_en, x.label_zh AS series_label_zh, x.comparability,
       rf.agency_id, rf.agency_name, rf.report_year, rf.template_version,
       rf.value, rf.value_status, rf.unit, rf.row_code, rf.col_code, rf.sha256, rf.page
FROM report_facts rf
JOIN crosswalk x ON x.row_code = rf.row_code AND (x.col_code = rf.col_code OR x.col_code IS NULL OR x.col_code = '');

-- Identity check results per report, with the agency and year.
CREATE OR REPLACE VIEW checks_labeled AS
SELECT d.agency_id, a.name AS agency_name, d.report_year, d.url AS document_url, k.*
FROM checks k
JOIN documents d USING (sha256)
LEFT JOIN agencies a USING (agency_id);
