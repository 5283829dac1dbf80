"""Logins: changing passwords, adding admin logins, installing the operator. Spyne-free;
the SOAP edges are services/billing/password_service.py (ChangePassword) and
services/reseller/password_service.py (SetPassword), the CLI edge is cli.py."""
