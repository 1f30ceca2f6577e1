"""Developer kit: FHIR R4 builders and synthetic patient records, shared by the tests, the
benchmarks and the example generator (not part of the service)."""
