"""juvenile_protection: minors' cases, intake, coordinated protection, special-school referrals (Art. 7(5))."""
