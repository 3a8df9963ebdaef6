"""The team database's tables, as versioned migrations (component ``team``).

- ``team_spaces``: one row per space; ``revision`` is the space's counter. A writer bumps it with
  ``UPDATE ... RETURNING`` inside its transaction, so the row lock orders writers and revision order
  is commit order: a reader that has seen revision n has seen every revision below it.
- ``team_members``: which PostgreSQL role belongs to which space (and its display name).
- ``team_notes``: the current state of every path in a space (tombstones included), with a
  generated, weighted ``tsvector`` for search.
- ``team_revisions``: every revision of every path, so a three-way merge always has its base.

Row-level security (forced, so the tables' owner is subject to it too) lets a role see and change
only the rows of the spaces it belongs to; ``updated_by`` is set by a trigger from the connected
role, so a client cannot forge it.
"""

from __future__ import annotations

from ..pg import Migration

COMPONENT = "team"
MEMBER_ROLE = "mdstore_member"  # every member role is granted this group role

_V1 = """
DO $$ BEGIN
    CREATE ROLE mdstore_member NOLOGIN;
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;

CREATE TABLE team_spaces (
    name text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    revision bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE team_members (
    space text NOT NULL REFERENCES team_spaces (name) ON DELETE CASCADE,
    role name NOT NULL,
    display_name text NOT NULL DEFAULT '',
    email text NOT NULL DEFAULT '',
    added_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (space, role)
);
CREATE INDEX team_members_role ON team_members (role);

CREATE TABLE team_notes (
    space text NOT NULL REFERENCES team_spaces (name),
    path text NOT NULL,
    kind text NOT NULL DEFAULT 'note' CHECK (kind IN ('note', 'attachment')),
    content bytea NOT NULL DEFAULT '',
    content_hash text NOT NULL,
    body text NOT NULL DEFAULT '',
    frontmatter jsonb NOT NULL DEFAULT '{}',
    title text NOT NULL DEFAULT '',
    headings text NOT NULL DEFAULT '',
    tags text[] NOT NULL DEFAULT '{}',
    links text[] NOT NULL DEFAULT '{}',
    revision bigint NOT NULL,
    updated_by name NOT NULL DEFAULT current_user,
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted boolean NOT NULL DEFAULT false,
    moved_from text,
    search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', title), 'A')
        || setweight(to_tsvector('english', headings), 'B')
        || setweight(to_tsvector('english', body), 'C')
    ) STORED,
    PRIMARY KEY (space, path)
);
CREATE INDEX team_notes_revision ON team_notes (space, revision);
CREATE INDEX team_notes_search ON team_notes USING gin (search);
CREATE INDEX team_notes_frontmatter ON team_notes USING gin (frontmatter jsonb_path_ops);
CREATE INDEX team_notes_tags ON team_notes USING gin (tags);

CREATE TABLE team_revisions (
    space text NOT NULL REFERENCES team_spaces (name),
    revision bigint NOT NULL,
    path text NOT NULL,
    kind text NOT NULL DEFAULT 'note',
    content bytea NOT NULL DEFAULT '',
    content_hash text NOT NULL,
    frontmatter jsonb NOT NULL DEFAULT '{}',
    base_revision bigint,
    deleted boolean NOT NULL DEFAULT false,
    moved_from text,
    updated_by name NOT NULL DEFAULT current_user,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (space, revision)
);
CREATE INDEX team_revisions_path ON team_revisions (space, path, revision);

-- The spaces the connected role belongs to. SECURITY DEFINER so policies can use it without
-- recursing into team_members' own policy; session_user is the role that logged in.
CREATE FUNCTION mdstore_my_spaces() RETURNS SETOF text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $f$ SELECT space FROM team_members WHERE role = session_user $f$;

CREATE FUNCTION mdstore_stamp_author() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
    NEW.updated_by := session_user;
    NEW.updated_at := now();
    RETURN NEW;
END $f$;
CREATE TRIGGER team_notes_author BEFORE INSERT OR UPDATE ON team_notes
    FOR EACH ROW EXECUTE FUNCTION mdstore_stamp_author();
CREATE TRIGGER team_revisions_author BEFORE INSERT OR UPDATE ON team_revisions
    FOR EACH ROW EXECUTE FUNCTION mdstore_stamp_author();

ALTER TABLE team_spaces ENABLE ROW LEVEL SECURITY;
ALTER TABLE team_spaces FORCE ROW LEVEL SECURITY;
ALTER TABLE team_members ENABLE ROW LEVEL SECURITY;
ALTER TABLE team_members FORCE ROW LEVEL SECURITY;
ALTER TABLE team_notes ENABLE ROW LEVEL SECURITY;
ALTER TABLE team_notes FORCE ROW LEVEL SECURITY;
ALTER TABLE team_revisions ENABLE ROW LEVEL SECURITY;
ALTER TABLE team_revisions FORCE ROW LEVEL SECURITY;

CREATE POLICY member_spaces ON team_spaces TO mdstore_member
    USING (name IN (SELECT mdstore_my_spaces()));
CREATE POLICY member_rows ON team_members TO mdstore_member
    USING (space IN (SELECT mdstore_my_spaces()));
CREATE POLICY member_notes ON team_notes TO mdstore_member
    USING (space IN (SELECT mdstore_my_spaces()))
    WITH CHECK (space IN (SELECT mdstore_my_spaces()));
CREATE POLICY member_revisions ON team_revisions TO mdstore_member
    USING (space IN (SELECT mdstore_my_spaces()))
    WITH CHECK (space IN (SELECT mdstore_my_spaces()));
-- The administrator who ran the migrations (the tables' owner) manages every space.
CREATE POLICY owner_all_spaces ON team_spaces TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY owner_all_members ON team_members TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY owner_all_notes ON team_notes TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY owner_all_revisions ON team_revisions TO CURRENT_USER USING (true) WITH CHECK (true);

GRANT SELECT, UPDATE (revision) ON team_spaces TO mdstore_member;
GRANT SELECT ON team_members TO mdstore_member;
GRANT SELECT, INSERT, UPDATE ON team_notes TO mdstore_member;
GRANT SELECT, INSERT ON team_revisions TO mdstore_member;
GRANT EXECUTE ON FUNCTION mdstore_my_spaces() TO mdstore_member;
"""

