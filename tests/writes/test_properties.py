"""Property: update(set={k: v}) through the Vault changes only the lines of k."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mdstore

ORIGINAL = "---\n# top comment\ntitle: 'Quoted'   # keep\ntags: [a, b]\ncount: 3\n---\nBody *bytes* stay.\r\n"
KEYS = st.sampled_from(["count", "title", "new_key", "nested.inner"])
VALUES = st.one_of(
    st.integers(-10**6, 10**6),
    st.booleans(),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20),
    st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1)),
    st.lists(st.integers(0, 9), max_size=3),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=KEYS, value=VALUES)
def test_update_touches_only_its_key(key: str, value: object) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "n.md").write_bytes(ORIGINAL.encode())
        with mdstore.open(root, index={"parse_workers": 1}, search={"engine": "none"}) as vault:
            vault.update("n.md", set={key: value})
            after = vault.get("n.md")
        text = (root / "n.md").read_bytes().decode()
        assert text.endswith("---\nBody *bytes* stay.\r\n")
        assert text.startswith("---\n# top comment\n")
        fm = after.frontmatter
        got = fm[key] if "." not in key else fm["nested"]["inner"]
        if isinstance(value, dt.date):
            assert str(got)[:10] == value.isoformat()
        else:
            assert got == value
        untouched = {"title": "title: 'Quoted'   # keep", "tags": "tags: [a, b]", "count": "count: 3"}
        for name, line in untouched.items():
            if name != key:
                assert line in text.splitlines()
