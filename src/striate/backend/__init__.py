"""Array backends: ``reference`` (plain NumPy oracles for every kernel)."""
