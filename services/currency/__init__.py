"""Currencies: the table, exchange rates, and conversion of charges, credit and
profit (docs/currencies.md). Spyne-free; the SOAP edge is services/config."""