# Query helpers (team find/search). Search runs as SECURITY DEFINER: under row-level security
# `@@` is not leakproof, so a member's own query would scan every row instead of using the GIN
# index. The function restores the filter itself: the requested space, intersected with the
# spaces of session_user (the role that logged in, which the caller cannot choose).
_V2 = r"""
-- Every scalar of a frontmatter document at key `wanted` (case-insensitive, dots for nested
-- mappings) or below it, lists expanded: (k, v, listed), the JSON twin of the local `properties`.
CREATE FUNCTION mdstore_fm_values(doc jsonb, wanted text)
    RETURNS TABLE (k text, v jsonb, listed boolean)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $f$
    WITH RECURSIVE walk(k, v, listed) AS (
        SELECT lower(e.key), e.value, false
        FROM jsonb_each(CASE WHEN jsonb_typeof(doc) = 'object' THEN doc ELSE '{}'::jsonb END) e
        WHERE lower(e.key) = wanted OR starts_with(wanted, lower(e.key) || '.')
              OR starts_with(lower(e.key), wanted || '.')
      UNION ALL
        SELECT CASE WHEN c.key IS NULL THEN w.k ELSE w.k || '.' || lower(c.key) END, c.value,
               w.listed OR c.key IS NULL
        FROM walk w CROSS JOIN LATERAL (
            SELECT o.key, o.value
            FROM jsonb_each(CASE WHEN jsonb_typeof(w.v) = 'object' THEN w.v ELSE '{}'::jsonb END) o
            UNION ALL
            SELECT NULL, a.value
            FROM jsonb_array_elements(CASE WHEN jsonb_typeof(w.v) = 'array' THEN w.v ELSE '[]'::jsonb END) a
        ) c
    )
    SELECT k, v, listed FROM walk
    WHERE jsonb_typeof(v) NOT IN ('object', 'array')
      AND (k = wanted OR starts_with(k, wanted || '.'))
$f$;

-- A JSON string holding a real calendar date or an ISO date-time, as a UTC timestamp (NULL for
-- anything else, so 2026-02-30 stays text, as in the local index). Plain SQL without an exception
-- handler, so the planner inlines it: a plpgsql version cost a subtransaction per row.
CREATE FUNCTION mdstore_jsonb_time(v jsonb) RETURNS timestamp
    LANGUAGE sql STABLE PARALLEL SAFE AS $f$
    SELECT CASE
        WHEN v IS NULL OR jsonb_typeof(v) <> 'string' THEN NULL
        WHEN (v #>> '{}') !~ ('^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])'
                              '([T ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?([Zz]|[+-]\d{2}(:?\d{2})?)?)?$')
            THEN NULL
        WHEN substr(v #>> '{}', 1, 4)::int = 0 THEN NULL
        WHEN substr(v #>> '{}', 9, 2)::int > extract(day FROM make_date(
                substr(v #>> '{}', 1, 4)::int, substr(v #>> '{}', 6, 2)::int, 1)
                + interval '1 month - 1 day')
            THEN NULL
        WHEN (v #>> '{}') ~ '[T ].*([Zz]|[+-]\d{2}(:?\d{2})?)$'
            THEN (v #>> '{}')::timestamptz AT TIME ZONE 'UTC'
        ELSE (v #>> '{}')::timestamp
    END
$f$;

CREATE FUNCTION mdstore_search(
    wanted_space text, query text, max_hits integer, skip integer, only_paths text[] DEFAULT NULL
) RETURNS TABLE (path text, title text, score real, snippet text, total bigint)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $f$
    WITH q AS (SELECT websearch_to_tsquery('english', query) AS tsq),
    matches AS MATERIALIZED (
        SELECT n.path, n.title, n.body, ts_rank_cd('{0.1, 0.2, 0.4, 1.0}', n.search, q.tsq) AS score
        FROM team_notes n, q
        WHERE n.space = wanted_space
          AND n.space IN (SELECT m.space FROM team_members m WHERE m.role = session_user)
          AND n.kind = 'note' AND NOT n.deleted
          AND n.search @@ q.tsq
          AND (only_paths IS NULL OR n.path = ANY (only_paths))
    ),
    page AS (
        SELECT * FROM matches ORDER BY score DESC, path LIMIT max_hits OFFSET skip
    )
    -- The first row carries the exact total (even for a page past the end); hits follow.
    SELECT NULL, NULL, NULL, NULL, (SELECT count(*) FROM matches)
    UNION ALL
    SELECT p.path, p.title, p.score,
           ts_headline('english', p.body, q.tsq,
                       format('StartSel=%s, StopSel=%s, FragmentDelimiter=%s, MaxFragments=2, '
                              'MaxWords=30, MinWords=12', chr(2), chr(3), chr(4))),
           NULL
    FROM page p, q
$f$;
REVOKE EXECUTE ON FUNCTION mdstore_search(text, text, integer, integer, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mdstore_search(text, text, integer, integer, text[]) TO mdstore_member;
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "spaces, members, notes, revisions, row-level security", _V1),
    Migration(2, "team find and search helpers (search as SECURITY DEFINER)", _V2),
)
