"""Experiments: the experiments in force (the accepted experiments file, from the database),
listing them, a unit's assignment, and the results of an experiment's orders."""
