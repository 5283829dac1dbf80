"""The call shop (docs/callshop.md): booths of a `callshop` account, walk-in sessions,
prices at the shop's own sell sheet. Spyne-free use cases; the SOAP edge is
services/billing/callshop_service.py."""
