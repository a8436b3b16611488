"""`make bench`: each module in this package with a ``run(args) -> str`` (a Markdown section)
contributes to docs/benchmarks.md. See __main__.py."""
