"""Words: how the service says numbers, units, times, readings, findings and orders to clinicians.

Grading's findings and evidence (``findings``, ``evidence``, ``readings``; ICANS findings in ``neuro``),
the protocol's rules, recommendations, dose arithmetic, reasons, notes and order-check findings
(``protocol``, ``recommendations``, ``doses``, ``reasons``, ``orders``), and the patient-view cards' own
lines: the assessment (``assessment``), the protocol's part of them (``plan``) and the override reasons
(``overrides``). Every time goes through ``times.when``, in the deployment's time zone. The clinical
layers pass typed values; only this package (used by the cards and the CLI renderers) turns them into
text, so that a card and ``crs-cds grade`` say the same thing and a change of wording is made in one
place.
"""
