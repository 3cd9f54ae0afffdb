"""Dispute mediation: village → township → county, by the rule of Art. 8."""
