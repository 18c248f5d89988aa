"""`slim analyze`: what is in any deployment zip and what slimming it would save."""
