"""What a build starts from: the project, its configuration, its lock files, the Lambda target."""
