"""The incident stage: `step` holds the Beam stage, the other modules its helpers.

Imports nothing, so importing one helper does not load the rest."""
