"""The named rules that decide what is not needed at run time, and applying their decisions."""
