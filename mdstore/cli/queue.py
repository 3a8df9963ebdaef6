"""Job queue commands: ``mdstore queue ls|stats|show|enqueue|retry|purge`` and ``mdstore worker``.
Each wraps the queue method of the same name (``ls`` → ``jobs``) on the vault's queue."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from . import State, api_command, cli, pass_state
from .options import json_option
from .output import done, emit_rows, emit_value, message

if TYPE_CHECKING:
    from ..config import Config
    from ..queue import Job, QueueBackend

STATES = ("new", "delayed", "claimed", "done", "dead")
queue_option = click.option("--queue", "queue_name", default="default", show_default=True, help="Queue name.")


def _config(state: State) -> Config:
    from ..config import CONFIG_FILE, STATE_DIR, find_vault_root, load_config
    from ..errors import VaultNotFound

    root = state.vault_path or find_vault_root(Path.cwd())
    if root is None or not Path(root).is_dir():
        raise VaultNotFound(
            f"no vault at {root or Path.cwd()}: no {CONFIG_FILE} or {STATE_DIR}/ here or above "
            "(pass --vault PATH or set MDSTORE_VAULT)"
        )
    return load_config(Path(root).resolve())


def _queue(state: State, name: str) -> QueueBackend:
    from ..queue import open_queue

    return open_queue(_config(state), name)


def _row(job: Job) -> dict[str, Any]:
    row = job.to_dict()
    for key in ("created_at", "not_before"):
        if row[key] is not None:
            row[key] = dt.datetime.fromtimestamp(row[key]).isoformat(timespec="milliseconds")
    return row


@cli.group()
def queue() -> None:
    """The vault's job queue (the spool in .mdstore/queue/, or the team database's on the team tier)."""


@api_command("queue ls")
@click.option("--state", "state_name", type=click.Choice(STATES), help="Only jobs in this state.")
@click.option("--limit", type=int, default=100, show_default=True)
@queue_option
@json_option
@pass_state
def ls(state: State, state_name: str | None, limit: int, queue_name: str, as_json: bool) -> None:
    """List jobs: waiting ones in the order they will run, then running, done and dead ones."""
    from ..queue import JobState

    with _queue(state, queue_name) as q:
        jobs = q.jobs(JobState(state_name) if state_name else None, limit=limit)
    columns = ["id", "kind", "state", "priority", "attempts", "created_at", "not_before", "last_error"]
    rows = [{c: _row(j)[c] for c in columns} for j in jobs]
    for row in rows:
        if row["last_error"]:
            row["last_error"] = row["last_error"].strip().splitlines()[-1]
    emit_rows(rows, as_json, columns)


@api_command("queue stats")
@queue_option
@json_option
@pass_state
def stats(state: State, queue_name: str, as_json: bool) -> None:
    """How many jobs are in each state."""
    with _queue(state, queue_name) as q:
        emit_value(q.stats().to_dict(), as_json)


@api_command("queue show")
@click.argument("job_id")
@queue_option
@json_option
@pass_state
def show(state: State, job_id: str, queue_name: str, as_json: bool) -> None:
    """Everything about one job (the most recent with this id), with its last error."""
    from ..errors import QueueError

    with _queue(state, queue_name) as q:
        job = q.get(job_id)
    if job is None:
        raise QueueError(f"no job {job_id!r} in queue {queue_name!r}")
    emit_value(_row(job), as_json)


@api_command("queue enqueue")
@click.argument("kind")
@click.argument("payload", required=False)
@click.option("--key", help="Makes the job id deterministic: the same KIND and key while waiting is one job.")
@click.option("--priority", type=int, default=0, show_default=True, help="Higher runs first (-999..999).")
@click.option("--delay", type=float, help="Seconds before the job may run.")
@click.option(
    "--max-attempts", type=int, help="Failed runs before the job is dead (default: [queue] setting)."
)
@click.option("--replace", is_flag=True, help="Replace a waiting job with the same id instead of keeping it.")
@click.option(
    "--any-kind", is_flag=True, help="Accept a KIND that no configured handler runs (your own worker)."
)
@queue_option
@json_option
@pass_state
def enqueue(
    state: State,
    kind: str,
    payload: str | None,
    key: str | None,
    priority: int,
    delay: float | None,
    max_attempts: int | None,
    replace: bool,
    any_kind: bool,
    queue_name: str,
    as_json: bool,
) -> None:
    """Add a job of KIND; PAYLOAD is JSON (e.g. '{"paths": ["a.md"]}' for an index job). KIND must be
    one of the vault's kinds or have a handler in [queue] handlers, unless --any-kind."""
    from ..queue import check_kind

    try:
        data = None if payload is None else json.loads(payload)
    except ValueError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="PAYLOAD") from exc
    if not any_kind:
        check_kind(kind, _config(state).queue.handlers)
    with _queue(state, queue_name) as q:
        job = q.enqueue(
            kind, data, key=key, priority=priority, delay=delay, max_attempts=max_attempts, replace=replace
        )
    emit_value(_row(job), as_json)


