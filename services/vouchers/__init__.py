"""Refill vouchers: batches of single-use codes, listed, blocked, exported, redeemed over
SOAP and FastAGI (docs/vouchers.md). Spyne-free."""
