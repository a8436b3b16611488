"""One detector module per family of finding kinds; each returns a list of Findings."""
