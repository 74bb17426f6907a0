"""Names shared by the API, the pods we build, the handlers and the metrics.

Everything that another program (kubectl, Prometheus, a chart) may depend on lives here, once.
"""

from typing import Final

GROUP: Final = "lifecycle.conformance.dev"
VERSION: Final = "v1alpha1"
KIND: Final = "LifecycleTest"
PLURAL: Final = "lifecycletests"
SINGULAR: Final = "lifecycletest"
SHORT_NAMES: Final = ("lt",)
CATEGORIES: Final = ("conformance",)
CRD_NAME: Final = f"{PLURAL}.{GROUP}"

# Labels and annotations on the pods we create.
LABEL_TEST: Final = f"{GROUP}/test"
LABEL_RUN: Final = f"{GROUP}/run"
LABEL_MANAGED_BY: Final = "app.kubernetes.io/managed-by"
MANAGED_BY: Final = "lifecycle-operator"
ANNOTATION_SPEC_HASH: Final = f"{GROUP}/spec-hash"
# Labels on the per-node LifecycleTests an everyNode test keeps.
LABEL_PARENT: Final = f"{GROUP}/every-node-test"
LABEL_NODE: Final = f"{GROUP}/node"

# The emptyDir every instrumented container shares; it keeps each container's event log across restarts.
EVENT_VOLUME: Final = "lifecycle-events"
EVENT_DIR: Final = "/lifecycle-events"

# Condition types and reasons (CamelCase, by the Kubernetes API conventions).
CONDITION_SUCCEEDED: Final = "Succeeded"
CONDITION_RUNNING: Final = "Running"

REASON_EXPECTATIONS_MET: Final = "ExpectationsMet"
REASON_EXPECTATIONS_FAILED: Final = "ExpectationsFailed"
REASON_TIMED_OUT: Final = "TimedOut"
REASON_POD_LOST: Final = "PodLost"
REASON_INVALID_SPEC: Final = "InvalidSpec"
REASON_INCONCLUSIVE: Final = "Inconclusive"
REASON_QUEUED: Final = "Queued"
REASON_RUN_STARTED: Final = "RunStarted"
REASON_RUN_FINISHED: Final = "RunFinished"
REASON_NODES_PASSED: Final = "AllNodesPassed"
REASON_NODES_FAILED: Final = "NodesFailed"
REASON_NODES_PENDING: Final = "NodesPending"
REASON_NO_NODES: Final = "NoMatchingNodes"

# The printer-column verdict.
RESULT_PASSED: Final = "Passed"
RESULT_FAILED: Final = "Failed"
RESULT_RUNNING: Final = "Running"
RESULT_ERROR: Final = "Error"
RESULT_INCONCLUSIVE: Final = "Inconclusive"
RESULT_QUEUED: Final = "Queued"
# Every result a finished run can have, and so every `verdict` label of the runs counter.
RUN_RESULTS: Final = (RESULT_PASSED, RESULT_FAILED, RESULT_INCONCLUSIVE, RESULT_ERROR)

# Environment variables that configure the operator all start with this.
ENV_PREFIX: Final = "LCO_"
