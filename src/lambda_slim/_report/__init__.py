"""The build report and its renderers, budgets, and what a build did not do."""
