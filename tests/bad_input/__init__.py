"""The bad-input corpus: builders for valid and broken delivery files (generated, not committed)."""
