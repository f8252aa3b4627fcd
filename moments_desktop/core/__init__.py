"""The logic shared by the GUI, the CLI and the tests. Nothing in here imports Qt."""
