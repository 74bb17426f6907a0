"""lifecycle-operator: container-lifecycle conformance checks for a node's kubelet, as custom resources."""

__version__ = "0.1.0"
