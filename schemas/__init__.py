"""Data contracts of inobhut: what a delivery looks like and what is checked.

Belongs here: the dataset/column definitions (``datasets``), the code lists and the
member-office reference data (as data files), the pandera schemas and GX suites generated
from them, and the rule catalogue. Does not belong here: reading files, running
validations, or anything that touches the warehouse.
"""
