"""Parse untrusted XML before anything else sees it: no DTD, no entities, no network, bounded size."""
from __future__ import annotations

from lxml import etree

from .errors import BpmnTooLarge, InvalidBpmn, Problem

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DOCTYPE_REFUSED = "a DOCTYPE (DTD or entity declarations) is not allowed in a BPMN upload"


def _parser() -> etree.XMLParser:
    # A fresh parser per call: lxml parsers are not thread-safe.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_blank_text=False, collect_ids=False)


def parse_untrusted(data: bytes, limit: int, *, root_namespaces: tuple[str, ...] = (BPMN_NS,),
                    kind: str = "BPMN 2.0") -> etree._ElementTree:
    """Return the lxml tree of a BPMN (or DMN) upload, or raise BpmnTooLarge / InvalidBpmn naming the line."""
    if len(data) > limit:
        raise BpmnTooLarge(len(data), limit)
    if not data.strip():
        raise InvalidBpmn([Problem(None, None, f"the body is empty; send the {kind.split()[0]} XML exported from the "
                                               "modeler")])
    try:
        tree = etree.ElementTree(etree.fromstring(data, _parser()))
    except etree.XMLSyntaxError as exc:
        if b"<!DOCTYPE" in data:  # e.g. libxml2 stopping an entity bomb: say why we refuse, not how it broke
            raise InvalidBpmn([Problem(None, 1, DOCTYPE_REFUSED)]) from None
        raise InvalidBpmn([Problem(None, exc.lineno, f"not well-formed XML: {exc.msg}")]) from None
    except ValueError as exc:  # e.g. a str with an encoding declaration
        raise InvalidBpmn([Problem(None, None, f"not readable XML: {exc}")]) from None
    docinfo = tree.docinfo
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None or docinfo.doctype:
        raise InvalidBpmn([Problem(None, 1, DOCTYPE_REFUSED)])
    if any(isinstance(node, etree._Entity) for node in tree.iter()):
        raise InvalidBpmn([Problem(None, None, "XML entity references are not allowed in a BPMN upload")])
    root = tree.getroot()
    if root.tag not in {f"{{{ns}}}definitions" for ns in root_namespaces}:
        raise InvalidBpmn([Problem(None, root.sourceline,
                                   f"the root element is <{etree.QName(root).localname}>; a {kind} file starts with "
                                   + (f"<bpmn:definitions xmlns:bpmn=\"{BPMN_NS}\">" if root_namespaces == (BPMN_NS,)
                                      else f"<definitions xmlns=\"{root_namespaces[-1]}\">"))])
    return tree
