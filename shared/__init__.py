"""The pingan shared kernel: what every service is built on.

Nothing here does work at import time; services build their parts inside
nameko dependency providers, after eventlet has monkey-patched the process.
"""
