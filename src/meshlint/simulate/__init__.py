"""`meshlint simulate`: a what-if retry storm over the service call graph (discrete events, simpy).

- `model.py`: what each caller's sidecar does on a hop (`Hop`, from the hop's effective retry
  policy and limits), the suggested fixes (`FixPolicy`), and a run's `Result`;
- `run.py`: the simulation itself, and the choice of the entry service;
- `render.py`: text, json, and the `--plot` chart.
"""
