"""The sandbox: what a box holds, the confined kernels, the warm kernel server, the integrity verification."""
