"""The real FHIR server of the integration tests: ``devkit.fhir_server`` (sekmet-fhir), which the
developer kit also serves by hand for the timeline page in development."""
from devkit.fhir_server import TOKEN, SekmetServer, SekmetUnavailable, installed, start

__all__ = ["TOKEN", "SekmetServer", "SekmetUnavailable", "installed", "start"]
