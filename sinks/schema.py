"""The one home of the DuckDB schema: ordered, numbered migrations.

Each migration runs once, in order, inside a transaction, and is recorded in
`schema_migrations`, so a database file made by an older newswatch upgrades
in place when a newer one opens it for writing. Never edit a released
migration; append a new one.
"""

from __future__ import annotations

from typing import NamedTuple


class Migration(NamedTuple):
    """One schema step."""

    version: int
    name: str
    sql: str


_ARTICLE_LABELS_VIEW = """
CREATE OR REPLACE VIEW article_labels AS
SELECT
    a.url,
    a.title,
    a.published_at,
    coalesce(a.defection, false) AS defection,
    coalesce(a.conscription, false) AS conscription,
    coalesce(a.defection_report, false) AS defection_report,
    a.defectors,
    a.weapons,
    coalesce(a.orgs, []::VARCHAR[]) AS orgs,
    coalesce(a.locations, []::VARCHAR[]) AS locations,
    o.url AS duplicate_of_url,
    a.country,
    a.source,
    a.article_id,
    a.duplicate_of,
    a.duplicate_kind,
    a.feed_url,
    a.language
FROM articles a
LEFT JOIN articles o ON o.article_id = a.duplicate_of
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "initial tables",
        """
        CREATE TABLE articles (
            article_id      VARCHAR PRIMARY KEY,   -- hash of the canonical URL
            url             VARCHAR NOT NULL,      -- canonical URL
            feed_url        VARCHAR,
            source          VARCHAR,
            title           VARCHAR,
            author          VARCHAR,
            published_at    TIMESTAMPTZ,
            date_origin     VARCHAR,               -- 'page' or 'feed'
            fetched_at      TIMESTAMPTZ,
            seen_at         TIMESTAMPTZ,           -- first sight in a feed
            stored_at       TIMESTAMPTZ NOT NULL,
            language        VARCHAR,
            text            VARCHAR NOT NULL,
            content_hash    VARCHAR NOT NULL,
            duplicate_of    VARCHAR,               -- article_id of the original
            duplicate_kind  VARCHAR,               -- 'exact' or 'near'
            minhash         BLOB,
            defection       BOOLEAN,
            conscription    BOOLEAN,
            defection_report BOOLEAN,
            defectors       INTEGER,
            weapons         INTEGER,
            orgs            VARCHAR[],
            locations       VARCHAR[],
            country         VARCHAR,
            extractor_version VARCHAR
        );
        CREATE INDEX articles_content_hash ON articles (content_hash);

        CREATE TABLE mentions (
            mention_id      VARCHAR PRIMARY KEY,
            article_id      VARCHAR NOT NULL,
            kind            VARCHAR NOT NULL,
            modality        VARCHAR NOT NULL,
            people_count    INTEGER,
            count_qualifier VARCHAR,
            weapons_count   INTEGER,
            ranks           VARCHAR[],
            units           VARCHAR[],
            orgs            VARCHAR[],
            locations       VARCHAR[],
            country         VARCHAR,
            source_party    VARCHAR,
            sentence        VARCHAR NOT NULL,
            start_char      INTEGER NOT NULL,
            end_char        INTEGER NOT NULL,
            extractor_version VARCHAR NOT NULL
        );
        CREATE INDEX mentions_article ON mentions (article_id);

        -- One row per failing item and code; a rerun bumps `count` and `at`.
        CREATE TABLE errors (
            stage       VARCHAR NOT NULL,
            url         VARCHAR NOT NULL,
            feed_url    VARCHAR,
            code        VARCHAR NOT NULL,
            message     VARCHAR,
            first_at    TIMESTAMPTZ NOT NULL,
            "at"        TIMESTAMPTZ NOT NULL,  -- last occurrence
            count       INTEGER NOT NULL DEFAULT 1,
            PRIMARY KEY (stage, url, code)
        );

        CREATE TABLE feeds (
            feed_url            VARCHAR PRIMARY KEY,
            title               VARCHAR,
            last_status         VARCHAR,     -- ok | not_modified | error
            last_http_status    INTEGER,
            etag                VARCHAR,
            last_modified       VARCHAR,
            last_polled_at      TIMESTAMPTZ,
            last_ok_at          TIMESTAMPTZ,
            consecutive_errors  INTEGER NOT NULL DEFAULT 0,
            last_error_code     VARCHAR,
            last_error          VARCHAR,
            items_seen_last     INTEGER,
            bozo                BOOLEAN,
            next_poll_at        TIMESTAMPTZ,
            suspended           BOOLEAN NOT NULL DEFAULT false,
            suspended_reason    VARCHAR
        );

        CREATE TABLE feed_polls (
            feed_url     VARCHAR NOT NULL,
            polled_at    TIMESTAMPTZ NOT NULL,
            status       VARCHAR NOT NULL,
            http_status  INTEGER,
            items_seen   INTEGER NOT NULL,
            error_code   VARCHAR,
            message      VARCHAR,
            PRIMARY KEY (feed_url, polled_at)
        );

        CREATE TABLE runs (
            run_id        VARCHAR PRIMARY KEY,
            mode          VARCHAR NOT NULL,     -- batch | stream
            started_at    TIMESTAMPTZ NOT NULL,
            finished_at   TIMESTAMPTZ,
            status        VARCHAR NOT NULL,     -- running | ok | failed
            feeds         INTEGER,
            articles_before INTEGER,
            articles_after  INTEGER,
            mentions_after  INTEGER,
            errors_seen   INTEGER,
            args          VARCHAR
        );
        """
        + _ARTICLE_LABELS_VIEW,
    ),
)

MIGRATIONS += (
    Migration(
        2,
        "freshness per poll",
        """
        -- Per poll: items seen, articles first seen in it, and how long they
        -- took from first sight (and from publication) to a committed row.
        CREATE OR REPLACE VIEW poll_freshness AS
        SELECT
            p.feed_url,
            p.polled_at,
            p.status,
            p.items_seen,
            count(a.article_id) AS new_articles,
            median(epoch(a.stored_at) - epoch(a.seen_at)) AS median_seen_to_stored_s,
            max(epoch(a.stored_at) - epoch(a.seen_at)) AS max_seen_to_stored_s,
            median(epoch(a.stored_at) - epoch(a.published_at)) AS median_published_to_stored_s
        FROM feed_polls p
        LEFT JOIN articles a ON a.feed_url = p.feed_url AND a.seen_at = p.polled_at
        GROUP BY p.feed_url, p.polled_at, p.status, p.items_seen
        """,
    ),
)

MIGRATIONS += (
    Migration(
        3,
        "alerts outbox",
        """
        -- One row per alert and channel; newswatch.alerts.outbox delivers from here.
        CREATE TABLE alerts (
            alert_id        VARCHAR NOT NULL,      -- hash of rule + original article id
            channel         VARCHAR NOT NULL,      -- 'webhook:<url>', 'slack:<url>', 'file:<path>', 'console'
            rule            VARCHAR NOT NULL,
            article_id      VARCHAR NOT NULL,      -- the original article of the story
            payload         VARCHAR NOT NULL,      -- the alert as JSON (the webhook body)
            status          VARCHAR NOT NULL,      -- pending | delivered | failed | disabled
            attempts        INTEGER NOT NULL DEFAULT 0,
            last_error      VARCHAR,
            created_at      TIMESTAMPTZ NOT NULL,
            next_attempt_at TIMESTAMPTZ,           -- pending only
            delivered_at    TIMESTAMPTZ,
            expires_at      TIMESTAMPTZ NOT NULL,  -- give up (status failed) after this
            PRIMARY KEY (alert_id, channel)
        );
        CREATE INDEX alerts_article ON alerts (article_id);

        -- Endpoints that answered 410 Gone: nothing more is sent to them.
        CREATE TABLE alert_endpoints (
            channel      VARCHAR PRIMARY KEY,
            disabled_at  TIMESTAMPTZ NOT NULL,
            reason       VARCHAR
        );
        """,
    ),
)

MIGRATIONS += (
    Migration(
        4,
        "feed resume requests",
        """
        -- Set by `newswatch feeds resume`: a running stream job resumes a suspended
        -- feed once this is later than the poll that suspended it.
        ALTER TABLE feeds ADD COLUMN resumed_at TIMESTAMPTZ;
        """,
    ),
)

MIGRATIONS += (
    Migration(
        5,
        "myanmar source encoding",
        """
        -- Issue 16: the font encoding of the Myanmar script on the page as fetched
        -- ('zawgyi' or 'unicode'; NULL when the page has none). The text is always Unicode.
        ALTER TABLE articles ADD COLUMN source_encoding VARCHAR;
        """,
    ),
)

# The article's main defection-report incident joins the analyst view (NULL when it has none).
_LABELS_WITH_INCIDENT = _ARTICLE_LABELS_VIEW.replace(
    "    a.language\nFROM articles a\n",
    "    a.language,\n    mi.incident_id\nFROM articles a\n"
    "LEFT JOIN (SELECT article_id, min(incident_id) AS incident_id FROM incident_mentions WHERE main\n"
    "           GROUP BY article_id) mi ON mi.article_id = a.article_id\n",
)
assert _LABELS_WITH_INCIDENT != _ARTICLE_LABELS_VIEW

MIGRATIONS += (
    Migration(
        6,
        "incidents",
        """
        -- One row per real-world event or claimant figure (transforms/incidents/core.py).
        CREATE TABLE incidents (
            incident_id        VARCHAR PRIMARY KEY,   -- 'inc-' + hash of the earliest member mention id
            sort               VARCHAR NOT NULL,      -- 'event' | 'figure' (a claimant's running total)
            kind               VARCHAR NOT NULL,      -- 'defection' | 'conscription'
            title              VARCHAR,               -- headline of the earliest report
            count_min          INTEGER,               -- smallest and largest people count reported
            count_max          INTEGER,
            weapons_min        INTEGER,
            weapons_max        INTEGER,
            claimants          VARCHAR[],
            places             VARCHAR[],
            units              VARCHAR[],
            ranks              VARCHAR[],
            first_published    TIMESTAMPTZ,
            first_seen         TIMESTAMPTZ,
            last_seen          TIMESTAMPTZ,
            n_articles         INTEGER NOT NULL,
            n_outlets          INTEGER NOT NULL,
            representative_url VARCHAR
        );
        CREATE TABLE incident_mentions (
            mention_id   VARCHAR PRIMARY KEY,
            incident_id  VARCHAR NOT NULL,
            article_id   VARCHAR NOT NULL,
            main         BOOLEAN NOT NULL           -- the article's main defection-report incident
        );
        CREATE INDEX incident_mentions_incident ON incident_mentions (incident_id);
        CREATE OR REPLACE VIEW incident_timeline AS
        SELECT * FROM incidents ORDER BY first_seen, incident_id;
        """
        + _LABELS_WITH_INCIDENT,
    ),
)

LATEST_VERSION = MIGRATIONS[-1].version


class Column(NamedTuple):
    """One column of a table as the migrations leave it: name and DuckDB type."""

    name: str
    type: str


def _columns(spec: str) -> tuple[Column, ...]:
    return tuple(Column(*item.split()) for item in spec.split(","))


# The one column definition of the tables both sinks hold, in table order. The DuckDB sink's
# insert lists, the Parquet sink's Arrow schemas and its views are made from it; the migrations
# above are history and are never edited, so tests/test_sink_duckdb.py checks they build exactly this.
TABLES: dict[str, tuple[Column, ...]] = {
    "articles": _columns(
        "article_id VARCHAR, url VARCHAR, feed_url VARCHAR, source VARCHAR, title VARCHAR, author VARCHAR,"
        "published_at TIMESTAMPTZ, date_origin VARCHAR, fetched_at TIMESTAMPTZ, seen_at TIMESTAMPTZ,"
        "stored_at TIMESTAMPTZ, language VARCHAR, text VARCHAR, content_hash VARCHAR, duplicate_of VARCHAR,"
        "duplicate_kind VARCHAR, minhash BLOB, defection BOOLEAN, conscription BOOLEAN, defection_report BOOLEAN,"
        "defectors INTEGER, weapons INTEGER, orgs VARCHAR[], locations VARCHAR[], country VARCHAR,"
        "extractor_version VARCHAR, source_encoding VARCHAR"),
    "mentions": _columns(
        "mention_id VARCHAR, article_id VARCHAR, kind VARCHAR, modality VARCHAR, people_count INTEGER,"
        "count_qualifier VARCHAR, weapons_count INTEGER, ranks VARCHAR[], units VARCHAR[], orgs VARCHAR[],"
        "locations VARCHAR[], country VARCHAR, source_party VARCHAR, sentence VARCHAR, start_char INTEGER,"
        "end_char INTEGER, extractor_version VARCHAR"),
    "errors": _columns(
        "stage VARCHAR, url VARCHAR, feed_url VARCHAR, code VARCHAR, message VARCHAR, first_at TIMESTAMPTZ,"
        "at TIMESTAMPTZ, count INTEGER"),
    "feed_polls": _columns(
        "feed_url VARCHAR, polled_at TIMESTAMPTZ, status VARCHAR, http_status INTEGER, items_seen INTEGER,"
        "error_code VARCHAR, message VARCHAR"),
    "incidents": _columns(
        "incident_id VARCHAR, sort VARCHAR, kind VARCHAR, title VARCHAR, count_min INTEGER, count_max INTEGER,"
        "weapons_min INTEGER, weapons_max INTEGER, claimants VARCHAR[], places VARCHAR[], units VARCHAR[],"
        "ranks VARCHAR[], first_published TIMESTAMPTZ, first_seen TIMESTAMPTZ, last_seen TIMESTAMPTZ,"
        "n_articles INTEGER, n_outlets INTEGER, representative_url VARCHAR"),
    "incident_mentions": _columns("mention_id VARCHAR, incident_id VARCHAR, article_id VARCHAR, main BOOLEAN"),
}
# Filled by the database on insert, never by a writer.
STORED_BY_DATABASE = {"articles": ("stored_at",), "errors": ("first_at", "count")}


DUCK_TYPES = ("VARCHAR", "TIMESTAMPTZ", "INTEGER", "BIGINT", "DOUBLE", "BOOLEAN", "BLOB", "VARCHAR[]")


def arrow_type(duck_type: str):
    """The Arrow type that holds values of a DuckDB column type (Parquet files, Arrow inserts)."""
    import pyarrow as pa  # here: `newswatch report` reads the schema without loading pyarrow

    return {
        "VARCHAR": pa.string(), "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"), "INTEGER": pa.int32(),
        "BIGINT": pa.int64(), "DOUBLE": pa.float64(), "BOOLEAN": pa.bool_(), "BLOB": pa.binary(),
        "VARCHAR[]": pa.list_(pa.string()),
    }[duck_type]


def written_columns(table: str) -> tuple[Column, ...]:
    """The columns of `table` a writer supplies, in table order (the Parquet sink's file columns)."""
    skip = STORED_BY_DATABASE.get(table, ())
    return tuple(c for c in TABLES[table] if c.name not in skip)


def migrate(con) -> list[int]:
    """Apply pending migrations on an open read-write connection; return those applied."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
    )
    done = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    if done and max(done) > LATEST_VERSION:
        raise RuntimeError(
            f"database schema version {max(done)} is newer than this newswatch "
            f"(knows up to {LATEST_VERSION}); upgrade newswatch"
        )
    applied = []
    for migration in MIGRATIONS:
        if migration.version in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(migration.sql)
            con.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, now())",
                [migration.version, migration.name],
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(migration.version)
    return applied
