"""yamlstat: count the keys and items of YAML documents."""
