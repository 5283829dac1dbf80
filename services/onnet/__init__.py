"""On-net calls (the original's "virtual PBX"): calls between accounts of this server.

callee.py recognises them (Authorize), authorize.py answers them (the callee's peer, the
on-net price), pricing.py prices their CDRs. docs/onnet_callback.md. Spyne-free.
"""
