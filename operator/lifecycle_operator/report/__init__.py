"""`lifecycle-operator report`: LifecycleTests read from a cluster, written for people and for CI.

The data flows as everywhere else in the package: `read` is the one module that talks to the API (the
kubernetes client's CustomObjectsApi); `model` reads each object once into a typed `TestReport`; `junit`,
`table`, `lanes` and `svg` are pure functions from those to text (`markup` holds what the XML formats
share); `command` ties them together for the CLI.
"""
