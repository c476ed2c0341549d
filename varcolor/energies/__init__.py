"""Colorization energies; each module builds the linear system or operator of one energy."""
