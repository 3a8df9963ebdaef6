"""Reading notes: the Note model, frontmatter, Markdown structure, links and paths."""
