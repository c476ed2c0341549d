"""What every floor of varcolor shares: threads, numba kernels, memory, buffers, the pixel grid's
neighbours, rasters and affinities, option fields and the machine's information (layer 0)."""
