# Python-facing bindings of the eltwise kernels (included into _C.pyx).
