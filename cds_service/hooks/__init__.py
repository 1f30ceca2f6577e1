"""Hook service layer: one composer per hook (patient-view, order-select, order-sign) and the
service catalogue; gathers data through ``cds_service.ehr`` and never imports Flask."""
from .assess import Assessor, Graded, Recommended
from .call import HookCall, HookResult
from .catalogue import ServiceDefinition, catalogue, local_tokens, loinc_tokens
from .service import COMPOSERS, CdsHooks, Composer, TooManyResources

__all__ = ["COMPOSERS", "Assessor", "CdsHooks", "Composer", "Graded", "HookCall", "HookResult", "Recommended",
           "ServiceDefinition", "TooManyResources", "catalogue", "local_tokens", "loinc_tokens"]
