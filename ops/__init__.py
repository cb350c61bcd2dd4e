"""The daily workflows around the warehouse: `make diff`, `make ui`, `make run` and `make restate`.

Each module is a small command (`python -m ops.<name>`) that the Makefile calls. Every write to the warehouse runs
under the project's one-writer lock (`ingest.lock.warehouse_lock`); processes they start inherit it.
"""
