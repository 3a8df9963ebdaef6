"""The Postgres queue's tables, as versioned migrations (component ``queue``).

- ``mdstore_jobs``: one row per job run history (a key enqueued again after its job started is a new
  row). ``state`` is ``waiting`` (new, or delayed while ``not_before`` is ahead), ``claimed``,
  ``done`` or ``dead``; ``claims`` counts the claims of the row and fences them: a consumer's ack,
  fail, release or extend names the claim it holds and does nothing once another claim replaced it.
- ``mdstore_messages`` / ``mdstore_cursors``: pub/sub messages and the positions of durable
  subscriptions.

Times are seconds since the epoch by the *server's* clock, so leases do not depend on how well the
clients' clocks agree.

On the team tier the administrator applies these migrations (``mdstore team init``), and members,
whose roles may not create tables, use the queue through the rights granted to the member group.
"""

from __future__ import annotations

from ..pg import Migration
from ..pg.migrations import MEMBER_ROLE

COMPONENT = "queue"
JOB_CHANNEL = "mdstore_jobs"  # NOTIFY channel of job changes; the payload is the queue's name
MESSAGE_CHANNEL = "mdstore_messages"  # NOTIFY channel of pub/sub; the payload is "<queue>/<channel>"

_V1 = """
CREATE TABLE mdstore_jobs (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    queue text NOT NULL,
    id text NOT NULL,
    kind text NOT NULL,
    payload jsonb,
    priority integer NOT NULL DEFAULT 0,
    state text NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'claimed', 'done', 'dead')),
    attempts integer NOT NULL DEFAULT 0,
    max_attempts integer NOT NULL,
    claims integer NOT NULL DEFAULT 0,
    not_before double precision,
    lease_until double precision,
    created_at double precision NOT NULL,
    finished_at double precision,
    last_error text
);
-- An id waits for its first run at most once: enqueueing it again returns that job.
CREATE UNIQUE INDEX mdstore_jobs_first_run ON mdstore_jobs (queue, id) WHERE state = 'waiting' AND claims = 0;
CREATE INDEX mdstore_jobs_ready ON mdstore_jobs (queue, priority DESC, seq) WHERE state = 'waiting';
CREATE INDEX mdstore_jobs_leases ON mdstore_jobs (queue, lease_until) WHERE state = 'claimed';
CREATE INDEX mdstore_jobs_ids ON mdstore_jobs (queue, id, seq);
CREATE INDEX mdstore_jobs_finished ON mdstore_jobs (queue, finished_at) WHERE state = 'done';

CREATE TABLE mdstore_messages (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    queue text NOT NULL,
    channel text NOT NULL,
    message jsonb,
    published_at double precision NOT NULL
);
CREATE INDEX mdstore_messages_channel ON mdstore_messages (queue, channel, seq);

CREATE TABLE mdstore_cursors (
    queue text NOT NULL,
    channel text NOT NULL,
    name text NOT NULL,
    position bigint NOT NULL,
    PRIMARY KEY (queue, channel, name)
);
"""

# The team's members (the group role of the team schema) use the queue: enqueue, claim, ack, fail,
# retry, purge and prune jobs, publish, read and prune messages, keep durable cursors. The role is
# made here too when this role may (so a queue set up before the team schema still gets the grants);
# a queue owner that may not create roles, outside any team, simply has no members to grant to.
_V2 = f"""
DO $$ BEGIN
    CREATE ROLE {MEMBER_ROLE} NOLOGIN;
EXCEPTION WHEN duplicate_object OR insufficient_privilege THEN NULL;
END $$;
DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{MEMBER_ROLE}') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON mdstore_jobs, mdstore_messages, mdstore_cursors
            TO {MEMBER_ROLE};
        GRANT SELECT ON mdstore_schema TO {MEMBER_ROLE};
    END IF;
END $$;
"""

MIGRATIONS = (
    Migration(1, "jobs, messages and subscription cursors", _V1),
    Migration(2, "the team's members may use the queue", _V2),
)
