"""The console's own use cases: signing in and out (its pages call the other packages')."""
