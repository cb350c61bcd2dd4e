"""The promotion gate: Soda checks (scan.py), the approval record (approvals.py) and make promote (promote.py)."""
