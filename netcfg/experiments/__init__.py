"""The kinds of run above the trainer: a single run, an ensemble, a study."""
