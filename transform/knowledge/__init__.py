"""What the official template is, as data (data/*.csv) and the pure functions that read it."""
