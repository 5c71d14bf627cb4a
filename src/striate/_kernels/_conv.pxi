# Python-facing bindings of the conv kernels (included into _C.pyx).
