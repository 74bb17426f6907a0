"""The syntax of Kubernetes names and labels, as the Pod API checks them (apimachinery's validation).

Each syntax is written once here and used three ways: as a schema pattern (pydantic and the CRD), as a
Python check, and, for map keys, which a structural schema cannot constrain, inside a CEL rule. The
patterns are plain ASCII regular expressions that Go's RE2 (the API server) and Rust's regex (pydantic)
read the same way; `$` is the end of the text in both.
"""

from __future__ import annotations

import re
from typing import Final

from lifecycle_operator.api.rules import cel_string

POST_START: Final = "PostStart"
PRE_STOP: Final = "PreStop"

DNS_LABEL_PATTERN: Final = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS_LABEL_MAX: Final = 63
DNS_LABEL_MEANING: Final = (
    "a DNS label: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit"
)

DNS_SUBDOMAIN_PATTERN: Final = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
DNS_SUBDOMAIN_MAX: Final = 253
DNS_SUBDOMAIN_MEANING: Final = (
    "a DNS subdomain: at most 253 characters, DNS labels (lowercase letters, digits and '-') joined by '.'"
)

LABEL_VALUE_PATTERN: Final = r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"
LABEL_VALUE_MAX: Final = 63
LABEL_VALUE_MEANING: Final = (
    "a label value: empty, or at most 63 letters, digits, '-', '_' and '.', starting and ending with a "
    "letter or digit"
)

# A label key: an optional DNS subdomain prefix and '/', then a name. The name's length is bounded inside
# the pattern, since a key (unlike a value) has no maxLength in a schema; the prefix's with LABEL_PREFIX_MAX.
LABEL_KEY_PATTERN: Final = (
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$"
)
LABEL_PREFIX_MAX: Final = DNS_SUBDOMAIN_MAX
LABEL_KEY_MAX: Final = LABEL_PREFIX_MAX + 1 + 63
LABEL_KEY_MEANING: Final = (
    "a label key: an optional DNS subdomain prefix and '/', then a name of at most 63 letters, digits, "
    "'-', '_' and '.' that starts and ends with a letter or digit"
)

# What an image reference (distribution's reference grammar) is made of. Anything else, whitespace
# included, can never be pulled; the Pod API itself refuses only leading and trailing whitespace.
IMAGE_PATTERN: Final = r"^[A-Za-z0-9\[][-A-Za-z0-9._/:@+\[\]]*$"
IMAGE_MAX: Final = 512
IMAGE_MEANING: Final = (
    "an image reference: letters, digits and . _ - / : @ + [ ], with no whitespace, starting with a letter "
    "or digit (or with [ for an IPv6 registry)"
)

# metav1.Condition's reason, which every container state reason the kubelet reports also follows.
REASON_PATTERN: Final = r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$"
REASON_MAX: Final = 128
REASON_MEANING: Final = (
    "a CamelCase reason such as ImagePullBackOff or OOMKilled: letters, digits, '_', ',' and ':', "
    "starting with a letter"
)

# A subject is what recorded an event: a container, or one of its hooks as "PostStart-<container>".
SUBJECT_PATTERN: Final = rf"^(({POST_START}|{PRE_STOP})-)?[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
SUBJECT_MAX: Final = len(f"{POST_START}-") + DNS_LABEL_MAX
SUBJECT_MEANING: Final = (
    f"a container's name (a DNS label), or a hook's: {POST_START}-<container> or {PRE_STOP}-<container>"
)

MEANINGS: Final = {
    DNS_LABEL_PATTERN: DNS_LABEL_MEANING,
    DNS_SUBDOMAIN_PATTERN: DNS_SUBDOMAIN_MEANING,
    LABEL_VALUE_PATTERN: LABEL_VALUE_MEANING,
    LABEL_KEY_PATTERN: LABEL_KEY_MEANING,
    IMAGE_PATTERN: IMAGE_MEANING,
    REASON_PATTERN: REASON_MEANING,
    SUBJECT_PATTERN: SUBJECT_MEANING,
}


def _fullmatch(pattern: str, value: str) -> bool:
    # fullmatch, not match: Python's $ alone would also match before a final newline.
    return re.fullmatch(pattern, value) is not None


def is_dns_label(value: str) -> bool:
    return len(value) <= DNS_LABEL_MAX and _fullmatch(DNS_LABEL_PATTERN, value)


def is_dns_subdomain(value: str) -> bool:
    return len(value) <= DNS_SUBDOMAIN_MAX and _fullmatch(DNS_SUBDOMAIN_PATTERN, value)


def is_label_value(value: str) -> bool:
    return len(value) <= LABEL_VALUE_MAX and _fullmatch(LABEL_VALUE_PATTERN, value)


def is_label_key(key: str) -> bool:
    return (
        len(key) <= LABEL_KEY_MAX and _fullmatch(LABEL_KEY_PATTERN, key) and key.find("/") <= LABEL_PREFIX_MAX
    )


def cel_is_label_key(key: str) -> str:
    """CEL: the string `key` is a label key. The size test comes first so a huge key costs nothing more."""
    return (
        f"size({key}) <= {LABEL_KEY_MAX} && {key}.matches({cel_string(LABEL_KEY_PATTERN)}) && "
        f"{key}.indexOf('/') <= {LABEL_PREFIX_MAX}"
    )
