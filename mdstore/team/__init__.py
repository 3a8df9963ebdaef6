"""The team tier: several clones of a vault share their notes through one PostgreSQL database
(docs/team.md).

- ``client.py``: ``Team``, the ``vault.team`` namespace (init, sync, status, conflicts, log, members);
- ``exchange.py``: one sync (pull, merge, push) and ``report.py`` what it did;
- ``remote.py``: the SQL a clone runs against its space; ``schema.py``: the tables (migrations);
- ``merge.py``: three-way merges with ``git merge-file``; ``conflicts.py``: conflict copies;
- ``state.py``: the per-path bases and pull cursor in ``.mdstore/team/``; ``local.py``: the files;
- ``members.py``: roles and membership; ``settings_file.py``: writing ``[team]`` to mdstore.toml;
- ``live.py``: continuous sync inside the watcher daemon.
"""
