"""The team database's tables, as versioned migrations (component ``team``).

- ``team_spaces``: one row per space; ``revision`` is the space's counter. A writer bumps it with
  ``UPDATE ... RETURNING`` inside its transaction, so the row lock orders writers and revision order
  is commit order: a reader that has seen revision n has seen every revision below it.
- ``team_members``: which PostgreSQL role belongs to which space (and its display name).
- ``team_notes``: the current state of every path in a space (tombstones included), with a
  weighted ``tsvector`` for search (set by a trigger from the title, headings and body).
- ``team_revisions``: every revision of every path, so a three-way merge always has its base.

Row-level security (forced, so the tables' owner is subject to it too) lets a role see and change
only the rows of the spaces it belongs to; ``updated_by`` is set by a trigger from the connected
role, so a client cannot forge it.
"""

from __future__ import annotations

from ..pg import Migration
from ..pg.migrations import MEMBER_ROLE as MEMBER_ROLE  # every member role is granted it

COMPONENT = "team"

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
-- A push refuses a name that differs only in case from a live one (Note.md vs note.md).
CREATE INDEX team_notes_lower_path ON team_notes (space, lower(path));
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
-- Clients check the schema version before using the tables.
GRANT SELECT ON mdstore_schema TO mdstore_member;
"""

# Team search. Under row-level security `@@` is not leakproof, so a member's own query would scan
# every row of the table instead of using the GIN index; this function runs as the tables' owner
# and filters on the caller's spaces explicitly (computed from session_user inside, so a caller
# cannot widen it by naming another space). Snippets are made for the returned page only.
_V2 = """
-- Spaces whose notes the connected role may read: its own, or all of them for the administrator
-- (the tables' owner, or a superuser), as row-level security has it.
CREATE FUNCTION mdstore_readable_spaces() RETURNS SETOF text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
AS $f$
    SELECT space FROM team_members WHERE role = session_user
    UNION
    SELECT name FROM team_spaces
    WHERE EXISTS (
        SELECT 1 FROM pg_roles r
        WHERE r.rolname = session_user
          AND (r.rolsuper OR pg_has_role(session_user,
               (SELECT c.relowner FROM pg_class c WHERE c.oid = 'team_notes'::regclass), 'MEMBER'))
    )
$f$;

CREATE FUNCTION mdstore_search(p_space text, p_query text, p_limit integer, p_offset integer)
    RETURNS TABLE (path text, title text, rank real, snippet text, total bigint)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
AS $f$
    -- The tsquery is written out where it is used (not joined from a CTE) so that it is an index
    -- condition on the GIN index.
    WITH hits AS (
        SELECT n.path, n.title, n.body,
               ts_rank_cd('{0.1, 0.2, 0.4, 1.0}', n.search, websearch_to_tsquery('english', p_query)) AS rank,
               count(*) OVER () AS total
        FROM team_notes n
        WHERE n.space = p_space
          AND p_space IN (SELECT mdstore_readable_spaces())
          AND NOT n.deleted AND n.kind = 'note'
          AND n.search @@ websearch_to_tsquery('english', p_query)
        ORDER BY rank DESC, n.path
        LIMIT p_limit OFFSET p_offset
    )
    SELECT h.path, h.title, h.rank,
           ts_headline('english', h.body, websearch_to_tsquery('english', p_query),
                       'StartSel=' || chr(2) || ', StopSel=' || chr(3) || ', MaxFragments=2, '
                       'MaxWords=30, MinWords=10, FragmentDelimiter=' || chr(4)),
           h.total
    FROM hits h
    ORDER BY h.rank DESC, h.path
$f$;
GRANT EXECUTE ON FUNCTION mdstore_search(text, text, integer, integer) TO mdstore_member;
"""

# Typed frontmatter for team find: one row per value (a list gives one row per element, a nested
# map dotted keys), kept by statement-level triggers from team_notes.frontmatter, with the same
# typing as the local index: numbers, booleans, dates/datetimes (also ISO strings), text, null.
_V3 = r"""
CREATE TABLE team_properties (
    space text NOT NULL,
    path text NOT NULL,
    key text NOT NULL,
    idx integer,
    type text NOT NULL,
    v_text text,
    v_num double precision,
    v_bool boolean,
    v_time timestamp
);
CREATE INDEX team_properties_path ON team_properties (space, path);
CREATE INDEX team_properties_num ON team_properties (space, key, v_num);
CREATE INDEX team_properties_text ON team_properties (space, key, lower(v_text));
CREATE INDEX team_properties_time ON team_properties (space, key, v_time);

CREATE FUNCTION mdstore_time(value text) RETURNS timestamp LANGUAGE plpgsql IMMUTABLE AS $f$
BEGIN
    IF value !~ '^\d{4}-\d{1,2}-\d{1,2}([T ]\d{1,2}:\d{2}.*)?$' THEN
        RETURN NULL;
    END IF;
    IF value ~ '(Z|[+-]\d{2}:?\d{2})$' THEN
        RETURN value::timestamptz AT TIME ZONE 'UTC';
    END IF;
    RETURN value::timestamp;
EXCEPTION WHEN others THEN
    RETURN NULL;
END $f$;

CREATE FUNCTION mdstore_properties(fm jsonb)
    RETURNS TABLE (key text, idx integer, type text, v_text text, v_num double precision,
                   v_bool boolean, v_time timestamp)
    LANGUAGE sql IMMUTABLE
AS $f$
    WITH RECURSIVE walk(key, value) AS (
        SELECT lower(e.k), e.v FROM jsonb_each(CASE WHEN jsonb_typeof(fm) = 'object' THEN fm END) AS e(k, v)
        UNION ALL
        SELECT w.key || '.' || lower(e.k), e.v
        FROM walk w, jsonb_each(w.value) AS e(k, v)
        WHERE jsonb_typeof(w.value) = 'object'
    ),
    leaves(key, idx, value) AS (
        SELECT key, NULL::integer, value FROM walk WHERE jsonb_typeof(value) NOT IN ('object', 'array')
        UNION ALL
        SELECT w.key, (a.n - 1)::integer, a.v
        FROM walk w, jsonb_array_elements(w.value) WITH ORDINALITY AS a(v, n)
        WHERE jsonb_typeof(w.value) = 'array' AND jsonb_typeof(a.v) NOT IN ('object', 'array')
    )
    SELECT key, idx,
           CASE jsonb_typeof(value)
               WHEN 'number' THEN 'number' WHEN 'boolean' THEN 'bool' WHEN 'null' THEN 'null'
               ELSE CASE WHEN mdstore_time(value #>> '{}') IS NOT NULL THEN 'date' ELSE 'text' END
           END,
           value #>> '{}',
           CASE WHEN jsonb_typeof(value) = 'number' THEN (value #>> '{}')::double precision END,
           CASE WHEN jsonb_typeof(value) = 'boolean' THEN (value #>> '{}')::boolean END,
           CASE WHEN jsonb_typeof(value) = 'string' THEN mdstore_time(value #>> '{}') END
    FROM leaves
$f$;

CREATE FUNCTION mdstore_index_properties() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
AS $f$
BEGIN
    DELETE FROM team_properties p USING changed c WHERE p.space = c.space AND p.path = c.path;
    INSERT INTO team_properties (space, path, key, idx, type, v_text, v_num, v_bool, v_time)
        SELECT c.space, c.path, f.key, f.idx, f.type, f.v_text, f.v_num, f.v_bool, f.v_time
        FROM changed c, mdstore_properties(c.frontmatter) f
        WHERE NOT c.deleted;
    RETURN NULL;
END $f$;
CREATE TRIGGER team_notes_properties_insert AFTER INSERT ON team_notes
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION mdstore_index_properties();
CREATE TRIGGER team_notes_properties_update AFTER UPDATE ON team_notes
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION mdstore_index_properties();

INSERT INTO team_properties (space, path, key, idx, type, v_text, v_num, v_bool, v_time)
    SELECT n.space, n.path, f.key, f.idx, f.type, f.v_text, f.v_num, f.v_bool, f.v_time
    FROM team_notes n, mdstore_properties(n.frontmatter) f
    WHERE NOT n.deleted;

ALTER TABLE team_properties ENABLE ROW LEVEL SECURITY;
ALTER TABLE team_properties FORCE ROW LEVEL SECURITY;
CREATE POLICY member_properties ON team_properties TO mdstore_member
    USING (space IN (SELECT mdstore_my_spaces()));
CREATE POLICY owner_all_properties ON team_properties TO CURRENT_USER USING (true) WITH CHECK (true);
GRANT SELECT ON team_properties TO mdstore_member;
"""

# Cheaper large pushes (a first push of a whole vault writes every note's bytes twice, its body and
# its search vector, and about ten typed frontmatter rows per note):
# - lz4 instead of the default pglz for the large columns, where the server was built with it (every
#   value of a few KB is compressed on the way in; pglz was the largest single cost of the insert
#   after the search vector). Existing values stay as they are until rewritten.
# - the typed frontmatter indexes on numbers and dates hold only the rows that have one (a text
#   value went into all four indexes); comparisons on v_num and v_time are strict, so the planner
#   still uses them.
_V4 = """
DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM pg_settings
               WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        ALTER TABLE team_notes ALTER COLUMN content SET COMPRESSION lz4,
            ALTER COLUMN body SET COMPRESSION lz4, ALTER COLUMN search SET COMPRESSION lz4,
            ALTER COLUMN frontmatter SET COMPRESSION lz4;
        ALTER TABLE team_revisions ALTER COLUMN content SET COMPRESSION lz4,
            ALTER COLUMN frontmatter SET COMPRESSION lz4;
    END IF;
END $$;

DROP INDEX team_properties_num;
CREATE INDEX team_properties_num ON team_properties (space, key, v_num) WHERE v_num IS NOT NULL;
DROP INDEX team_properties_time;
CREATE INDEX team_properties_time ON team_properties (space, key, v_time) WHERE v_time IS NOT NULL;
"""

# Cheaper typed frontmatter upkeep, which runs once per statement that writes notes:
# - the rows of the changed paths are deleted through the (space, path) index; joined with the
#   transition table, the delete was planned as a scan of every space's rows, each statement;
# - no JIT compilation: the planner's estimate for the per-note frontmatter walk is large enough to
#   compile it on every call (a third of a second), for work that takes a tenth of that.
_V5 = """
CREATE OR REPLACE FUNCTION mdstore_index_properties() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public SET jit = off
AS $f$
DECLARE
    s text;
BEGIN
    FOR s IN SELECT DISTINCT c.space FROM changed c LOOP
        DELETE FROM team_properties p
        WHERE p.space = s AND p.path = ANY (ARRAY(SELECT c.path FROM changed c WHERE c.space = s));
    END LOOP;
    INSERT INTO team_properties (space, path, key, idx, type, v_text, v_num, v_bool, v_time)
        SELECT c.space, c.path, f.key, f.idx, f.type, f.v_text, f.v_num, f.v_bool, f.v_time
        FROM changed c, mdstore_properties(c.frontmatter) f
        WHERE NOT c.deleted;
    RETURN NULL;
END $f$;
"""

# Team find served by indexes alone, under row-level security:
# - a member's condition that calls a function on a row's value is checked only after the access
#   rule (``lower`` is not leakproof), row by row, so ``lower(v_text) = ...`` could use no index:
#   the lower-cased text is now a stored column, compared with a plain ``=``;
# - the typed frontmatter indexes carry the path, and the notes' key carries what find filters and
#   sorts on most (modified, deleted, kind, tags), so the candidates are found and ranked without
#   reading a table row; only the page of results returned is read (``team/query.py``);
# - statistics on key and value together: each key has its own values (priority is a number,
#   status a word), which the planner estimated an order of magnitude off from each column alone;
# - no GIN indexes on the notes' frontmatter and tags: no query of mdstore uses them (find reads the
#   typed rows and the covering key), a member's own `@>` or `&&` condition cannot use them under
#   row-level security (those operators are not leakproof), and each push paid for keeping them.
_V6 = """
DROP INDEX team_notes_frontmatter;
DROP INDEX team_notes_tags;
ALTER TABLE team_properties ADD COLUMN v_lower text GENERATED ALWAYS AS (lower(v_text)) STORED;
DROP INDEX team_properties_text;
CREATE INDEX team_properties_text ON team_properties (space, key, v_lower) INCLUDE (path);
DROP INDEX team_properties_num;
CREATE INDEX team_properties_num ON team_properties (space, key, v_num) INCLUDE (path)
    WHERE v_num IS NOT NULL;
DROP INDEX team_properties_time;
CREATE INDEX team_properties_time ON team_properties (space, key, v_time) INCLUDE (path)
    WHERE v_time IS NOT NULL;
CREATE STATISTICS team_properties_key_num (mcv) ON key, v_num FROM team_properties;
CREATE STATISTICS team_properties_key_text (mcv) ON key, v_lower FROM team_properties;
ALTER TABLE team_notes DROP CONSTRAINT team_notes_pkey,
    ADD CONSTRAINT team_notes_pkey PRIMARY KEY (space, path) INCLUDE (updated_at, deleted, kind, tags);
ANALYZE team_properties;
"""

# Search vectors computed beside a large push instead of inside it. A transaction's writes run in one
# server process, and the weighted search vectors were the largest part of a first push's work
# there. `search` becomes a plain column that a trigger always sets, so it is still a function of
# the row's title, headings and body that no client can choose:
# - from the vector staged for that very text (`mdstore_stage_search`, called by a pushing member
#   on a second connection while the push's transaction writes the chunk before; the function
#   checks the caller's membership and computes the vector itself, keyed by a digest of the text);
# - else computed on the spot (any other write, as the generated column did);
# - an update that leaves the text as it was keeps the vector it had.
# Staged vectors are kept for ten minutes (the table is unlogged: a crash empties it, which only
# means computing again).
_V7 = """
ALTER TABLE team_notes ALTER COLUMN search DROP EXPRESSION;

CREATE FUNCTION mdstore_search_vector(title text, headings text, body text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $f$
    SELECT setweight(to_tsvector('english', title), 'A')
        || setweight(to_tsvector('english', headings), 'B')
        || setweight(to_tsvector('english', body), 'C')
$f$;

CREATE FUNCTION mdstore_search_digest(title text, headings text, body text) RETURNS bytea
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $f$
    SELECT sha256(convert_to(length(title) || ':' || title || length(headings) || ':' || headings
                             || body, 'UTF8'))
$f$;

CREATE UNLOGGED TABLE team_search_stage (
    space text NOT NULL,
    digest bytea NOT NULL,
    search tsvector NOT NULL,
    staged_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (space, digest)
);

CREATE FUNCTION mdstore_stage_search(p_space text, p_titles text[], p_headings text[], p_bodies text[])
    RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public SET jit = off
AS $f$
DECLARE
    staged integer;
BEGIN
    IF p_space IS NULL OR p_space NOT IN (SELECT mdstore_readable_spaces()) THEN
        RAISE EXCEPTION 'team space % does not exist or this role is not a member of it', p_space
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    DELETE FROM team_search_stage WHERE space = p_space AND staged_at < now() - interval '10 minutes';
    INSERT INTO team_search_stage (space, digest, search)
        SELECT p_space, mdstore_search_digest(t, h, b), mdstore_search_vector(t, h, b)
        FROM unnest(p_titles, p_headings, p_bodies) AS u(t, h, b)
    ON CONFLICT (space, digest) DO NOTHING;
    GET DIAGNOSTICS staged = ROW_COUNT;
    RETURN staged;
END $f$;
REVOKE ALL ON FUNCTION mdstore_stage_search(text, text[], text[], text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mdstore_stage_search(text, text[], text[], text[]) TO mdstore_member;

CREATE FUNCTION mdstore_set_search() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
AS $f$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.title = OLD.title AND NEW.headings = OLD.headings
            AND NEW.body = OLD.body THEN
        NEW.search := OLD.search;
        RETURN NEW;
    END IF;
    SELECT s.search INTO NEW.search FROM team_search_stage s
    WHERE s.space = NEW.space AND s.digest = mdstore_search_digest(NEW.title, NEW.headings, NEW.body);
    IF NOT FOUND THEN
        NEW.search := mdstore_search_vector(NEW.title, NEW.headings, NEW.body);
    END IF;
    RETURN NEW;
END $f$;
CREATE TRIGGER team_notes_search BEFORE INSERT OR UPDATE ON team_notes
    FOR EACH ROW EXECUTE FUNCTION mdstore_set_search();
"""

# The search index's new entries merged in the second session beside a large push. A GIN index
# takes new entries into a pending list and merges the list into the index when it outgrows
# gin_pending_list_limit (4 MB by default), in whichever write made it outgrow it: during a large
# push, the push's own transaction, about a tenth of its work. A large push now raises the limit
# for its own transaction, and its second session merges the list between chunks (only the owner of
# an index may, hence the function) and once more after the push's commit. The staged vectors are
# compressed with lz4 where the server has it, as the notes' are (staging them was 6 % cheaper).
_V8 = """
DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM pg_settings
               WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        ALTER TABLE team_search_stage ALTER COLUMN search SET COMPRESSION lz4;
    END IF;
END $$;

CREATE FUNCTION mdstore_merge_search_pending() RETURNS bigint
    LANGUAGE sql SECURITY DEFINER SET search_path = public
AS $f$ SELECT gin_clean_pending_list('team_notes_search'::regclass) $f$;
REVOKE ALL ON FUNCTION mdstore_merge_search_pending() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mdstore_merge_search_pending() TO mdstore_member;
"""

# What a client may use only from a schema version on (an administrator may upgrade after members).
LOWER_TEXT_SINCE = 6  # team_properties.v_lower; before it, find computes lower(v_text)
STAGED_SEARCH_SINCE = 7  # mdstore_stage_search; before it, a push computes every search vector
MERGED_SEARCH_SINCE = 8  # mdstore_merge_search_pending; before it, a push merges its own entries

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "spaces, members, notes, revisions, row-level security", _V1),
    Migration(2, "team search through a function that filters on the caller's spaces", _V2),
    Migration(3, "typed frontmatter rows for team find", _V3),
    Migration(4, "lz4 compression of note bytes, partial indexes on typed frontmatter", _V4),
    Migration(5, "typed frontmatter upkeep through the path index, without JIT", _V5),
    Migration(6, "team find through covering indexes, lower-cased text stored", _V6),
    Migration(7, "search vectors set by a trigger, staged beside a large push", _V7),
    Migration(8, "search index entries of a large push merged beside it", _V8),
)
