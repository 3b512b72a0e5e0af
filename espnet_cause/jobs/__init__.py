"""Jobs: the resumable batch runner and parallel (local, Dask, SLURM) execution."""
