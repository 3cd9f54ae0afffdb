"""Key populations (Art. 7(4)): community correction, released persons, severe
mental disorder and drug users — enrolment, helper teams, follow-ups, risk,
transfers and exit. See docs/services/key_populations.md."""
