"""Ingest: the dlt sources that land NYC mobility data in the raw layer, and the sample mirror generator."""
