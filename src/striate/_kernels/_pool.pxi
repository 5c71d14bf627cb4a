# Python-facing bindings of the pool kernels (included into _C.pyx).
