"""cds_service: the CDS Hooks transport around the clinical layers (no clinical logic here).

Sub-packages: ``http`` (Flask app and routes), ``security`` (JWT trust), ``ehr`` (FHIR data),
``feedback`` (issued cards and outcomes), ``hooks`` (the service layer), ``cli``; ``bootstrap``
builds everything once at start-up.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("crs-cds")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
