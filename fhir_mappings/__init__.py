"""fhir_mappings"""
