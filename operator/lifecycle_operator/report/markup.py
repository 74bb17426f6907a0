"""XML text that every report format shares (pure): characters XML 1.0 can carry, and one serialiser."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Final

# Characters XML 1.0 cannot carry at all (most C0 controls, surrogates, U+FFFE/U+FFFF): a container may
# print anything, and one stray byte in a message must not make the whole report unreadable.
_NOT_XML: Final = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean(text: str) -> str:
    """The text with each character XML cannot carry replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


def serialize(root: ET.Element) -> str:
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
