"""Statutory outputs layer: the federal statistic (yearly partitions), the working-day UMA report
and the §42a deadline lists, built from the warehouse after the statistics."""
