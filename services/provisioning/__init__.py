"""Asterisk provisioning from the billing data: the pjsip.conf export, the AMI reload
and the registrations query (spyne-free; the SOAP edges are in services/config and
services/reseller)."""
