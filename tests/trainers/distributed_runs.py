"""Train several configs, one after the other, in each process torchrun starts (the
data-parallel tests launch it): ``distributed_runs.py JOBS.json``, a list of
``{"config": {...}, "out": DIR}``; ``"resume": true`` resumes DIR instead."""

from __future__ import annotations

import json
import sys

import netcfg

if __name__ == "__main__":
    for job in json.loads(open(sys.argv[1], encoding="utf-8").read()):
        netcfg.train(job["config"], out=job["out"], resume=job.get("resume", False))
