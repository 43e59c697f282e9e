"""inobhut: the domain core (ingest, validation, warehouse, statistics, reports).

Belongs here: plain Python that does the work and can be called and tested without Dagster.
Does not belong here: Dagster definitions (``pipelines/``, ``assets/``), data contracts
(``schemas/``), templates (``report_templates/``).
"""

__version__ = "0.1.0"
