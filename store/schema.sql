-- ogi DuckDB schema. Applied idempotently by store.db.connect(); one writer (the loader) at a time.
-- Every fact keeps its provenance: the document (sha256), page, table index, row and column index.

CREATE TABLE IF NOT EXISTS runs (
    run_id        VARCHAR PRIMARY KEY,
    flow          VARCHAR NOT NULL,
    started_at    TIMESTAMP NOT NULL,
    finished_at   TIMESTAMP,
    status        VARCHAR,              -- running / completed / failed
    summary_json  VARCHAR
);

CREATE TABLE IF NOT EXISTS agencies (
    agency_id      VARCHAR PRIMARY KEY,
    name           VARCHAR NOT NULL,
    kind           VARCHAR,             -- government / department
    level          VARCHAR,             -- province / prefecture / county / township
    division_code  VARCHAR,             -- 6-digit administrative division code of its area
    parent_id      VARCHAR,
    listing_urls   VARCHAR[],
    in_registry    BOOLEAN DEFAULT TRUE
);

-- One row per distinct content (sha256). The same bytes at two URLs are one document.
CREATE TABLE IF NOT EXISTS documents (
    sha256             VARCHAR PRIMARY KEY,
    url                VARCHAR,
    agency_id          VARCHAR,
    report_year        INTEGER,
    title              VARCHAR,
    scope              VARCHAR,         -- 本机关 / 本级政府汇总 / NULL
    media_type         VARCHAR,
    size_bytes         BIGINT,
    fetched_at         TIMESTAMP,
    http_status        INTEGER,
    etag               VARCHAR,
    last_modified      VARCHAR,
    status             VARCHAR NOT NULL, -- loaded / quarantined / container (page whose report is in attachments)
    quarantine_reason  VARCHAR,
    extractor_version  VARCHAR,
    transform_version  VARCHAR,
    template_version   VARCHAR,
    version_evidence   VARCHAR,
    supersedes         VARCHAR,         -- sha256 of the earlier version at the same URL (revision)
    first_run_id       VARCHAR,
    last_run_id        VARCHAR,
    loaded_at          TIMESTAMP
);
-- Added after the first release: files made before it get the column on their next connect.
ALTER TABLE documents ADD COLUMN IF NOT EXISTS sections VARCHAR;  -- "s2:complete s3:partial s4:missing"

-- Every fetch attempt of a URL, successful or not: the revision and breakage history.
CREATE TABLE IF NOT EXISTS fetches (
    run_id        VARCHAR,
    url           VARCHAR NOT NULL,
    agency_id     VARCHAR,
    report_year   INTEGER,
    fetched_at    TIMESTAMP NOT NULL,
    http_status   INTEGER,
    outcome       VARCHAR NOT NULL,     -- new / unchanged / not_modified / revised / error
    sha256        VARCHAR,
    error         VARCHAR,
    etag          VARCHAR,
    last_modified VARCHAR
);

CREATE TABLE IF NOT EXISTS facts (
    sha256            VARCHAR NOT NULL,
    agency_id         VARCHAR,
    report_year       INTEGER,
    template_version  VARCHAR,
    section           VARCHAR NOT NULL,
    row_code          VARCHAR NOT NULL,
    col_code          VARCHAR NOT NULL,
    value             DOUBLE,
    value_status      VARCHAR NOT NULL,
    unit              VARCHAR,
    raw_text          VARCHAR,
    page              INTEGER,
    table_index       INTEGER,
    row_index         INTEGER,
    col_index         INTEGER,
    row_label_raw     VARCHAR,
    col_label_raw     VARCHAR,
    confidence        DOUBLE,
    run_id            VARCHAR
);

CREATE TABLE IF NOT EXISTS unplaced (
    sha256         VARCHAR NOT NULL,
    section        VARCHAR,
    raw_text       VARCHAR,
    row_label_raw  VARCHAR,
    col_label_raw  VARCHAR,
    page           INTEGER,
    table_index    INTEGER,
    row_index      INTEGER,
    col_index      INTEGER,
    reason         VARCHAR,
    best_guess     VARCHAR,
    run_id         VARCHAR
);

CREATE TABLE IF NOT EXISTS checks (
    sha256       VARCHAR NOT NULL,
    identity_id  VARCHAR NOT NULL,
    section      VARCHAR,
    status       VARCHAR NOT NULL,      -- passed / failed / not_checkable
    lhs          DOUBLE,
    rhs          DOUBLE,
    description  VARCHAR,
    detail       VARCHAR,
    severity     VARCHAR,
    run_id       VARCHAR
);

-- Reference tables, reloaded from data/*.csv at every connect.
CREATE TABLE IF NOT EXISTS codebook (
    code       VARCHAR PRIMARY KEY,
    section    VARCHAR,
    axis       VARCHAR,
    parent     VARCHAR,
    "order"    INTEGER,
    label_zh   VARCHAR,
    label_en   VARCHAR,
    unit       VARCHAR,
    versions   VARCHAR,
    signed     BOOLEAN,
    label_path VARCHAR
);

CREATE TABLE IF NOT EXISTS expected_reports (
    agency_id    VARCHAR NOT NULL,
    report_year  INTEGER NOT NULL,
    PRIMARY KEY (agency_id, report_year)
);

CREATE TABLE IF NOT EXISTS crosswalk (
    series_id      VARCHAR,
    label_en       VARCHAR,
    label_zh       VARCHAR,
    section        VARCHAR,
    row_code       VARCHAR,
    col_code       VARCHAR,
    versions       VARCHAR,
    comparability  VARCHAR,             -- exact / approximate / not_comparable
    note           VARCHAR,
    derived        VARCHAR,             -- '' (printed) / leaf_sum / ratio
    numerator      VARCHAR,             -- ratio: series ids summed above the line ('|'-separated)
    denominator    VARCHAR,             -- ratio: series ids summed below the line
    formula        VARCHAR,             -- how a derived series is computed, in words
    seq            INTEGER              -- line of data/crosswalk.csv (series order)
);
-- Databases created before the derived series: add their columns (no-op when present).
ALTER TABLE crosswalk ADD COLUMN IF NOT EXISTS derived VARCHAR;
ALTER TABLE crosswalk ADD COLUMN IF NOT EXISTS numerator VARCHAR;
ALTER TABLE crosswalk ADD COLUMN IF NOT EXISTS denominator VARCHAR;
ALTER TABLE crosswalk ADD COLUMN IF NOT EXISTS formula VARCHAR;
ALTER TABLE crosswalk ADD COLUMN IF NOT EXISTS seq INTEGER;

-- Reviewed corrections (data/corrections.csv, reloaded at every run): a layer beside the facts.
-- The extracted value in facts stays; views that ask for corrected values (facts_labeled's
-- value_corrected, panel) use corrected_value for the cell instead. An empty corrected_value
-- withdraws the cell's value (treated as missing).
CREATE TABLE IF NOT EXISTS corrections (
    sha256           VARCHAR NOT NULL,
    row_code         VARCHAR NOT NULL,
    col_code         VARCHAR NOT NULL,
    corrected_value  DOUBLE,
    reason           VARCHAR NOT NULL,
    reviewer         VARCHAR NOT NULL,
    review_date      DATE NOT NULL,
    evidence         VARCHAR,
    PRIMARY KEY (sha256, row_code, col_code)
);
