"""WSDL documents: built once at start-up, corrected, canonicalised and pinned.

Pinned, because spyne otherwise builds the WSDL from the first `?wsdl` request's Host
header and serves that to everybody (a forged Host was seen served to later clients).
Canonical (sorted, pretty-printed), because spyne's element order is not stable, and
the committed files in wsdl/ must only change when the interface does.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from rating.errors import ERROR_CODES

WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
XS_NS = "http://www.w3.org/2001/XMLSchema"
SOAP_NS = "http://schemas.xmlsoap.org/wsdl/soap/"


def render_wsdl(wsgi_app: Any, url: str) -> bytes:
    """Build the WSDL of a spyne WsgiApplication for `url`, pin it, and return it."""
    doc = wsgi_app.doc.wsdl11
    doc.build_interface_document(url)
    root = etree.fromstring(doc.get_interface_document())
    _fix_header_message_refs(root)
    _declare_faults(root)
    _sort(root)
    text: bytes = etree.tostring(root, pretty_print=True, xml_declaration=True, encoding="UTF-8")
    text = _renumber_prefixes(text)
    wsgi_app._wsdl = text  # what spyne's WsgiApplication serves on ?wsdl from now on
    return text


_PREFIX_DECL = re.compile(rb'xmlns:(s\d+)="([^"]*)"')


def _renumber_prefixes(text: bytes) -> bytes:
    """spyne numbers the namespace prefixes (s0, s1, ...) in an order that is not
    always the same from run to run; number them by namespace URI instead."""
    declared = dict(_PREFIX_DECL.findall(text))
    order = sorted(declared, key=lambda p: declared[p])
    renames = {old: f"s{i}".encode() for i, old in enumerate(order)}
    if all(old == new for old, new in renames.items()):
        return text
    # Via placeholders, so that s1 -> s0 and s0 -> s1 don't collide.
    for old in renames:
        text = re.sub(rb"(?<=[\"\s:])" + old + rb"(?=[:=])", b"@@" + old, text)
    for old, new in renames.items():
        text = text.replace(b"@@" + old, new)
    return text


def _fix_header_message_refs(root: Any) -> None:
    """spyne refers to the header's <wsdl:message> with the header type's namespace
    prefix (s0:Auth) while defining the message in the service's own namespace; strict
    clients (suds) refuse that. Point the reference at the target namespace."""
    tns = root.get("targetNamespace")
    messages = {m.get("name") for m in root.findall(f"{{{WSDL_NS}}}message")}
    tns_prefix = next(p for p, ns in root.nsmap.items() if ns == tns and p)
    for header in root.iter(f"{{{SOAP_NS}}}header"):
        ref = header.get("message", "")
        prefix, _, local = ref.rpartition(":")
        if local in messages and root.nsmap.get(prefix) != tns:
            header.set("message", f"{tns_prefix}:{local}")


# Every operation may answer these (docs/faults.md); the fault's name is its faultcode.
FAULT_CODES = [
    *(f"Client.{code}" for code in ERROR_CODES),
    "Client.SchemaValidationError",
    "Client.XMLSyntaxError",
    "Server",
]
FAULT_ELEMENT = "FaultDetail"


def _declare_faults(root: Any) -> None:
    """wsdl:fault for each documented code, on every operation, so that WSDL-driven
    clients see them. A new operation gets them by construction. The faults carry no
    detail today: the message part names an empty, optional element."""
    tns = root.get("targetNamespace")
    prefix = next(p for p, ns in root.nsmap.items() if ns == tns and p)
    for schema in root.iter(f"{{{XS_NS}}}schema"):
        if schema.get("targetNamespace") == tns:
            element = etree.SubElement(schema, f"{{{XS_NS}}}element", name=FAULT_ELEMENT)
            etree.SubElement(element, f"{{{XS_NS}}}complexType")
    first_message = root.find(f"{{{WSDL_NS}}}message")
    for code in FAULT_CODES:
        message = etree.Element(f"{{{WSDL_NS}}}message", name=f"{code}Fault")
        etree.SubElement(
            message, f"{{{WSDL_NS}}}part", name="detail", element=f"{prefix}:{FAULT_ELEMENT}"
        )
        first_message.addprevious(message)
    for operation in root.iterfind(f"{{{WSDL_NS}}}portType/{{{WSDL_NS}}}operation"):
        for code in FAULT_CODES:
            etree.SubElement(
                operation, f"{{{WSDL_NS}}}fault", name=code, message=f"{prefix}:{code}Fault"
            )
    for operation in root.iterfind(f"{{{WSDL_NS}}}binding/{{{WSDL_NS}}}operation"):
        for code in FAULT_CODES:
            fault = etree.SubElement(operation, f"{{{WSDL_NS}}}fault", name=code)
            etree.SubElement(fault, f"{{{SOAP_NS}}}fault", name=code, use="literal")


def _sort(root: Any) -> None:
    def key(el: Any) -> tuple[str, str, str]:
        return (
            str(el.tag),
            el.get("name") or "",
            el.get("targetNamespace") or el.get("namespace") or "",
        )

    order = {
        f"{{{WSDL_NS}}}{t}": i
        for i, t in enumerate(
            ["documentation", "types", "message", "portType", "binding", "service"]
        )
    }
    root[:] = sorted(root, key=lambda el: (order.get(el.tag, 99), key(el)))
    for types in root.findall(f"{{{WSDL_NS}}}types"):
        types[:] = sorted(types, key=key)
        for schema in types.findall(f"{{{XS_NS}}}schema"):
            imports = sorted(schema.findall(f"{{{XS_NS}}}import"), key=key)
            rest = sorted((e for e in schema if e.tag != f"{{{XS_NS}}}import"), key=key)
            schema[:] = imports + rest
    for container in root.findall(f"{{{WSDL_NS}}}portType") + root.findall(f"{{{WSDL_NS}}}binding"):
        head = [e for e in container if e.tag != f"{{{WSDL_NS}}}operation"]
        ops = sorted(container.findall(f"{{{WSDL_NS}}}operation"), key=key)
        container[:] = head + ops
