"""The no-op RPC baseline: nameko's own cost for a call, with nothing behind it."""

from nameko.rpc import rpc


class NoopService:
    name = "noop"

    @rpc
    def noop(self, **payload):
        return None
