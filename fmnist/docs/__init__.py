"""The pages' generated passages and pictures: every figure of the committed run in README.md and docs/, rendered
from the files git holds (bin/docs writes them, tests/test_docs.py fails when one is stale)."""