@api_command("queue retry")
@click.argument("job_id", required=False)
@queue_option
@json_option
@pass_state
def retry(state: State, job_id: str | None, queue_name: str, as_json: bool) -> None:
    """Put dead jobs (JOB_ID, or all) back in the queue with their attempts reset."""
    with _queue(state, queue_name) as q:
        count = q.retry(job_id)
    done({"retried": count}, as_json, f"{count} job(s) back in the queue.")


@api_command("queue purge")
@click.argument("job_id", required=False)
@click.option(
    "--state",
    "state_name",
    type=click.Choice([s for s in STATES if s != "claimed"]),
    default="dead",
    show_default=True,
    help="Which jobs to delete.",
)
@queue_option
@json_option
@pass_state
def purge(state: State, job_id: str | None, state_name: str, queue_name: str, as_json: bool) -> None:
    """Delete jobs in one state (JOB_ID, or all of them): dead ones by default."""
    from ..queue import JobState

    with _queue(state, queue_name) as q:
        count = q.purge(JobState(state_name), job_id=job_id)
    done({"deleted": count, "state": state_name}, as_json, f"{count} {state_name} job(s) deleted.")


@api_command("worker")
@queue_option
@click.option("--concurrency", type=int, help="Jobs run at once, in threads (default: [queue] concurrency).")
@click.option(
    "--claim-batch", type=int, help="Jobs a worker thread claims at once (default: [queue] claim_batch)."
)
@click.option(
    "--burst",
    is_flag=True,
    help="Stop when no job waits (delayed jobs and retries count as waiting) instead of waiting for more.",
)
@json_option
@pass_state
def worker(
    state: State,
    queue_name: str,
    concurrency: int | None,
    claim_batch: int | None,
    burst: bool,
    as_json: bool,
) -> None:
    """Run the queue's jobs until SIGINT/SIGTERM: the vault's own kinds and [queue] handlers.
    A first signal lets the jobs in flight finish; a second gives them back to the queue."""
    import logging

    from ..handlers import vault_handlers
    from ..queue import Worker, load_handlers, open_queue

    config = _config(state)
    handlers = {**vault_handlers(config.root), **load_handlers(config.queue.handlers)}
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with open_queue(config, queue_name) as q:
        from ..queue.outbox import Outbox

        # Work promised by writes that crashed before handing it over goes to the queue first.
        if queue_name == "default":
            backlog = Outbox(config.state_dir, durable=config.queue.fsync).reconcile(q)
        if queue_name == "default" and (backlog.published or backlog.failed):
            message(f"Outbox: {backlog.published} promised jobs enqueued, {backlog.failed} still pending.")
        w = Worker(
            q,
            handlers,
            concurrency=concurrency or config.queue.concurrency,
            claim_batch=config.queue.claim_batch if claim_batch is None else claim_batch,
            ack_delay=config.queue.ack_delay_ms / 1000,
        )
        message(
            f"Worker on queue {queue_name!r} of {config.root} ({', '.join(sorted(handlers))}); Ctrl-C stops."
        )
        report = w.run(burst=burst)
    retry = report.failed - report.dead
    done(
        {
            "done": report.done,
            "failed": report.failed,
            "dead": report.dead,
            "failed_runs": report.failed_runs,
            "released": report.released,
        },
        as_json,
        f"Worker stopped: {report.done} jobs done, {report.failed} failed ({report.dead} dead, "
        f"{retry} to retry; {report.failed_runs} failed runs), {report.released} released.",
    )
