"""Mutation testing of the core (`make mutate`)."""
