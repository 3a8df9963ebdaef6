"""The write commands, checked through the files and the API."""

from __future__ import annotations

from tests.conftest import cli_run


def run(root, *args):
    return cli_run(*args, vault=root)


def test_write_commands(make_vault):
    v = make_vault({"a.md": "---\nx: 1\n---\n[[b]]\n", "b.md": "b\n", "templates/t.md": "# {{title}} {{who}}\n"})
    root = v.root
    assert run(root, "set", "a.md", "x=2", "due=2026-12-01", "flag=true").exit_code == 0
    assert (root / "a.md").read_text() == "---\nx: 2\ndue: 2026-12-01\nflag: true\n---\n[[b]]\n"
    assert run(root, "unset", "a", "flag").exit_code == 0
    assert "flag" not in (root / "a.md").read_text()
    assert run(root, "new", "c", "--template", "t", "--set", "who=me").exit_code == 0
    assert (root / "c.md").read_text() == "# c me\n"
    r = run(root, "new", "c")
    assert r.exit_code == 8 and "Error:" in r.output
    assert run(root, "append", "c", "line", "--under", "Log").exit_code == 0
    assert (root / "c.md").read_text().endswith("## Log\nline\n")
    r = run(root, "mv", "b.md", "sub/b2.md", "--json")
    assert r.exit_code == 0 and '"links": 1' in r.output
    assert (root / "a.md").read_text().endswith("[[b2]]\n")
    assert run(root, "rm", "c").exit_code == 0 and (root / ".trash/c.md").exists()
    assert run(root, "set", "../x", "a=1").exit_code == 5


def test_set_writes_lists_and_maps_as_yaml_flow_values(make_vault):
    v = make_vault({"a.md": "---\ntitle: A\n---\nbody\n"})
    root = v.root
    assert run(root, "set", "a.md", "tags=[a, b]", "project={owner: ann, phase: build}").exit_code == 0
    text = (root / "a.md").read_text()
    assert "title: A" in text
    note = v.get("a.md")
    assert note.frontmatter["tags"] == ["a", "b"] and {"a", "b"} <= set(note.tags)
    assert note.frontmatter["project"] == {"owner": "ann", "phase": "build"}
    assert run(root, "set", "a.md", "label='[draft]'").exit_code == 0
    assert v.get("a.md").frontmatter["label"] == "[draft]"
    bad = run(root, "set", "a.md", "tags=[a, b")
    assert bad.exit_code != 0 and "tags=[a, b" in bad.output and "Traceback" not in bad.output
    assert v.get("a.md").frontmatter["tags"] == ["a", "b"]  # the failed write changed nothing
