"""Hook service layer: one composer per hook (patient-view, order-select, order-sign), the service
catalogue and the timeline page's reading and rendering; gathers data through ``cds_service.ehr`` and
never imports Flask."""
from .assess import Assessor, Graded, Recommended
from .call import HookCall, HookResult
from .catalogue import ServiceDefinition, catalogue, local_tokens, loinc_tokens
from .service import COMPOSERS, CdsHooks, Composer, TooManyResources
from .timeline import PAGE_DEADLINE_SECONDS, PatientNotFound, TimelinePages, timeline_html

__all__ = ["COMPOSERS", "PAGE_DEADLINE_SECONDS", "Assessor", "CdsHooks", "Composer", "Graded", "HookCall", "HookResult",
           "PatientNotFound", "Recommended", "ServiceDefinition", "TimelinePages", "TooManyResources", "catalogue",
           "local_tokens", "loinc_tokens", "timeline_html"]
