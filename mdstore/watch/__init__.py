"""The watcher daemon: keeps every index current as files change and serves reads to other
processes over a local socket (docs/watch.md)."""
