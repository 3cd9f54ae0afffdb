"""The pingan services, one package each, every one with the same rooms:
domain.py, application.py, service.py, contracts.py, projections.py."""
