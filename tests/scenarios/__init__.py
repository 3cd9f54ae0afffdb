"""One module per registered service: ``SCENARIO`` for the contract suite (tests/contract_support.py)."""
