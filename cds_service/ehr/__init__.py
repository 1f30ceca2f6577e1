"""EHR data: prefetch, the FHIR client filling its gaps, history queries, and the one guard
(``guard.FhirServer``) that alone decides where the EHR's access token may go."""
from .client import ClientLimits, FhirClient
from .errors import FetchRejected, FetchUnavailable
from .fetch import FhirFetcher
from .gather import CallData, DataUnavailable, Gatherer
from .guard import FhirServer, ServerNotAllowed
from .history import HistoryPlan

__all__ = ["CallData", "ClientLimits", "DataUnavailable", "FetchRejected", "FetchUnavailable", "FhirClient",
           "FhirFetcher", "FhirServer", "Gatherer", "HistoryPlan", "ServerNotAllowed"]
