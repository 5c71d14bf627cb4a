"""Compiled kernels (Cython bindings over csrc/).  Use striate.kernels, which validates."""
