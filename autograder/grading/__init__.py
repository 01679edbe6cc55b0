"""Grading a batch: intake, autograde, fingerprints, illustrations skipped, Dask; one worker per student."""
