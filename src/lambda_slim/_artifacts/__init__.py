"""What a build writes and reads back: inventory, ELF, layers, deterministic zips, the manifest."""
